package bank

import "github.com/mycelnet/mycel/types"

// Codespace of the bank module's result codes.
const Codespace = "bank"

// Result codes. Never renumber.
var (
	ErrInsufficientFunds = types.NewError(Codespace, 2, "insufficient funds")
	ErrInvalidAmount     = types.NewError(Codespace, 3, "invalid amount")
	ErrMalformed         = types.NewError(Codespace, 4, "malformed bank message")
	ErrBlockedRecipient  = types.NewError(Codespace, 5, "recipient is a module account")
	ErrOverflow          = types.NewError(Codespace, 6, "amount overflow")
)
