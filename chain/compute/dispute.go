package compute

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/chain/ballot"
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Disputes over inference answers served through the gateway. The
// answer carries a receipt its provider signed (runtime, model, request
// and output hashes); anyone holding one may dispute it with a bond and
// an evidence blob, {"receipt", "request", "text"} as JSON, that the
// referees check it with:
//
//   - a receipt of the deterministic runtime is re-executed: the verdict
//     is "holds" or "differs", and a receipt that differs is proven
//     fraud (slashed, jailed, banned, like a job's wrong result);
//   - a receipt of an external engine, which is not bit-exact, is
//     re-scored on the built-in runtime when it can load the model: one
//     prefill pass over the prompt and the answer, every answer token's
//     rank under the model within the stated tolerance ("plausible") or
//     not ("implausible"), which catches a provider that served a
//     different or cheaper model; the loser of such a judgement pays
//     DisputeSlash, without a ban;
//   - when the referees cannot run the model ("unavailable"), validators
//     decide: ballots committed, then revealed, weighted by validator
//     stake, tallied deterministically; a tie or no ballots decides
//     nothing and the bond comes back;
//   - evidence that does not match the receipt ("invalid"), or a verdict
//     for the provider, loses the disputer its bond: BondBurn of it
//     burned, the rest to the referees.
//
// One receipt is disputed at most once.

// Verdicts a referee's check reveals (its run's on-chain result).
const (
	VerdictHolds       = "holds"
	VerdictDiffers     = "differs"
	VerdictPlausible   = "plausible"
	VerdictImplausible = "implausible"
	VerdictInvalid     = "invalid"
	VerdictUnavailable = "unavailable"
)

// ReceiptVersion is the receipt format disputes accept.
const ReceiptVersion = "mycel-receipt/1"

// MsgDispute disputes a signed inference receipt.
type MsgDispute struct {
	Receipt   types.ReceiptFields `json:"receipt"`
	PubKey    []byte              `json:"pubkey"`
	Signature []byte              `json:"signature"`
	// Evidence is the sha256 of the evidence blob in the nodes' blob
	// stores.
	Evidence types.Hash   `json:"evidence"`
	Bond     types.Amount `json:"bond"`
}

// Encode returns the message body.
func (m MsgDispute) Encode() []byte {
	w := codec.NewWriter(320)
	r := m.Receipt
	w.String(r.Version)
	w.String(r.Runtime)
	w.Bool(r.Deterministic)
	w.Fixed(r.Model[:])
	w.Fixed(r.Request[:])
	w.Fixed(r.Output[:])
	w.Uvarint(r.Seed)
	w.Fixed(r.Provider[:])
	w.LenBytes(m.PubKey)
	w.LenBytes(m.Signature)
	w.Fixed(m.Evidence[:])
	w.Uvarint(uint64(m.Bond))
	return w.Bytes()
}

// DecodeMsgDispute parses the body.
func DecodeMsgDispute(b []byte) (MsgDispute, error) {
	rd := codec.NewReader(b)
	var m MsgDispute
	r := &m.Receipt
	r.Version, r.Runtime, r.Deterministic = rd.String(64), rd.String(128), rd.Bool()
	rd.FixedInto(r.Model[:])
	rd.FixedInto(r.Request[:])
	rd.FixedInto(r.Output[:])
	r.Seed = rd.Uvarint()
	rd.FixedInto(r.Provider[:])
	m.PubKey = rd.LenBytes(64)
	m.Signature = rd.LenBytes(128)
	rd.FixedInto(m.Evidence[:])
	m.Bond = types.Amount(rd.Uvarint())
	if err := rd.Done(); err != nil {
		return m, ErrMalformed.Wrapf("dispute: %v", err)
	}
	return m, nil
}

// Ballots on disputes the referees could not settle: chain/ballot's
// commit-then-reveal vote, weighed by validator bonds.
type (
	MsgBallot       = ballot.MsgCommit
	MsgBallotReveal = ballot.MsgReveal
)

// Votes on a dispute.
const (
	VoteProvider uint8 = 1 // the provider's answer stands
	VoteDisputer uint8 = 2 // the provider's answer is wrong
)

// ballots are the dispute ballots in state: compute/vote/{dispute}{voter}.
var ballots = ballot.Box{Prefix: []byte("compute/vote/"), Domain: "mycel/ballot/v1\x00"}

// DecodeMsgBallot parses a ballot's body.
func DecodeMsgBallot(b []byte) (MsgBallot, error) {
	m, err := ballot.DecodeCommit(b)
	if err != nil {
		return m, ErrMalformed.Wrapf("ballot: %v", err)
	}
	return m, nil
}

// DecodeMsgBallotReveal parses a ballot reveal's body.
func DecodeMsgBallotReveal(b []byte) (MsgBallotReveal, error) {
	m, err := ballot.DecodeReveal(b)
	if err != nil {
		return m, ErrMalformed.Wrapf("ballot reveal: %v", err)
	}
	return m, nil
}

// BallotCommitment is what a validator commits before revealing its vote
// on a dispute.
func BallotCommitment(dispute uint64, voter types.Address, vote uint8, salt [32]byte) types.Hash {
	return ballots.Commitment(dispute, voter, vote, salt)
}

var prefixDisputed = []byte("compute/dr-r/") // {receipt hash}: receipts already disputed

// HandleDispute opens a dispute over a signed receipt.
func (k Keeper) HandleDispute(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgDispute(body)
	if err != nil {
		return err
	}
	p := GetParams(ctx.KV)
	rf := m.Receipt
	receiptID := sha256.Sum256(rf.SignBytes())
	switch {
	case rf.Version != ReceiptVersion:
		return ErrNoChallenge.Wrapf("receipt version %q, want %q", rf.Version, ReceiptVersion)
	case len(m.PubKey) != ed25519.PublicKeySize || types.AddressFromPubKey(ed25519.PublicKey(m.PubKey)) != rf.Provider:
		return ErrNoChallenge.Wrapf("the public key is not provider %s's", rf.Provider)
	case !types.VerifySignature(ed25519.PublicKey(m.PubKey), rf.SignBytes(), m.Signature):
		return ErrNoChallenge.Wrapf("the receipt's signature does not match its fields")
	case GetProvider(ctx.KV, rf.Provider) == nil:
		return ErrNoChallenge.Wrapf("%s is not a registered provider", rf.Provider)
	case rf.Provider == signer:
		return ErrNoChallenge.Wrapf("a provider cannot dispute its own receipt")
	case m.Bond < p.Verification.DisputeBond:
		return ErrNoChallenge.Wrapf("bond %s below the minimum %s", m.Bond, p.Verification.DisputeBond)
	case m.Evidence.IsZero():
		return ErrNoChallenge.Wrapf("no evidence: upload {\"receipt\", \"request\", \"text\"} as a blob and name its sha256")
	case ctx.KV.Get(store.Key(prefixDisputed, receiptID[:])) != nil:
		return ErrNoChallenge.Wrapf("receipt %x was disputed already; one receipt is disputed once", receiptID[:8])
	}
	if err := k.Bank.Send(ctx.KV, signer, Escrow, m.Bond); err != nil {
		return err
	}
	// The dispute's id is a job id, so that referee runs, listings and
	// the API treat it like any verified job.
	id := nextJobID(ctx.KV)
	ctx.KV.Set(store.Key(prefixDisputed, receiptID[:]), store.BE64(id))
	g := &Group{ID: id, Client: signer, Mode: VerifyDispute, Phase: PhaseRefereeing, Challenger: signer, Bond: m.Bond,
		Receipt: &rf, Evidence: m.Evidence,
		Claims: []Claim{{Provider: rf.Provider, Output: rf.Output}}}
	ctx.Emit(types.NewEvent("dispute_opened", "id", types.U64(id), "provider", rf.Provider.String(),
		"disputer", signer.String(), "bond", types.U64(uint64(m.Bond)), "deterministic", fmt.Sprint(rf.Deterministic)))
	return k.drawCheckers(ctx, p, g)
}

// checkSpec is the run referees make of a disputed receipt: the model is
// the program, the evidence the input, and the verdict comes back on
// chain.
func checkSpec(g *Group, p Params) *Job {
	return &Job{Kind: KindCheck, Program: g.Receipt.Model, Input: g.Evidence, Req: Requirements{Cores: 1, MemoryMB: 256},
		GasLimit: p.MaxGas, MaxOutputBytes: 64, DeadlineBlocks: p.DefaultDeadline, OnChain: true, Runtime: RuntimeInference}
}

// drawCheckers draws a round of referees to check a disputed receipt.
func (k Keeper) drawCheckers(ctx exec.Ctx, p Params, g *Group) error {
	spec := checkSpec(g, p)
	excl := []types.Address{g.Receipt.Provider, g.Challenger}
	for _, r := range runs(ctx, g.Referees) {
		excl = append(excl, r.Provider)
	}
	g.Round++
	var drawn []string
	for i := uint32(0); i < p.Verification.Referees; i++ {
		r := k.drawRun(ctx, p, spec, g, RoleReferee, 0, 0, dedupe(excl), uint64(g.Round)<<8|uint64(i))
		if r == nil {
			break
		}
		r.OnChain = true
		setJob(ctx.KV, r)
		g.Referees = append(g.Referees, r.ID)
		excl = append(excl, r.Provider)
		drawn = append(drawn, types.U64(r.ID))
	}
	g.RoundSize = uint32(len(drawn))
	setGroup(ctx.KV, g)
	if len(drawn) == 0 {
		return k.openVote(ctx, p, g, "no provider could be drawn to check the receipt")
	}
	ctx.Emit(types.NewEvent("referees_drawn", "id", types.U64(g.ID), "round", types.U64(uint64(g.Round)),
		"reason", "a receipt is disputed", "referees", joinIDs(drawn)))
	return nil
}

// verdictOf reads a check run's verdict: a run that failed (it could not
// fetch or load the model) counts as unavailable.
func verdictOf(r *Job) string {
	if r.RunFailure != "" {
		return VerdictUnavailable
	}
	switch v := string(r.Result); v {
	case VerdictHolds, VerdictDiffers, VerdictPlausible, VerdictImplausible, VerdictInvalid, VerdictUnavailable:
		return v
	}
	return VerdictInvalid
}

// tallyChecks decides a dispute on its referees' verdicts, once all are
// in.
func (k Keeper) tallyChecks(ctx exec.Ctx, g *Group, refs []*Job) error {
	p := GetParams(ctx.KV)
	counts := map[string]uint32{}
	var order []string
	for _, r := range refs {
		if r.State != Revealed {
			continue
		}
		v := verdictOf(r)
		if counts[v] == 0 {
			order = append(order, v)
		}
		counts[v]++
	}
	verdict := ""
	for _, v := range order {
		if counts[v]*2 > g.RoundSize {
			verdict = v
		}
	}
	if verdict == "" {
		if g.Round < p.Verification.MaxRounds {
			return k.drawCheckers(ctx, p, g)
		}
		return k.failGroup(ctx, g, "no strict majority of referees after the last round")
	}
	// Referees that agree with the verdict are paid from the loser; a
	// referee that does not is not paid, and is not punished either:
	// whether a token's rank is within tolerance is the verdict's own
	// judgement, re-execution is exact.
	var provers []types.Address
	for _, r := range refs {
		if r.State != Revealed {
			continue
		}
		if verdictOf(r) == verdict {
			provers = append(provers, r.Provider)
			if err := k.settleRun(ctx, r); err != nil {
				return err
			}
			continue
		}
		if g.Receipt.Deterministic && (verdict == VerdictHolds || verdict == VerdictDiffers) {
			if _, err := k.fault(ctx, p, r, "its check of a receipt differs from re-execution", nil); err != nil {
				return err
			}
			continue
		}
		if err := k.finish(ctx, r, Failed, "its verdict was outvoted", 0); err != nil {
			return err
		}
	}
	g.Verdict = verdict
	switch verdict {
	case VerdictUnavailable:
		return k.openVote(ctx, p, g, "the referees cannot run the model")
	case VerdictDiffers:
		return k.disputeWon(ctx, p, g, provers, true, "re-execution differs from the receipt")
	case VerdictImplausible:
		return k.disputeWon(ctx, p, g, provers, false, "the answer is implausible under the named model")
	}
	return k.disputeLost(ctx, p, g, provers, "the referees found the receipt "+verdict)
}

// disputeWon punishes the provider and gives the disputer its bond back
// with a share of the slash.
func (k Keeper) disputeWon(ctx exec.Ctx, p Params, g *Group, provers []types.Address, fraud bool, why string) error {
	addr := g.Receipt.Provider
	bond := g.Bond
	g.Bond = 0
	if err := k.Bank.Send(ctx.KV, Escrow, g.Challenger, bond); err != nil {
		return err
	}
	provers = append(provers, g.Challenger)
	frac, ban, jail := p.Verification.DisputeSlash, false, true
	if fraud {
		frac, ban, jail = p.Verification.FaultSlash, p.Verification.BanOnFault, p.Verification.FaultJail
	}
	taken, paid, err := k.Stake.SlashProvider(ctx, addr, frac, fmt.Sprintf("dispute %d: %s", g.ID, why),
		Slashing{Since: ctx.Block.Height, Jail: jail, Ban: ban, Reporter: &Escrow})
	if err != nil {
		return fmt.Errorf("slash %s: %w", addr, err)
	}
	if pr := GetProvider(ctx.KV, addr); pr != nil {
		pr.Faults++
		pr.Slashed += taken
		k.noteRep(ctx, pr, repFault)
		reindex(ctx.KV, pr, ctx.Block.Height)
		setProvider(ctx.KV, pr)
	}
	if err := k.split(ctx, paid, provers); err != nil {
		return err
	}
	g.Phase, g.Outcome = PhaseSettled, "the disputer won: "+why
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("dispute_settled", "id", types.U64(g.ID), "winner", "disputer", "provider", addr.String(),
		"slashed", types.U64(uint64(taken)), "reason", why))
	return nil
}

// disputeLost takes the disputer's bond: BondBurn of it burned, the rest
// to the referees, or to the provider when validators decided.
func (k Keeper) disputeLost(ctx exec.Ctx, p Params, g *Group, provers []types.Address, why string) error {
	bond := g.Bond
	g.Bond = 0
	burn := bond.MulFraction(p.Verification.BondBurn)
	if len(provers) == 0 {
		provers = []types.Address{g.Receipt.Provider}
	}
	if err := k.Bank.Burn(ctx.KV, Escrow, burn); err != nil {
		return err
	}
	if err := k.split(ctx, bond-burn, provers); err != nil {
		return err
	}
	g.Phase, g.Outcome = PhaseSettled, "the provider won: "+why
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("dispute_settled", "id", types.U64(g.ID), "winner", "provider", "provider", g.Receipt.Provider.String(),
		"burned", types.U64(uint64(burn)), "reason", why))
	return nil
}

// openVote hands a dispute to the validators.
func (k Keeper) openVote(ctx exec.Ctx, p Params, g *Group, why string) error {
	h := ctx.Block.Height
	g.Phase = PhaseVoting
	g.VoteEnd = h + p.Verification.VoteBlocks
	g.RevealEnd = g.VoteEnd + p.Verification.BallotRevealBlocks
	ctx.KV.Set(queueKey(prefixFinal, g.VoteEnd, store.BE64(g.ID)), []byte{})
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("dispute_vote", "id", types.U64(g.ID), "reason", why,
		"commit_until", types.U64(uint64(g.VoteEnd)), "reveal_until", types.U64(uint64(g.RevealEnd))))
	return nil
}

// HandleBallot records a validator's committed ballot.
func (k Keeper) HandleBallot(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgBallot(body)
	if err != nil {
		return err
	}
	g := GetGroup(ctx.KV, m.Subject)
	switch {
	case g == nil || g.Mode != VerifyDispute:
		return ErrNoChallenge.Wrapf("%d is not a dispute", m.Subject)
	case g.Phase != PhaseVoting:
		return ErrWrongState.Wrapf("dispute %d is %s; ballots are committed while it is voting", g.ID, g.Phase)
	case k.Stake.ValidatorBond(ctx.KV, signer) == 0:
		return ErrNoChallenge.Wrapf("%s is not a bonded validator; only validators vote on disputes", signer)
	case signer == g.Receipt.Provider || signer == g.Challenger:
		return ErrNoChallenge.Wrapf("a party to dispute %d cannot vote on it", g.ID)
	}
	ballots.Commit(ctx.KV, g.ID, signer, m.Commitment)
	ctx.Emit(types.NewEvent("ballot_committed", "id", types.U64(g.ID), "voter", signer.String()))
	return nil
}

// HandleBallotReveal opens a committed ballot.
func (k Keeper) HandleBallotReveal(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgBallotReveal(body)
	if err != nil {
		return err
	}
	g := GetGroup(ctx.KV, m.Subject)
	switch {
	case g == nil || g.Mode != VerifyDispute:
		return ErrNoChallenge.Wrapf("%d is not a dispute", m.Subject)
	case g.Phase != PhaseRevealing:
		return ErrWrongState.Wrapf("dispute %d is %s; ballots are revealed after the commit window, until height %d", g.ID, g.Phase, g.RevealEnd)
	}
	switch err := ballots.Reveal(ctx.KV, m, signer); {
	case errors.Is(err, ballot.ErrNoCommit):
		return ErrNoChallenge.Wrapf("%s committed no ballot on dispute %d, or revealed it already", signer, g.ID)
	case err != nil:
		return ErrBadReveal.Wrapf("ballot of %s on dispute %d", signer, g.ID)
	}
	ctx.Emit(types.NewEvent("ballot_revealed", "id", types.U64(g.ID), "voter", signer.String(), "vote", types.U64(uint64(m.Vote))))
	return nil
}

// closeVote moves a dispute from committing to revealing ballots, and
// tallies them at the end: each revealed ballot weighs its validator's
// bond then; the side with more weight wins; a tie, or no ballots,
// decides nothing and the bond comes back.
func (k Keeper) closeVote(ctx exec.Ctx, g *Group) error {
	p := GetParams(ctx.KV)
	if g.Phase == PhaseVoting {
		g.Phase = PhaseRevealing
		ctx.KV.Set(queueKey(prefixFinal, g.RevealEnd, store.BE64(g.ID)), []byte{})
		setGroup(ctx.KV, g)
		return nil
	}
	if g.Phase != PhaseRevealing {
		return nil
	}
	sums := ballots.Tally(ctx.KV, g.ID, func(a types.Address) types.Amount { return k.Stake.ValidatorBond(ctx.KV, a) })
	forProvider, forDisputer := sums[VoteProvider], sums[VoteDisputer]
	ctx.Emit(types.NewEvent("dispute_tally", "id", types.U64(g.ID), "for_provider", types.U64(uint64(forProvider)),
		"for_disputer", types.U64(uint64(forDisputer))))
	switch {
	case forDisputer > forProvider:
		return k.disputeWon(ctx, p, g, nil, false, "validators judged the answer wrong")
	case forProvider > forDisputer:
		return k.disputeLost(ctx, p, g, nil, "validators judged the answer right")
	}
	return k.failGroup(ctx, g, "the validators' ballots decided nothing")
}
