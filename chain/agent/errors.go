package agent

import "github.com/mycelnet/mycel/types"

// Codespace of the agent registry's result codes.
const Codespace = "agent"

// Result codes. Never renumber.
var (
	ErrMalformed         = types.NewError(Codespace, 2, "malformed agent message")
	ErrUnknownAgent      = types.NewError(Codespace, 3, "unknown agent")
	ErrNotOwner          = types.NewError(Codespace, 4, "not the agent's owner")
	ErrInvalidName       = types.NewError(Codespace, 5, "invalid agent name")
	ErrInvalidText       = types.NewError(Codespace, 6, "invalid agent text")
	ErrInvalidSkill      = types.NewError(Codespace, 7, "invalid agent skill")
	ErrInvalidCard       = types.NewError(Codespace, 8, "invalid agent card")
	ErrInvalidEndpoint   = types.NewError(Codespace, 9, "invalid agent endpoint")
	ErrInvalidKey        = types.NewError(Codespace, 10, "invalid signing key")
	ErrInvalidAmount     = types.NewError(Codespace, 11, "invalid amount")
	ErrInvalidOwner      = types.NewError(Codespace, 12, "invalid owner")
	ErrWrongStatus       = types.NewError(Codespace, 13, "agent's status does not allow this")
	ErrNotForSale        = types.NewError(Codespace, 14, "agent is not for sale")
	ErrPriceMoved        = types.NewError(Codespace, 15, "sale price above the buyer's limit")
	ErrOpenChannels      = types.NewError(Codespace, 16, "owner has open payment channels")
	ErrInCollective      = types.NewError(Codespace, 17, "agent belongs to a collective")
	ErrUnknownCollective = types.NewError(Codespace, 18, "unknown collective")
	ErrNotManager        = types.NewError(Codespace, 19, "not the collective's manager")
	ErrInvalidSplit      = types.NewError(Codespace, 20, "invalid revenue split")
	ErrNotMember         = types.NewError(Codespace, 21, "agent is not in the collective")
	ErrStaleProposal     = types.NewError(Codespace, 22, "no such split proposal")
	ErrCollectiveClosed  = types.NewError(Codespace, 23, "collective is closed")
	ErrNotActive         = types.NewError(Codespace, 24, "collective has no agreed split yet")
	ErrInvalidRating     = types.NewError(Codespace, 25, "invalid rating")
	ErrSelfRating        = types.NewError(Codespace, 26, "an owner cannot rate its own agent")
	ErrUnknownReport     = types.NewError(Codespace, 27, "unknown report")
	ErrNotReporter       = types.NewError(Codespace, 28, "not the report's reporter")
	ErrReportClosed      = types.NewError(Codespace, 29, "report is no longer open")
	ErrOverflow          = types.NewError(Codespace, 30, "amount overflow")
	ErrInvalidQuery      = types.NewError(Codespace, 31, "invalid agent query")
	ErrNotValidator      = types.NewError(Codespace, 32, "not a bonded validator")
	ErrBallotWindow      = types.NewError(Codespace, 33, "outside the ballot window")
	ErrBadBallot         = types.NewError(Codespace, 34, "ballot does not match its commitment")
)

// errs lists the result codes, for ErrorOf.
var errs = []*types.Error{ErrMalformed, ErrUnknownAgent, ErrNotOwner, ErrInvalidName, ErrInvalidText, ErrInvalidSkill,
	ErrInvalidCard, ErrInvalidEndpoint, ErrInvalidKey, ErrInvalidAmount, ErrInvalidOwner, ErrWrongStatus, ErrNotForSale,
	ErrPriceMoved, ErrOpenChannels, ErrInCollective, ErrUnknownCollective, ErrNotManager, ErrInvalidSplit, ErrNotMember,
	ErrStaleProposal, ErrCollectiveClosed, ErrNotActive, ErrInvalidRating, ErrSelfRating, ErrUnknownReport, ErrNotReporter,
	ErrReportClosed, ErrOverflow, ErrInvalidQuery, ErrNotValidator, ErrBallotWindow, ErrBadBallot}

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
