package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mycelnet/mycel/blobstore"
	"github.com/mycelnet/mycel/types"
)

// Errors a Backend returns (wrapped) so that handlers answer the right
// status.
var (
	ErrNotFound    = errors.New("not found")
	ErrBadRequest  = errors.New("bad request")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("unavailable")
)

// TxRefusedError is a transaction the mempool's check refused.
type TxRefusedError struct {
	Result SubmitResult
}

func (e *TxRefusedError) Error() string { return e.Result.Log }

// codeName turns a chain error's message into a stable code such as
// "bank:insufficient_funds".
func codeName(space, msg string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(msg) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '_':
			b.WriteByte('_')
		}
	}
	return space + ":" + strings.Trim(b.String(), "_")
}

// statusOf maps an error to its HTTP status and code: the one place that
// does.
func statusOf(err error) (int, ErrorDetail) {
	d := ErrorDetail{Message: err.Error()}
	if status, md, ok := messagingStatus(err, d); ok {
		return status, md
	}
	var refused *TxRefusedError
	var chainErr *types.Error
	switch {
	case errors.As(err, &refused):
		h := refused.Result.Hash
		d.Hash, d.ABCICode, d.Codespace = &h, refused.Result.Code, refused.Result.Codespace
		d.Code = "tx_refused"
		return http.StatusUnprocessableEntity, d
	case errors.As(err, &chainErr):
		d.Code = codeName(chainErr.Codespace, chainErr.Msg)
		return http.StatusBadRequest, d
	case errors.Is(err, blobstore.ErrNotFound), errors.Is(err, ErrNotFound):
		d.Code = "not_found"
		return http.StatusNotFound, d
	case errors.Is(err, blobstore.ErrTooLarge):
		d.Code = "blob_too_large"
		return http.StatusRequestEntityTooLarge, d
	case errors.Is(err, blobstore.ErrQuota):
		d.Code = "quota_exceeded"
		return http.StatusTooManyRequests, d
	case errors.Is(err, blobstore.ErrBadSignature), errors.Is(err, blobstore.ErrExpired):
		d.Code = "unauthorized"
		return http.StatusUnauthorized, d
	case errors.Is(err, blobstore.ErrUnknownAccount):
		d.Code = "unknown_account"
		return http.StatusForbidden, d
	case errors.Is(err, errUnauthorized):
		d.Code = "unauthorized"
		return http.StatusUnauthorized, d
	case errors.Is(err, errForbidden):
		d.Code = "forbidden"
		return http.StatusForbidden, d
	case errors.Is(err, ErrBadRequest):
		d.Code = "bad_request"
		return http.StatusBadRequest, d
	case errors.Is(err, ErrConflict):
		d.Code = "conflict"
		return http.StatusConflict, d
	case errors.Is(err, ErrBadCard):
		d.Code = "bad_agent_card"
		return http.StatusBadGateway, d
	case errors.Is(err, ErrUnavailable):
		d.Code = "unavailable"
		return http.StatusServiceUnavailable, d
	default:
		d.Code = "internal"
		return http.StatusInternalServerError, d
	}
}

func writeError(w http.ResponseWriter, err error) {
	status, d := statusOf(err)
	writeJSON(w, status, ErrorBody{Error: d})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		// The status is sent; all that is left is to note it.
		fmt.Fprintf(w, "\n")
	}
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}
