package agent

import (
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/chain/ballot"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Reports of misbehaviour are judgement calls (an agent that did not
// deliver), so validators decide them, as they decide the disputes of
// compute that the referees cannot: for ReportVoteBlocks after a report
// each bonded validator may commit a ballot, the hash of (report, voter,
// vote, salt); for ReportRevealBlocks after that it reveals it. At the
// end each revealed ballot weighs its validator's bond then; the heavier
// side wins, deterministically:
//
//   - upheld: ReportSlash of the agent's deposit is taken, half to the
//     reporter, half burned, and the reporter's bond comes back;
//   - rejected: ReportBurn of the bond is burned, the rest goes to the
//     agent's owner;
//   - a tie, or no ballots: nothing is decided and the bond comes back.
//
// The reporter may withdraw the report until it is decided. An agent
// with an open report is not refunded its deposit until the report is
// decided.

// Votes on a report.
const (
	VoteReject uint8 = 1 // the agent did nothing wrong
	VoteUphold uint8 = 2 // the report is right
)

// Ballots on reports: chain/ballot's commit-then-reveal vote.
type (
	MsgReportBallot = ballot.MsgCommit
	MsgReportReveal = ballot.MsgReveal
)

// ballots are the report ballots in state: agent/b/{report}{validator}.
var ballots = ballot.Box{Prefix: prefixBallot, Domain: "mycel/agent-ballot/v1\x00"}

// BallotCommitment is what a validator commits before revealing its vote
// on a report.
func BallotCommitment(report uint64, voter types.Address, vote uint8, salt [32]byte) types.Hash {
	return ballots.Commitment(report, voter, vote, salt)
}

// DecodeMsgReportBallot parses a ballot's body.
func DecodeMsgReportBallot(b []byte) (MsgReportBallot, error) {
	m, err := ballot.DecodeCommit(b)
	if err != nil {
		return m, ErrMalformed.Wrapf("report ballot: %v", err)
	}
	return m, nil
}

// DecodeMsgReportReveal parses a reveal's body.
func DecodeMsgReportReveal(b []byte) (MsgReportReveal, error) {
	m, err := ballot.DecodeReveal(b)
	if err != nil {
		return m, ErrMalformed.Wrapf("report reveal: %v", err)
	}
	return m, nil
}

// openReport loads a report still open for ballots.
func openReport(r store.Reader, id uint64) (*Report, error) {
	rep := GetReport(r, id)
	switch {
	case rep == nil:
		return nil, ErrUnknownReport.Wrapf("no report %d", id)
	case !rep.Open():
		return nil, ErrReportClosed.Wrapf("report %d is %s", id, map[bool]string{true: "withdrawn", false: "decided"}[rep.Withdrawn != 0])
	}
	return rep, nil
}

// HandleReportBallot records a validator's committed ballot.
func (k Keeper) HandleReportBallot(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgReportBallot(body)
	if err != nil {
		return err
	}
	rep, err := openReport(ctx.KV, m.Subject)
	if err != nil {
		return err
	}
	a := Get(ctx.KV, rep.Agent)
	switch {
	case k.Validators == nil || k.Validators.ValidatorBond(ctx.KV, signer) == 0:
		return ErrNotValidator.Wrapf("%s: only bonded validators vote on reports", signer)
	case ctx.Block.Height > rep.VoteEnd:
		return ErrBallotWindow.Wrapf("report %d took ballots until height %d; reveal yours until %d", rep.ID, rep.VoteEnd, rep.RevealEnd)
	case signer == rep.Reporter || (a != nil && signer == a.Owner):
		return ErrNotValidator.Wrapf("a party to report %d cannot vote on it", rep.ID)
	}
	ballots.Commit(ctx.KV, rep.ID, signer, m.Commitment)
	ctx.Emit(types.NewEvent("report_ballot", "id", idStr(rep.ID), "voter", signer.String()))
	return nil
}

// HandleReportReveal opens a committed ballot.
func (k Keeper) HandleReportReveal(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgReportReveal(body)
	if err != nil {
		return err
	}
	rep, err := openReport(ctx.KV, m.Subject)
	if err != nil {
		return err
	}
	if h := ctx.Block.Height; h <= rep.VoteEnd || h > rep.RevealEnd {
		return ErrBallotWindow.Wrapf("report %d's ballots are revealed from height %d to %d", rep.ID, rep.VoteEnd+1, rep.RevealEnd)
	}
	switch err := ballots.Reveal(ctx.KV, m, signer); {
	case errors.Is(err, ballot.ErrNoCommit):
		return ErrBallotWindow.Wrapf("%s committed no ballot on report %d, or revealed it already", signer, rep.ID)
	case err != nil:
		return ErrBadBallot.Wrapf("ballot of %s on report %d", signer, rep.ID)
	}
	ctx.Emit(types.NewEvent("report_ballot_revealed", "id", idStr(rep.ID), "voter", signer.String(), "vote", types.U64(uint64(m.Vote))))
	return nil
}

// decideReports tallies the reports whose reveal window ends at h.
func (k Keeper) decideReports(ctx exec.Ctx, h int64) error {
	next := store.Key(store.BE64(uint64(h + 1)))
	for _, e := range store.CollectRange(ctx.KV, prefixReportDue, store.Key(prefixReportDue, next)) {
		ctx.KV.Delete(e.Key)
		rep := GetReport(ctx.KV, idAt(e.Key))
		if rep == nil {
			return fmt.Errorf("report entry %x names no report", e.Key)
		}
		if err := k.decide(ctx, rep); err != nil {
			return fmt.Errorf("decide report %d: %w", rep.ID, err)
		}
	}
	return nil
}

func (k Keeper) decide(ctx exec.Ctx, rep *Report) error {
	weight := func(v types.Address) types.Amount {
		if k.Validators == nil {
			return 0
		}
		return k.Validators.ValidatorBond(ctx.KV, v)
	}
	sums := ballots.Tally(ctx.KV, rep.ID, weight)
	if !rep.Open() {
		return nil // withdrawn: its bond went back then
	}
	uphold, reject := sums[VoteUphold], sums[VoteReject]
	p := GetParams(ctx.KV)
	h := ctx.Block.Height
	a := Get(ctx.KV, rep.Agent)
	bond := rep.Bond
	var taken, burned types.Amount
	switch {
	case uphold > reject && a != nil:
		rep.Outcome = "upheld"
		taken = a.Deposit.MulFraction(p.ReportSlash)
		toReporter := taken / 2
		burned = taken - toReporter
		a.Deposit -= taken
		if err := k.Bank.Send(ctx.KV, Deposits, rep.Reporter, bond+toReporter); err != nil {
			return err
		}
	case reject > uphold && a != nil:
		rep.Outcome = "rejected"
		burned = bond.MulFraction(p.ReportBurn)
		if err := k.Bank.Send(ctx.KV, Deposits, a.Owner, bond-burned); err != nil {
			return err
		}
	default:
		rep.Outcome = "undecided"
		if err := k.Bank.Send(ctx.KV, Deposits, rep.Reporter, bond); err != nil {
			return err
		}
	}
	if burned > 0 {
		if err := k.Bank.Burn(ctx.KV, Deposits, burned); err != nil {
			return err
		}
	}
	rep.Decided = h
	ctx.KV.Set(reportKey(rep.ID), rep.encode())
	if a != nil {
		a.OpenReports--
		save(ctx.KV, a, h)
	}
	ctx.Emit(types.NewEvent("report_decided", "id", idStr(rep.ID), "agent", idStr(rep.Agent), "outcome", rep.Outcome,
		"uphold", amt(uphold), "reject", amt(reject), "deposit_taken", amt(taken), "burned", amt(burned)))
	return nil
}
