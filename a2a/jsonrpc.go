package a2a

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// JSON-RPC and A2A error codes.
const (
	CodeParseError            = -32700
	CodeInvalidRequest        = -32600
	CodeMethodNotFound        = -32601
	CodeInvalidParams         = -32602
	CodeInternal              = -32603
	CodeTaskNotFound          = -32001
	CodeTaskNotCancelable     = -32002
	CodePushNotSupported      = -32003
	CodeUnsupportedOperation  = -32004
	CodeContentTypeNotSupport = -32005
	CodeInvalidAgentResponse  = -32006
	CodeExtendedCardNotConfig = -32007
)

// Error is a JSON-RPC error.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (JSON-RPC error %d)", e.Message, e.Code) }

// Errorf returns a JSON-RPC error of a code.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// TaskNotFound is the error for an unknown task id.
func TaskNotFound(id string) *Error { return Errorf(CodeTaskNotFound, "task %q not found", id) }

// SendRequest is a SendMessage (1.0) or message/send (0.3) call.
type SendRequest struct {
	Version Version
	Message Message
	// Blocking asks to wait for a terminal or interrupted state (1.0's
	// returnImmediately false, 0.3's blocking; the default in both here).
	Blocking bool
	// HistoryLength is how many messages of history to return; -1 for
	// all.
	HistoryLength       int
	AcceptedOutputModes []string
	Metadata            map[string]any
}

// SendResult is a task or, for an agent that answers at once, a message.
type SendResult struct {
	Task    *Task
	Message *Message
}

// Service is what answers the binding's calls.
type Service interface {
	SendMessage(ctx context.Context, r SendRequest) (SendResult, error)
	GetTask(ctx context.Context, id string, historyLength int) (Task, error)
}

// MaxRequestBytes bounds a JSON-RPC request's body.
const MaxRequestBytes = 1 << 20

type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Handler serves the JSON-RPC binding over s: POST a request, get a
// response, always with HTTP status 200 as JSON-RPC over HTTP does (a
// request too large to read gets 413).
func Handler(s Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "A2A JSON-RPC: POST a request", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
		if err != nil {
			writeRPC(w, nil, nil, Errorf(CodeParseError, "read request: %v", err))
			return
		}
		if len(body) > MaxRequestBytes {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_ = json.NewEncoder(w).Encode(rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"),
				Error: Errorf(CodeInvalidRequest, "request of more than %d bytes", MaxRequestBytes)})
			return
		}
		result, id, rerr := Dispatch(r.Context(), s, body)
		writeRPC(w, id, result, rerr)
	})
}

func writeRPC(w http.ResponseWriter, id json.RawMessage, result any, e *Error) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	w.Header().Set("Content-Type", "application/json")
	resp := rpcResponse{JSONRPC: "2.0", ID: id}
	if e != nil {
		resp.Error = e
	} else {
		resp.Result = result
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// Dispatch runs one JSON-RPC request against s and returns the result (in
// the request's protocol version), the request's id, or an error.
func Dispatch(ctx context.Context, s Service, body []byte) (any, json.RawMessage, *Error) {
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil {
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
			return nil, nil, Errorf(CodeInvalidRequest, "batch requests are not supported")
		}
		return nil, nil, Errorf(CodeParseError, "not a JSON-RPC request: %v", err)
	}
	id := req.ID
	if len(id) > 0 && id[0] != '"' && id[0] != 'n' && (id[0] < '0' || id[0] > '9') && id[0] != '-' {
		return nil, nil, Errorf(CodeInvalidRequest, "id must be a string, a number or null")
	}
	if req.JSONRPC != "2.0" {
		return nil, id, Errorf(CodeInvalidRequest, "jsonrpc must be \"2.0\"")
	}
	if req.Method == "" {
		return nil, id, Errorf(CodeInvalidRequest, "a method is required")
	}
	switch req.Method {
	case "SendMessage":
		return send(ctx, s, V1, req.Params, id)
	case "message/send":
		return send(ctx, s, V03, req.Params, id)
	case "GetTask":
		return get(ctx, s, V1, req.Params, id)
	case "tasks/get":
		return get(ctx, s, V03, req.Params, id)
	case "SendStreamingMessage", "message/stream", "SubscribeToTask", "tasks/resubscribe":
		alt := "SendMessage"
		if strings.Contains(req.Method, "/") {
			alt = "message/send"
		}
		return nil, id, Errorf(CodeUnsupportedOperation, "%s: this agent does not stream (its card says streaming: false); use %s", req.Method, alt)
	case "CancelTask", "tasks/cancel":
		return nil, id, Errorf(CodeTaskNotCancelable, "%s: tasks here cannot be canceled", req.Method)
	case "CreateTaskPushNotificationConfig", "GetTaskPushNotificationConfig", "ListTaskPushNotificationConfigs",
		"DeleteTaskPushNotificationConfig", "tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/get",
		"tasks/pushNotificationConfig/list", "tasks/pushNotificationConfig/delete":
		return nil, id, Errorf(CodePushNotSupported, "%s: push notifications are not supported", req.Method)
	case "GetExtendedAgentCard", "agent/getAuthenticatedExtendedCard":
		return nil, id, Errorf(CodeExtendedCardNotConfig, "%s: no extended card", req.Method)
	}
	return nil, id, Errorf(CodeMethodNotFound, "method %q: this agent serves SendMessage and GetTask (1.0), message/send and tasks/get (0.3)", req.Method)
}

type sendParams struct {
	Message       json.RawMessage `json:"message"`
	Configuration *struct {
		AcceptedOutputModes []string `json:"acceptedOutputModes"`
		HistoryLength       *int     `json:"historyLength"`
		ReturnImmediately   *bool    `json:"returnImmediately"`
		Blocking            *bool    `json:"blocking"`
	} `json:"configuration"`
	Metadata map[string]any `json:"metadata"`
}

func send(ctx context.Context, s Service, v Version, raw json.RawMessage, id json.RawMessage) (any, json.RawMessage, *Error) {
	var p sendParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, id, Errorf(CodeInvalidParams, "params: %v", err)
	}
	if len(p.Message) == 0 {
		return nil, id, Errorf(CodeInvalidParams, "params.message is required")
	}
	m, err := ParseMessage(p.Message)
	if err != nil {
		return nil, id, Errorf(CodeInvalidParams, "params.%v", err)
	}
	if m.Role != RoleUser {
		return nil, id, Errorf(CodeInvalidParams, "params.message: a client's message has role user")
	}
	req := SendRequest{Version: v, Message: m, Blocking: true, HistoryLength: -1, Metadata: p.Metadata}
	if c := p.Configuration; c != nil {
		req.AcceptedOutputModes = c.AcceptedOutputModes
		if c.HistoryLength != nil {
			if *c.HistoryLength < 0 {
				return nil, id, Errorf(CodeInvalidParams, "historyLength must not be negative")
			}
			req.HistoryLength = *c.HistoryLength
		}
		if c.ReturnImmediately != nil {
			req.Blocking = !*c.ReturnImmediately
		}
		if c.Blocking != nil {
			req.Blocking = *c.Blocking
		}
	}
	res, err := s.SendMessage(ctx, req)
	if err != nil {
		return nil, id, rpcError(err)
	}
	switch {
	case res.Task != nil && v == V1:
		return map[string]any{"task": res.Task.WithHistory(req.HistoryLength).wire(v)}, id, nil
	case res.Task != nil:
		return res.Task.WithHistory(req.HistoryLength).wire(v), id, nil
	case res.Message != nil && v == V1:
		return map[string]any{"message": res.Message.wire(v)}, id, nil
	case res.Message != nil:
		return res.Message.wire(v), id, nil
	}
	return nil, id, Errorf(CodeInternal, "the agent returned neither a task nor a message")
}

func get(ctx context.Context, s Service, v Version, raw json.RawMessage, id json.RawMessage) (any, json.RawMessage, *Error) {
	var p struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		HistoryLength *int   `json:"historyLength"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, id, Errorf(CodeInvalidParams, "params: %v", err)
	}
	if p.ID == "" {
		// Drafts of 1.0 named the task "tasks/{id}".
		p.ID = strings.TrimPrefix(p.Name, "tasks/")
	}
	if p.ID == "" {
		return nil, id, Errorf(CodeInvalidParams, "params.id is required")
	}
	n := -1
	if p.HistoryLength != nil {
		if *p.HistoryLength < 0 {
			return nil, id, Errorf(CodeInvalidParams, "historyLength must not be negative")
		}
		n = *p.HistoryLength
	}
	t, err := s.GetTask(ctx, p.ID, n)
	if err != nil {
		return nil, id, rpcError(err)
	}
	return t.WithHistory(n).wire(v), id, nil
}

func rpcError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Errorf(CodeInternal, "%v", err)
}
