package stake

import "github.com/mycelnet/mycel/types"

// Codespace of the stake module's result codes.
const Codespace = "stake"

// Result codes. Never renumber.
var (
	ErrMalformed        = types.NewError(Codespace, 2, "malformed stake message")
	ErrInvalidAmount    = types.NewError(Codespace, 3, "invalid amount")
	ErrUnknownPurpose   = types.NewError(Codespace, 4, "unknown stake purpose")
	ErrInsufficientBond = types.NewError(Codespace, 5, "bond too small")
	ErrConsensusKey     = types.NewError(Codespace, 6, "bad consensus key")
	ErrNotJailed        = types.NewError(Codespace, 7, "not jailed")
	ErrStillJailed      = types.NewError(Codespace, 8, "still jailed")
	ErrTombstoned       = types.NewError(Codespace, 9, "banned for proven fraud")
	ErrNoBond           = types.NewError(Codespace, 10, "no bond")
)
