package paych

import "github.com/mycelnet/mycel/types"

// Codespace of the payment channels' result codes.
const Codespace = "paych"

// Result codes. Never renumber.
var (
	ErrMalformed      = types.NewError(Codespace, 2, "malformed payment channel message")
	ErrInvalidAmount  = types.NewError(Codespace, 3, "invalid amount")
	ErrInvalidPayee   = types.NewError(Codespace, 4, "invalid payee")
	ErrInvalidKey     = types.NewError(Codespace, 5, "invalid voucher key")
	ErrUnknownChannel = types.NewError(Codespace, 6, "unknown channel")
	ErrNotPayer       = types.NewError(Codespace, 7, "not the channel's payer")
	ErrNotPayee       = types.NewError(Codespace, 8, "not the channel's payee")
	ErrNotParty       = types.NewError(Codespace, 9, "neither the channel's payer nor its payee")
	ErrBadSignature   = types.NewError(Codespace, 10, "voucher signature does not verify")
	ErrStaleNonce     = types.NewError(Codespace, 11, "voucher nonce not above the lane's")
	ErrExceedsDeposit = types.NewError(Codespace, 12, "voucher exceeds the channel's deposit")
	ErrVoucherExpired = types.NewError(Codespace, 13, "voucher expired")
	ErrSettling       = types.NewError(Codespace, 14, "channel is settling")
	ErrSettled        = types.NewError(Codespace, 15, "channel's settle height has passed")
	ErrNotSettled     = types.NewError(Codespace, 16, "channel cannot be collected yet")
	ErrClosed         = types.NewError(Codespace, 17, "channel is closed")
	ErrOverflow       = types.NewError(Codespace, 18, "amount overflow")
	ErrInvalidQuery   = types.NewError(Codespace, 19, "invalid channel query")
	ErrInvalidVoucher = types.NewError(Codespace, 20, "invalid voucher")
)

// errs lists the result codes, for ErrorOf.
var errs = []*types.Error{ErrMalformed, ErrInvalidAmount, ErrInvalidPayee, ErrInvalidKey, ErrUnknownChannel, ErrNotPayer,
	ErrNotPayee, ErrNotParty, ErrBadSignature, ErrStaleNonce, ErrExceedsDeposit, ErrVoucherExpired, ErrSettling, ErrSettled,
	ErrNotSettled, ErrClosed, ErrOverflow, ErrInvalidQuery, ErrInvalidVoucher}

// ErrorOf returns the error of a result code of this codespace (as a
// client reads it back from a node), or nil if the code is not one.
func ErrorOf(code uint32) *types.Error {
	for _, e := range errs {
		if e.Code == code {
			return e
		}
	}
	return nil
}
