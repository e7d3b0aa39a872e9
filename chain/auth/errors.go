package auth

import "github.com/mycelnet/mycel/types"

// Codespace of the auth module's result codes.
const Codespace = "auth"

// Result codes. Never renumber.
var (
	ErrMalformedTx     = types.NewError(Codespace, 2, "malformed transaction")
	ErrBadSignature    = types.NewError(Codespace, 3, "signature does not verify")
	ErrWrongChain      = types.NewError(Codespace, 4, "wrong chain id")
	ErrBadSequence     = types.NewError(Codespace, 5, "wrong sequence")
	ErrExpired         = types.NewError(Codespace, 6, "transaction expired")
	ErrInsufficientFee = types.NewError(Codespace, 7, "fee below the schedule")
	ErrTxTooLarge      = types.NewError(Codespace, 8, "transaction too large")
	ErrCannotPayFee    = types.NewError(Codespace, 9, "cannot pay the fee")
	ErrUnknownMsg      = types.NewError(Codespace, 10, "unknown message kind")
)
