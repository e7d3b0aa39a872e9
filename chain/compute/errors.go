package compute

import "github.com/mycelnet/mycel/types"

// Codespace of the compute module's result codes.
const Codespace = "compute"

// Result codes. Never renumber.
var (
	ErrMalformed       = types.NewError(Codespace, 2, "malformed compute message")
	ErrInvalidProfile  = types.NewError(Codespace, 3, "invalid provider profile")
	ErrStakeTooLow     = types.NewError(Codespace, 4, "provider stake too low")
	ErrNotProvider     = types.NewError(Codespace, 5, "not a registered provider")
	ErrInvalidJob      = types.NewError(Codespace, 6, "invalid job")
	ErrNoJob           = types.NewError(Codespace, 7, "no such job")
	ErrNotAssigned     = types.NewError(Codespace, 8, "job not assigned to this provider")
	ErrWrongState      = types.NewError(Codespace, 9, "job is not in the right state")
	ErrBadReveal       = types.NewError(Codespace, 10, "reveal does not match the commitment")
	ErrNotClient       = types.NewError(Codespace, 11, "not the job's client")
	ErrEscrowFee       = types.NewError(Codespace, 12, "the job's escrow does not pay this fee")
	ErrTooEarly        = types.NewError(Codespace, 13, "too early")
	ErrNotSupported    = types.NewError(Codespace, 14, "not supported yet")
	ErrProviderJailed  = types.NewError(Codespace, 15, "provider stake is jailed")
	ErrInsufficientPay = types.NewError(Codespace, 16, "maximum price too low")
	ErrNoChallenge     = types.NewError(Codespace, 17, "the job cannot be challenged")
)
