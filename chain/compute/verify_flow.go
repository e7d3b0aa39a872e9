package compute

import (
	"fmt"
	"math/bits"

	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// The life of a verification group, driven by its runs' commits, reveals
// and misses and by the end-block draws. Rules, each checked by a
// scenario in testdata/scenarios/verify_*:
//
//   - A run of a group reveals only once every run it could copy from has
//     committed: redundant providers wait for each other, an optimistic
//     provider for its audit draw and its auditor's commitment, referees
//     for the other referees of their round.
//   - Runs that all agree settle: each is paid for its gas at its price.
//     Any disagreement, a lone revealed result in redundant mode, or a
//     challenge goes to drawn referees; the result a strict majority of a
//     round's referees reproduce is the truth.
//   - A run whose result differs from the truth is a proven fault: it is
//     not paid, its escrow goes back to the client, and its provider is
//     slashed, jailed (and banned if the parameters say so); the reporter
//     share of the slash pays the referees who reproduced the truth and
//     the challenger who proved the fault.
//   - A run that goes silent after committing is not replaced (its
//     replacement could copy the others' reveals): it misses, and the
//     group goes on without it.

// runs loads a group's runs.
func runs(ctx exec.Ctx, ids []uint64) []*Job {
	out := make([]*Job, 0, len(ids))
	for _, id := range ids {
		if j := GetJob(ctx.KV, id); j != nil {
			out = append(out, j)
		}
	}
	return out
}

// uncommitted reports whether a run could still commit.
func uncommitted(j *Job) bool { return j.State == Queued || j.State == Assigned }

// revealGate says whether a grouped run may reveal now.
func (k Keeper) revealGate(ctx exec.Ctx, j *Job) error {
	g := GetGroup(ctx.KV, j.Group)
	if g == nil {
		return nil
	}
	var wait []uint64
	switch {
	case j.Role == RoleReferee:
		wait = g.currentReferees()
	case g.Mode == VerifyRedundant:
		wait = g.Members
	case g.Mode == VerifyOptimistic && j.Role == RoleProvider:
		if !g.Drawn {
			return ErrTooEarly.Wrapf("job %d: its audit is drawn at the end of block %d; reveal after that", g.ID, g.DrawHeight)
		}
		wait = g.Members
	}
	for _, r := range runs(ctx, wait) {
		if r.ID != j.ID && uncommitted(r) {
			return ErrTooEarly.Wrapf("job %d: run %d (%s) has not committed yet; reveal once it has", g.ID, r.ID, r.Role)
		}
	}
	return nil
}

// gateOpen reports whether revealGate lets j reveal.
func (k Keeper) gateOpen(ctx exec.Ctx, j *Job) bool { return k.revealGate(ctx, j) == nil }

// openGate gives every committed run of the group that may now reveal
// at least RevealBlocks to do so.
func (k Keeper) openGate(ctx exec.Ctx, g *Group) {
	p := GetParams(ctx.KV)
	h := ctx.Block.Height
	for _, r := range runs(ctx, append(append([]uint64(nil), g.Members...), g.currentReferees()...)) {
		if r.State != Committed || !k.gateOpen(ctx, r) || r.Deadline >= h+p.Verification.RevealBlocks {
			continue
		}
		ctx.KV.Delete(queueKey(prefixDeadline, r.Deadline, store.BE64(r.ID)))
		r.Deadline = h + p.Verification.RevealBlocks
		ctx.KV.Set(queueKey(prefixDeadline, r.Deadline, store.BE64(r.ID)), []byte{})
		setJob(ctx.KV, r)
	}
}

// onCommit follows a grouped run's commitment.
func (k Keeper) onCommit(ctx exec.Ctx, j *Job) {
	g := GetGroup(ctx.KV, j.Group)
	if g == nil || g.Finished() {
		return
	}
	if g.Mode == VerifyOptimistic && j.Role == RoleProvider && !g.Drawn && g.DrawHeight <= ctx.Block.Height {
		// The draw uses the beacon of a later block, which mixes
		// randomness the validators made after this commitment.
		g.DrawHeight = ctx.Block.Height + 1
		ctx.KV.Set(queueKey(prefixDraw, g.DrawHeight, store.BE64(g.ID)), []byte{})
		setGroup(ctx.KV, g)
	}
	k.openGate(ctx, g)
}

// onReveal follows a grouped run's reveal: the run gives its slot back
// and waits for the group's verdict.
func (k Keeper) onReveal(ctx exec.Ctx, j *Job) error {
	k.release(ctx, j)
	j.State = Revealed
	setJob(ctx.KV, j)
	g := GetGroup(ctx.KV, j.Group)
	if g == nil {
		return fmt.Errorf("job %d names missing group %d", j.ID, j.Group)
	}
	return k.progress(ctx, g)
}

// missGrouped handles a grouped run that missed a deadline, after the
// miss was punished. It reports whether it dealt with the run; provider
// runs that never committed go back to the queue like any job.
func (k Keeper) missGrouped(ctx exec.Ctx, p Params, j *Job, why string) (bool, error) {
	g := GetGroup(ctx.KV, j.Group)
	if g == nil {
		return false, nil
	}
	committed := j.CommittedAt > 0
	if j.Role == RoleProvider && !committed {
		return false, nil
	}
	if !committed && j.Attempts+1 < p.MaxAttempts {
		// A drawn run that never committed is drawn again.
		missed := j.Provider
		k.unlock(ctx, j)
		j.Excluded = append(j.Excluded, missed)
		j.Attempts++
		price := j.Price
		j.Provider, j.Price, j.AssignedAt, j.Acked, j.AckDeadline, j.Deadline = types.Address{}, 0, 0, false, 0, 0
		j.FeesPaid = 0
		if pr := k.drawProvider(ctx, p, j, uint64(j.Attempts)); pr != nil {
			k.assign(ctx, p, j, pr)
			j.Price = price
			setJob(ctx.KV, j)
			return true, nil
		}
	}
	if committed {
		// A run that committed and then withheld its result may have
		// seen that it is checked (its audit was drawn, the others
		// revealed): withholding must cost what a proven lie costs, or
		// the stake lock would not bound cheating's gain. It is jailed,
		// not banned: nothing proves what it committed to.
		if _, err := k.penalise(ctx, p, j, "withheld a committed result", nil, false); err != nil {
			return true, err
		}
	} else if err := k.finish(ctx, j, Failed, why, 0); err != nil {
		return true, err
	}
	k.openGate(ctx, g)
	return true, k.progress(ctx, g)
}

// groupProgress moves a run's group on, if it has one, after the run
// finished outside the group's own steps (a queue expiry, too many
// misses).
func (k Keeper) groupProgress(ctx exec.Ctx, j *Job) error {
	if j.Group == 0 {
		return nil
	}
	if g := GetGroup(ctx.KV, j.Group); g != nil {
		k.openGate(ctx, g) // the runs it held back may reveal now
		return k.progress(ctx, g)
	}
	return nil
}

// progress moves a group on after one of its runs changed.
func (k Keeper) progress(ctx exec.Ctx, g *Group) error {
	if g.Finished() || g.Phase == PhaseChallenge {
		return nil
	}
	if g.Phase == PhaseRefereeing {
		return k.tally(ctx, g)
	}
	members := runs(ctx, g.Members)
	var revealed []*Job
	for _, r := range members {
		switch {
		case r.State == Revealed:
			revealed = append(revealed, r)
		case !r.State.Finished():
			return nil // still running
		}
	}
	if g.Mode == VerifyRedundant {
		switch {
		case len(revealed) == 0:
			return k.failGroup(ctx, g, "no provider revealed a result")
		case len(revealed) >= 2 && agree(revealed):
			return k.judge(ctx, g, revealed[0].resultKey(), fmt.Sprintf("%d providers agree", len(revealed)))
		}
		return k.startRound(ctx, g, "the providers disagree, or too few revealed")
	}
	// Optimistic: the provider's run, and the auditor's if one was drawn.
	prov := members[0]
	if prov.State != Revealed {
		for _, a := range revealed { // an auditor did its part
			if err := k.settleRun(ctx, a); err != nil {
				return err
			}
		}
		return k.failGroup(ctx, g, "the provider revealed no result")
	}
	if len(revealed) == 2 {
		if agree(revealed) {
			return k.judge(ctx, g, prov.resultKey(), "the audit agrees")
		}
		return k.startRound(ctx, g, "the auditor's result differs from the provider's")
	}
	if !g.Drawn {
		return nil
	}
	g.Phase, g.FinalAt = PhaseChallenge, ctx.Block.Height+GetParams(ctx.KV).Verification.ChallengeBlocks
	ctx.KV.Set(queueKey(prefixFinal, g.FinalAt, store.BE64(g.ID)), []byte{})
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("job_challenge_window", "id", types.U64(g.ID), "until", types.U64(uint64(g.FinalAt))))
	return nil
}

func agree(rs []*Job) bool {
	for _, r := range rs[1:] {
		if r.resultKey() != rs[0].resultKey() {
			return false
		}
	}
	return true
}

// drawRun draws a provider for a new auditor or referee run of the group
// and assigns it, or returns nil when no provider is eligible.
func (k Keeper) drawRun(ctx exec.Ctx, p Params, spec *Job, g *Group, role Role, escrow, price types.Amount, excl []types.Address, salt uint64) *Job {
	probe := &Job{ID: g.ID, Req: spec.Req, Excluded: excl, Runtime: spec.Runtime}
	pr := k.drawProvider(ctx, p, probe, salt)
	if pr == nil {
		return nil
	}
	r := newRun(ctx, spec, g, role, escrow)
	r.Excluded = excl
	if role == RoleReferee {
		k.fundReferee(ctx, p, r)
	}
	k.assign(ctx, p, r, pr)
	r.Price = price
	setJob(ctx.KV, r)
	return r
}

// fundReferee gives a referee run the fee allowance from the provider
// reward pool, so that a drawn provider with no spare tokens can still
// acknowledge, commit and reveal; what its fees leave goes back to the
// pool when the run finishes. Referees are paid for their work from the
// fault they prove (or the bond a challenger loses) and by the pool's
// share of their gas.
func (k Keeper) fundReferee(ctx exec.Ctx, p Params, r *Job) {
	amt := min(p.FeeAllowance, k.Bank.Balance(ctx.KV, k.RewardPool))
	r.Client = k.RewardPool
	if amt == 0 || k.Bank.Send(ctx.KV, k.RewardPool, Escrow, amt) != nil {
		return
	}
	r.Escrow, r.MaxPrice = amt, amt
}

// participants are the providers a group's new referees must not be.
func participants(ctx exec.Ctx, g *Group) []types.Address {
	var out []types.Address
	for _, r := range runs(ctx, append(append([]uint64(nil), g.Members...), g.Referees...)) {
		if !r.Provider.IsZero() {
			out = append(out, r.Provider)
		}
		out = append(out, r.Excluded...)
	}
	for _, c := range g.Claims {
		out = append(out, c.Provider)
	}
	if !g.Challenger.IsZero() {
		out = append(out, g.Challenger)
	}
	return dedupe(out)
}

func dedupe(as []types.Address) []types.Address {
	var out []types.Address
	for _, a := range as {
		seen := false
		for _, b := range out {
			if a == b {
				seen = true
				break
			}
		}
		if !seen && len(out) < 60 {
			out = append(out, a)
		}
	}
	return out
}

// startRound draws a round of referees to re-execute the group's job.
func (k Keeper) startRound(ctx exec.Ctx, g *Group, why string) error {
	p := GetParams(ctx.KV)
	spec := GetJob(ctx.KV, g.Members[0])
	excl := participants(ctx, g)
	g.Phase = PhaseRefereeing
	g.Round++
	var drawn []string
	for i := uint32(0); i < p.Verification.Referees; i++ {
		r := k.drawRun(ctx, p, spec, g, RoleReferee, 0, 0, excl, uint64(g.Round)<<8|uint64(i))
		if r == nil {
			break
		}
		g.Referees = append(g.Referees, r.ID)
		excl = append(excl, r.Provider)
		drawn = append(drawn, types.U64(r.ID))
	}
	g.RoundSize = uint32(len(drawn))
	setGroup(ctx.KV, g)
	if len(drawn) == 0 {
		return k.failGroup(ctx, g, why+"; no provider could be drawn to referee")
	}
	ctx.Emit(types.NewEvent("referees_drawn", "id", types.U64(g.ID), "round", types.U64(uint64(g.Round)),
		"reason", why, "referees", joinIDs(drawn)))
	return nil
}

func joinIDs(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += id
	}
	return s
}

// tally counts the current round once every referee is done. Honest
// re-executions of deterministic work agree bit for bit, so a round
// decides only when the referees that revealed all agree and are more
// than half of those drawn: the truth. Any disagreement among referees
// means one of them is wrong, and another round is drawn (the wrong one
// is judged with the rest once a round decides); after MaxRounds the
// group fails unjudged. A single wrong referee therefore never decides,
// and capturing a round takes every referee in it.
func (k Keeper) tally(ctx exec.Ctx, g *Group) error {
	refs := runs(ctx, g.currentReferees())
	for _, r := range refs {
		if r.State != Revealed && !r.State.Finished() {
			return nil
		}
	}
	if g.Planted {
		return k.judgePlanted(ctx, g, refs)
	}
	if g.Mode == VerifyDispute {
		return k.tallyChecks(ctx, g, refs)
	}
	counts := map[types.Hash]uint32{}
	var order []types.Hash // first-seen order, so the tally never ranges over the map
	for _, r := range refs {
		if r.State != Revealed {
			continue
		}
		key := r.resultKey()
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
	}
	if len(order) == 1 && counts[order[0]]*2 > g.RoundSize {
		return k.judge(ctx, g, order[0], fmt.Sprintf("%d of %d referees reproduced it", counts[order[0]], g.RoundSize))
	}
	if g.Round < GetParams(ctx.KV).Verification.MaxRounds {
		return k.startRound(ctx, g, "the referees did not agree")
	}
	return k.failGroup(ctx, g, "no strict majority of referees after the last round")
}

// settleRun pays a run whose result stands for its metered gas.
func (k Keeper) settleRun(ctx exec.Ctx, r *Job) error {
	if r.State.Finished() {
		return nil
	}
	if r.RunFailure != "" {
		return k.finish(ctx, r, Failed, "the job failed: "+r.RunFailure, r.GasUsed)
	}
	return k.finish(ctx, r, Succeeded, "", r.GasUsed)
}

// judge settles a group on its truth: runs that reproduced it are paid,
// the others are proven faults; a challenger wins or loses its bond.
func (k Keeper) judge(ctx exec.Ctx, g *Group, truth types.Hash, outcome string) error {
	p := GetParams(ctx.KV)
	all := runs(ctx, append(append([]uint64(nil), g.Members...), g.Referees...))
	var provers []types.Address
	var faulty []*Job
	matched := 0
	for _, r := range all {
		if r.State != Revealed {
			continue
		}
		if r.resultKey() != truth {
			faulty = append(faulty, r)
			continue
		}
		matched++
		if g.Output.IsZero() {
			g.Output = r.Output
		}
		if r.Role == RoleReferee {
			provers = append(provers, r.Provider)
		}
		if err := k.settleRun(ctx, r); err != nil {
			return err
		}
	}
	if !g.Challenger.IsZero() {
		if err := k.settleBond(ctx, p, g, all[0].resultKey() != truth, &provers); err != nil {
			return err
		}
	}
	var reporter *types.Address
	if len(provers) > 0 {
		reporter = &Escrow
	}
	var shares types.Amount
	for _, f := range faulty {
		paid, err := k.fault(ctx, p, f, "its result differs from re-execution", reporter)
		if err != nil {
			return err
		}
		shares += paid
	}
	if err := k.split(ctx, shares, provers); err != nil {
		return err
	}
	if matched >= 2 && len(all) > 0 && all[0].resultKey() == truth {
		recordReference(ctx, all[0].ID)
	}
	g.Truth, g.Phase, g.Outcome = truth, PhaseSettled, outcome
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("job_verified", "id", types.U64(g.ID), "outcome", outcome,
		"output", g.Output.String(), "faults", types.U64(uint64(len(faulty)))))
	return nil
}

// settleBond returns a winning challenger's bond, or splits a losing one
// between burning and the referees who settled the challenge.
func (k Keeper) settleBond(ctx exec.Ctx, p Params, g *Group, won bool, provers *[]types.Address) error {
	bond := g.Bond
	g.Bond = 0
	if won {
		*provers = append(*provers, g.Challenger)
		ctx.Emit(types.NewEvent("challenge_won", "id", types.U64(g.ID), "challenger", g.Challenger.String()))
		return k.Bank.Send(ctx.KV, Escrow, g.Challenger, bond)
	}
	burn := bond.MulFraction(p.Verification.BondBurn)
	rest := bond - burn
	if len(*provers) == 0 {
		burn, rest = bond, 0
	}
	if err := k.Bank.Burn(ctx.KV, Escrow, burn); err != nil {
		return err
	}
	ctx.Emit(types.NewEvent("challenge_lost", "id", types.U64(g.ID), "challenger", g.Challenger.String(),
		"burned", types.U64(uint64(burn)), "to_referees", types.U64(uint64(rest))))
	return k.split(ctx, rest, *provers)
}

// split pays an amount held in the escrow account equally to addrs; the
// remainder of the division goes to the first.
func (k Keeper) split(ctx exec.Ctx, amt types.Amount, addrs []types.Address) error {
	if amt == 0 || len(addrs) == 0 {
		return nil
	}
	each := amt / types.Amount(len(addrs))
	for i, a := range addrs {
		pay := each
		if i == 0 {
			pay += amt - each*types.Amount(len(addrs))
		}
		if pay == 0 {
			continue
		}
		if err := k.Bank.Send(ctx.KV, Escrow, a, pay); err != nil {
			return err
		}
		if pr := GetProvider(ctx.KV, a); pr != nil {
			pr.Earned += pay
			setProvider(ctx.KV, pr)
		}
		ctx.Emit(types.NewEvent("verification_reward", "address", a.String(), "amount", types.U64(uint64(pay))))
	}
	return nil
}

// fault punishes a run whose result was proven wrong: it is not paid,
// its escrow goes back to the client, and its provider is slashed at
// least the stake the job locked, within the per-epoch cap. It returns
// the reporter share the slash paid to reporter.
func (k Keeper) fault(ctx exec.Ctx, p Params, r *Job, why string, reporter *types.Address) (types.Amount, error) {
	return k.penalise(ctx, p, r, why, reporter, p.Verification.BanOnFault)
}

// penalise is fault with the ban chosen by the caller.
func (k Keeper) penalise(ctx exec.Ctx, p Params, r *Job, why string, reporter *types.Address, ban bool) (types.Amount, error) {
	addr, since := r.Provider, r.AssignedAt
	lock := r.Lock
	if err := k.finish(ctx, r, Failed, why, 0); err != nil {
		return 0, err
	}
	pr := GetProvider(ctx.KV, addr)
	if pr == nil {
		return 0, nil
	}
	v := p.Verification
	bond, _ := k.Stake.ProviderBond(ctx.KV, addr)
	frac := v.FaultSlash
	if bond > 0 && lock > 0 {
		// The fraction that takes at least the lock, rounded up.
		need := types.Amount(types.FractionOne)
		if lock < bond {
			// lock < bond, so lock·10⁶ + bond fits in 128 bits and the
			// quotient is below 10⁶.
			hi, lo := bits.Mul64(uint64(lock), types.FractionOne)
			lo, carry := bits.Add64(lo, uint64(bond)-1, 0)
			q, _ := bits.Div64(hi+carry, lo, uint64(bond))
			need = types.Amount(q)
		}
		if types.Fraction(need) > frac {
			frac = types.Fraction(need)
		}
	}
	epoch := ctx.Block.Height / p.RewardEpochBlocks
	var used types.Fraction
	if pr.Rep.SlashEpoch == epoch {
		used = pr.Rep.SlashedPPM
	}
	frac = min(frac, v.MaxSlashPerEpoch-min(v.MaxSlashPerEpoch, used))
	taken, paid, err := k.Stake.SlashProvider(ctx, addr, frac, fmt.Sprintf("job %d: %s", r.ID, why),
		Slashing{Since: since, Jail: v.FaultJail || ban, Ban: ban, Reporter: reporter})
	if err != nil {
		return 0, fmt.Errorf("slash %s: %w", addr, err)
	}
	pr = GetProvider(ctx.KV, addr)
	pr.Faults++
	pr.Slashed += taken
	pr.Rep.SlashEpoch, pr.Rep.SlashedPPM = epoch, used+frac
	k.noteRep(ctx, pr, repFault)
	reindex(ctx.KV, pr, ctx.Block.Height)
	setProvider(ctx.KV, pr)
	ctx.Emit(types.NewEvent("job_fault", "id", types.U64(r.ID), "group", types.U64(r.Group), "provider", addr.String(),
		"role", r.Role.String(), "slashed", types.U64(uint64(taken)), "reason", why))
	return paid, nil
}

// failGroup ends a group without a verdict: unfinished runs are not paid
// and their escrow, the audit budget and a challenger's bond go back.
func (k Keeper) failGroup(ctx exec.Ctx, g *Group, why string) error {
	for _, r := range runs(ctx, append(append([]uint64(nil), g.Members...), g.Referees...)) {
		if r.State.Finished() {
			continue
		}
		switch {
		case r.State == Queued:
			k.dequeue(ctx, r)
		case r.holdsSlot():
			k.release(ctx, r)
		}
		if err := k.finish(ctx, r, Failed, why, 0); err != nil {
			return err
		}
	}
	if g.Budget > 0 {
		if err := k.Bank.Send(ctx.KV, Escrow, g.Client, g.Budget); err != nil {
			return err
		}
		g.Budget = 0
	}
	if g.Bond > 0 {
		if err := k.Bank.Send(ctx.KV, Escrow, g.Challenger, g.Bond); err != nil {
			return err
		}
		g.Bond = 0
	}
	g.Phase, g.Outcome = PhaseFailed, why
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("job_verified", "id", types.U64(g.ID), "outcome", "failed: "+why, "faults", "0"))
	return nil
}

// drawAudit decides, from the beacon of the block after the provider's
// commitment, whether an optimistic job is audited, and draws its
// auditor.
func (k Keeper) drawAudit(ctx exec.Ctx, p Params, g *Group) error {
	if g.Finished() || g.Drawn {
		return nil
	}
	prov := GetJob(ctx.KV, g.Members[0])
	if prov.State != Committed {
		g.DrawHeight = 0 // the run was given to another provider: draw after its commitment
		setGroup(ctx.KV, g)
		return nil
	}
	g.Drawn = true
	audited := draw(k.beacon(ctx), "mycel/audit/v1", types.FractionOne, g.ID) < uint64(g.AuditRate)
	var auditor string
	if audited {
		excl := append([]types.Address{prov.Provider}, prov.Excluded...)
		if a := k.drawRun(ctx, p, prov, g, RoleAuditor, g.Budget, prov.Price, excl, 0); a != nil {
			g.Audited, g.Budget = true, 0
			g.Members = append(g.Members, a.ID)
			auditor = a.Provider.String()
		}
	}
	if g.Budget > 0 {
		if err := k.Bank.Send(ctx.KV, Escrow, g.Client, g.Budget); err != nil {
			return err
		}
		g.Budget = 0
	}
	setGroup(ctx.KV, g)
	ev := types.NewEvent("audit_drawn", "id", types.U64(g.ID), "audited", fmt.Sprint(g.Audited))
	if auditor != "" {
		ev.Attrs = append(ev.Attrs, types.Attr{Key: "auditor", Value: auditor})
	} else if audited {
		ev.Attrs = append(ev.Attrs, types.Attr{Key: "reason", Value: "no provider could be drawn to audit"})
	}
	ctx.Emit(ev)
	k.openGate(ctx, g)
	return nil
}

// HandleChallenge opens a fraud proof against an optimistic job's result
// during its challenge window.
func (k Keeper) HandleChallenge(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgChallenge(body)
	if err != nil {
		return err
	}
	p := GetParams(ctx.KV)
	g := GetGroup(ctx.KV, m.Job)
	switch {
	case g == nil || g.Planted:
		return ErrNoChallenge.Wrapf("job %d is not an optimistic job", m.Job)
	case g.Mode != VerifyOptimistic:
		return ErrNoChallenge.Wrapf("job %d is %s; only optimistic jobs take fraud proofs (redundant jobs are re-executed on any disagreement)", g.ID, g.Mode)
	case g.Phase != PhaseChallenge:
		return ErrNoChallenge.Wrapf("job %d is %s; a challenge is made in the window after its result is revealed", g.ID, g.Phase)
	case m.Bond < p.Verification.ChallengeBond:
		return ErrNoChallenge.Wrapf("bond %s below the minimum %s", m.Bond, p.Verification.ChallengeBond)
	}
	prov := GetJob(ctx.KV, g.Members[0])
	if prov.Provider == signer {
		return ErrNoChallenge.Wrapf("a provider cannot challenge its own result")
	}
	if err := k.Bank.Send(ctx.KV, signer, Escrow, m.Bond); err != nil {
		return err
	}
	ctx.KV.Delete(queueKey(prefixFinal, g.FinalAt, store.BE64(g.ID)))
	g.Challenger, g.Bond, g.FinalAt = signer, m.Bond, 0
	ctx.Emit(types.NewEvent("job_challenged", "id", types.U64(g.ID), "challenger", signer.String(), "bond", types.U64(uint64(m.Bond))))
	return k.startRound(ctx, g, "a fraud proof was made")
}

// closeWindow settles an optimistic job whose challenge window closed.
func (k Keeper) closeWindow(ctx exec.Ctx, g *Group) error {
	if g.Mode == VerifyDispute {
		return k.closeVote(ctx, g)
	}
	if g.Phase != PhaseChallenge {
		return nil
	}
	prov := GetJob(ctx.KV, g.Members[0])
	return k.judge(ctx, g, prov.resultKey(), "unchallenged")
}

// recordReference remembers a run whose result two runs confirmed, for
// planted referee tasks.
func recordReference(ctx exec.Ctx, id uint64) {
	var n uint64
	if b := ctx.KV.Get(keyRefSeq); len(b) == 8 {
		n = be64To(b)
	}
	ctx.KV.Set(store.Key(prefixRef, store.BE64(n%refSlots)), store.BE64(id))
	ctx.KV.Set(keyRefSeq, store.BE64(n+1))
}

func be64To(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// plant makes up, with probability PlantRate per block, a referee task
// with a known wrong answer: a confirmed earlier job put to one drawn
// referee with a claimed result that is a random hash. A referee that
// approves the claim without running the job reproduces the wrong answer
// and is slashed; one that runs it is paid from the provider reward pool.
func (k Keeper) plant(ctx exec.Ctx, p Params) error {
	v := p.Verification
	beacon := k.beacon(ctx)
	h := uint64(ctx.Block.Height)
	if v.PlantRate == 0 || draw(beacon, "mycel/plant/v1", types.FractionOne, h) >= uint64(v.PlantRate) {
		return nil
	}
	var n uint64
	if b := ctx.KV.Get(keyRefSeq); len(b) == 8 {
		n = be64To(b)
	}
	if n == 0 {
		return nil
	}
	slot := draw(beacon, "mycel/plant-ref/v1", min(n, refSlots), h)
	ref := GetJob(ctx.KV, be64To(ctx.KV.Get(store.Key(prefixRef, store.BE64(slot)))))
	if ref == nil {
		return nil
	}
	wrong := types.SumHash(store.Key([]byte("mycel/planted/v1"), beacon, store.BE64(h)))
	g := &Group{Client: k.RewardPool, Mode: ref.Verify, Phase: PhaseRefereeing, Planted: true, Round: 1,
		Claims: []Claim{{Provider: ref.Provider, Output: wrong, OutputSize: ref.OutputSize, GasUsed: ref.GasUsed}}}
	excl := []types.Address{ref.Provider}
	probe := &Job{ID: h, Req: ref.Req, Excluded: excl, Runtime: ref.Runtime}
	pr := k.drawProvider(ctx, p, probe, 0)
	if pr == nil {
		return nil
	}
	r := newRun(ctx, ref, g, RoleReferee, 0)
	g.ID, r.Group = r.ID, r.ID
	r.Excluded = excl
	k.fundReferee(ctx, p, r)
	k.assign(ctx, p, r, pr)
	r.Price = 0 // paid by judgePlanted, from the pool
	setJob(ctx.KV, r)
	ctx.KV.Set(store.Key(prefixPlant, store.BE64(r.ID)), store.BE64(ref.ID))
	g.Referees, g.RoundSize = []uint64{r.ID}, 1
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("referees_drawn", "id", types.U64(g.ID), "round", "1", "reason", "the providers disagree",
		"referees", types.U64(r.ID)))
	return nil
}

// judgePlanted judges the referees of a planted task against the
// confirmed result it was made from: one that reproduced the planted
// wrong claim approved it without working; one that revealed anything
// else wrong is as wrong as on a real task.
func (k Keeper) judgePlanted(ctx exec.Ctx, g *Group, refs []*Job) error {
	p := GetParams(ctx.KV)
	wrong := g.Claims[0].key()
	var truth types.Hash
	if ref := GetJob(ctx.KV, be64To(ctx.KV.Get(store.Key(prefixPlant, store.BE64(g.ID))))); ref != nil {
		truth = ref.resultKey()
	}
	ctx.KV.Delete(store.Key(prefixPlant, store.BE64(g.ID)))
	lazy, faults := 0, 0
	for _, r := range refs {
		if r.State != Revealed {
			continue
		}
		if key := r.resultKey(); key != truth {
			why := "its result differs from re-execution"
			if key == wrong {
				lazy++
				why = "approved a planted wrong answer without running the job"
			}
			faults++
			if _, err := k.fault(ctx, p, r, why, nil); err != nil {
				return err
			}
			continue
		}
		addr := r.Provider
		cost, err := Cost(r.GasUsed, GetProvider(ctx.KV, addr).Price, p.GasPerCU)
		if err != nil {
			cost = 0
		}
		if pool := k.Bank.Balance(ctx.KV, k.RewardPool); cost > pool {
			cost = pool
		}
		if err := k.settleRun(ctx, r); err != nil {
			return err
		}
		if cost > 0 {
			if err := k.Bank.Send(ctx.KV, k.RewardPool, addr, cost); err != nil {
				return err
			}
			pr := GetProvider(ctx.KV, addr)
			pr.Earned += cost
			setProvider(ctx.KV, pr)
		}
	}
	g.Phase, g.Outcome, g.Truth = PhaseSettled, fmt.Sprintf("planted task: %d lazy referee(s)", lazy), truth
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("job_verified", "id", types.U64(g.ID), "outcome", g.Outcome, "faults", types.U64(uint64(faults))))
	return nil
}

// unlock frees the stake a run locked on its provider.
func (k Keeper) unlock(ctx exec.Ctx, j *Job) {
	if j.Lock == 0 || j.Provider.IsZero() {
		return
	}
	if pr := GetProvider(ctx.KV, j.Provider); pr != nil {
		pr.Locked -= min(pr.Locked, j.Lock)
		setProvider(ctx.KV, pr)
	}
}

// cancelGroup cancels a group none of whose runs has committed.
func (k Keeper) cancelGroup(ctx exec.Ctx, g *Group) error {
	for _, r := range runs(ctx, g.Members) {
		if !uncommitted(r) && !r.State.Finished() {
			return ErrWrongState.Wrapf("job %d: run %d has committed a result; a verified job can be cancelled only before any run commits", g.ID, r.ID)
		}
	}
	for _, r := range runs(ctx, g.Members) {
		if r.State.Finished() {
			continue
		}
		if r.State == Queued {
			k.dequeue(ctx, r)
		} else {
			k.release(ctx, r)
		}
		if err := k.finish(ctx, r, Cancelled, "cancelled by the client", 0); err != nil {
			return err
		}
	}
	if g.Budget > 0 {
		if err := k.Bank.Send(ctx.KV, Escrow, g.Client, g.Budget); err != nil {
			return err
		}
		g.Budget = 0
	}
	g.Phase, g.Outcome = PhaseFailed, "cancelled by the client"
	setGroup(ctx.KV, g)
	return nil
}
