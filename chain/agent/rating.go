package agent

import (
	"math/bits"

	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Reputation is computed only from paid ratings, in integer parts per
// million. Each rating weighs its payment in multiples of the minimum,
// capped at MaxRatingWeight:
//
//	weight = min(amount / MinRatingPayment, 10)
//
// and the record keeps the sums of weights and of weight × stars, both
// decayed by RatingKeep per epoch (lazily: when they next change, or when
// read). The score is the average of the stars, pulled towards three
// stars by a prior of two ratings, mapped from 1..5 stars to 0..1:
//
//	avg        = (Σ weight·stars + 3·2) / (Σ weight + 2)
//	reputation = (avg − 1) / 4
//
// A new agent scores one half; one rated five stars by many paid tasks
// approaches one; one rated one star approaches zero. A rating costs its
// payment (to the owner, less RatingBurn, which is burned), so an owner
// who rates its own agent through another account loses the burned part
// every time, and a heavier rating costs proportionally more.

// MaxRatingWeight caps the weight of one rating, in multiples of the
// minimum payment.
const MaxRatingWeight = 10

// repUnit is one rating's weight in the record: thousandths.
const repUnit = 1000

// priorWeight is the prior's weight: two ratings of three stars.
const priorWeight = 2 * repUnit

// powFraction returns f^n in parts per million, by squaring: the same
// bits on every machine, and O(log n) however long the agent was idle.
func powFraction(f types.Fraction, n int64) uint64 {
	result, base := uint64(types.FractionOne), uint64(f)
	for n > 0 && result > 0 {
		if n&1 == 1 {
			result = result * base / types.FractionOne
		}
		base = base * base / types.FractionOne
		n >>= 1
	}
	return result
}

// scale returns floor(v·f / 10⁶) without overflow (f ≤ 10⁶).
func scale(v, f uint64) uint64 {
	hi, lo := bits.Mul64(v, f)
	q, _ := bits.Div64(hi, lo, types.FractionOne)
	return q
}

// decayTo brings the record forward to epoch e.
func (r *Rep) decayTo(e int64, keep types.Fraction) {
	if e <= r.Epoch {
		return
	}
	n := e - r.Epoch
	r.Epoch = e
	if r.Weight|r.Stars == 0 || keep == types.FractionOne {
		return
	}
	f := powFraction(keep, n)
	r.Weight, r.Stars = scale(r.Weight, f), scale(r.Stars, f)
}

// epoch returns the reputation epoch of height h.
func epoch(h int64, p Params) int64 { return h / p.RatingEpochBlocks }

// Reputation returns an agent's score at height h, in parts per million.
func Reputation(a *Agent, h int64, p Params) uint32 {
	r := a.Rep
	r.decayTo(epoch(h, p), p.RatingKeep)
	num := r.Stars + 3*priorWeight
	den := r.Weight + priorWeight
	if num < den {
		// Stars are at least one per unit of weight; only a corrupt
		// record gets here.
		return 0
	}
	hi, lo := bits.Mul64(num-den, types.FractionOne)
	q, _ := bits.Div64(hi, lo, 4*den)
	return uint32(min(q, types.FractionOne))
}

// HandleRate rates an agent: the signer pays Amount to the agent's owner
// (less the burned part) in the same message, and the rating counts in
// the agent's reputation with a weight that grows with the payment.
func (k Keeper) HandleRate(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgRate(body)
	if err != nil {
		return err
	}
	a := Get(ctx.KV, m.Agent)
	if a == nil {
		return ErrUnknownAgent.Wrapf("no agent %d", m.Agent)
	}
	if err := allow(a, "rate it", Active, Expired, Unbonding); err != nil {
		return err
	}
	p := GetParams(ctx.KV)
	switch {
	case m.Stars < 1 || m.Stars > 5:
		return ErrInvalidRating.Wrapf("%d stars: rate 1 to 5", m.Stars)
	case signer == a.Owner:
		return ErrSelfRating.Wrapf("%s owns agent %d", signer, a.ID)
	case m.Amount < p.MinRatingPayment:
		return ErrInvalidAmount.Wrapf("a rating pays at least %s; %s offered", p.MinRatingPayment, m.Amount)
	}
	burn := m.Amount.MulFraction(p.RatingBurn)
	if err := k.Bank.Send(ctx.KV, signer, a.Owner, m.Amount-burn); err != nil {
		return err
	}
	if burn > 0 {
		if err := k.Bank.Burn(ctx.KV, signer, burn); err != nil {
			return err
		}
	}
	w := min(uint64(m.Amount)/uint64(p.MinRatingPayment), MaxRatingWeight) * repUnit
	h := ctx.Block.Height
	a.Rep.decayTo(epoch(h, p), p.RatingKeep)
	a.Rep.Weight += w
	a.Rep.Stars += w * uint64(m.Stars)
	a.Rep.Count++
	save(ctx.KV, a, h)
	kv := []string{"id", idStr(a.ID), "rater", signer.String(), "stars", types.U64(uint64(m.Stars)), "amount", amt(m.Amount),
		"burned", amt(burn), "reputation", types.U64(uint64(Reputation(a, h, p)))}
	if !m.Task.IsZero() {
		kv = append(kv, "task", m.Task.String())
	}
	ctx.Emit(types.NewEvent("agent_rated", kv...))
	return nil
}

// HandleReport records a bonded claim of misbehaviour against an agent.
// Nothing is decided now: the record and its event are for the dispute
// track, and the reporter may withdraw it (and take the bond back) while
// it is open.
func (k Keeper) HandleReport(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgReport(body)
	if err != nil {
		return err
	}
	a := Get(ctx.KV, m.Agent)
	if a == nil {
		return ErrUnknownAgent.Wrapf("no agent %d", m.Agent)
	}
	if err := allow(a, "report it", Active, Expired, Unbonding); err != nil {
		return err
	}
	p := GetParams(ctx.KV)
	if m.Bond < p.ReportBond {
		return ErrInvalidAmount.Wrapf("a report's bond is at least %s; %s offered", p.ReportBond, m.Bond)
	}
	if m.Reason == "" {
		return ErrInvalidText.Wrapf("a report says what the agent did: give a reason")
	}
	if err := validText(m.Reason, MaxReasonLen); err != nil {
		return ErrInvalidText.Wrapf("reason: %v", err)
	}
	if err := k.Bank.Send(ctx.KV, signer, Deposits, m.Bond); err != nil {
		return err
	}
	h := ctx.Block.Height
	r := &Report{ID: nextID(ctx.KV, keyReportSeq), Agent: a.ID, Reporter: signer, Bond: m.Bond, Evidence: m.Evidence,
		Reason: m.Reason, Height: h, VoteEnd: h + p.ReportVoteBlocks}
	r.RevealEnd = r.VoteEnd + p.ReportRevealBlocks
	ctx.KV.Set(reportKey(r.ID), r.encode())
	ctx.KV.Set(store.Key(prefixReportDue, store.BE64(uint64(r.RevealEnd)), store.BE64(r.ID)), []byte{})
	ctx.KV.Set(agentReportKey(a.ID, r.ID), []byte{})
	a.OpenReports++
	save(ctx.KV, a, h)
	kv := []string{"id", idStr(r.ID), "agent", idStr(a.ID), "reporter", signer.String(), "bond", amt(r.Bond), "reason", r.Reason,
		"vote_until", types.U64(uint64(r.VoteEnd)), "reveal_until", types.U64(uint64(r.RevealEnd))}
	if !r.Evidence.IsZero() {
		kv = append(kv, "evidence", r.Evidence.String())
	}
	ctx.Emit(types.NewEvent("agent_reported", kv...))
	return nil
}

// HandleWithdrawReport withdraws an open report the signer made and pays
// its bond back.
func (k Keeper) HandleWithdrawReport(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgWithdrawReport(body)
	if err != nil {
		return err
	}
	r := GetReport(ctx.KV, m.Report)
	if r == nil {
		return ErrUnknownReport.Wrapf("no report %d", m.Report)
	}
	if r.Reporter != signer {
		return ErrNotReporter.Wrapf("report %d was made by %s, not %s", r.ID, r.Reporter, signer)
	}
	if !r.Open() {
		return ErrReportClosed.Wrapf("report %d was withdrawn at height %d", r.ID, r.Withdrawn)
	}
	if err := k.Bank.Send(ctx.KV, Deposits, r.Reporter, r.Bond); err != nil {
		return err
	}
	h := ctx.Block.Height
	r.Withdrawn = h
	ctx.KV.Set(reportKey(r.ID), r.encode())
	a := Get(ctx.KV, r.Agent)
	a.OpenReports--
	save(ctx.KV, a, h)
	ctx.Emit(types.NewEvent("report_withdrawn", "id", idStr(r.ID), "agent", idStr(a.ID), "bond", amt(r.Bond)))
	return nil
}
