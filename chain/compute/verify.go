package compute

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// VerifyMode is how much assurance a client buys for a job.
type VerifyMode uint8

const (
	// VerifyNone trusts the one provider (and its stake).
	VerifyNone VerifyMode = 0
	// VerifyRedundant runs the job on r providers that each commit a
	// result hash before any reveals; any disagreement goes to
	// re-execution by drawn referees.
	VerifyRedundant VerifyMode = 1
	// VerifyOptimistic runs the job on one provider; after it commits, an
	// audit is drawn with the job's audit rate, and after it reveals
	// anyone may challenge the result during a window.
	VerifyOptimistic VerifyMode = 2
	// VerifyDispute is a dispute over a signed inference receipt
	// (dispute.go); it is opened, never submitted.
	VerifyDispute VerifyMode = 3
)

func (v VerifyMode) String() string {
	switch v {
	case VerifyNone:
		return "none"
	case VerifyRedundant:
		return "redundant"
	case VerifyOptimistic:
		return "optimistic"
	case VerifyDispute:
		return "dispute"
	}
	return fmt.Sprintf("verify(%d)", uint8(v))
}

// ParseVerifyMode reads none, redundant or optimistic.
func ParseVerifyMode(s string) (VerifyMode, error) {
	switch s {
	case "", "none":
		return VerifyNone, nil
	case "redundant":
		return VerifyRedundant, nil
	case "optimistic":
		return VerifyOptimistic, nil
	case "dispute":
		return VerifyDispute, nil
	}
	return 0, ErrInvalidJob.Wrapf("verification mode %q: use none, redundant or optimistic", s)
}

func (v VerifyMode) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

func (v *VerifyMode) UnmarshalText(b []byte) error {
	m, err := ParseVerifyMode(string(b))
	*v = m
	return err
}

// Role is what a run is for in its verification group.
type Role uint8

const (
	RoleProvider Role = 0 // does the client's work
	RoleAuditor  Role = 1 // drawn to re-execute an optimistic job
	RoleReferee  Role = 2 // drawn to re-execute a disputed job
)

func (r Role) String() string {
	switch r {
	case RoleProvider:
		return "provider"
	case RoleAuditor:
		return "auditor"
	case RoleReferee:
		return "referee"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r *Role) UnmarshalText(b []byte) error {
	for _, x := range []Role{RoleProvider, RoleAuditor, RoleReferee} {
		if x.String() == string(b) {
			*r = x
			return nil
		}
	}
	return fmt.Errorf("role %q: provider, auditor or referee", b)
}

// Phase is where a verification group stands.
type Phase uint8

const (
	PhaseRunning    Phase = 1 // the runs are executing, committing, revealing
	PhaseChallenge  Phase = 2 // an optimistic result is open to fraud proofs
	PhaseRefereeing Phase = 3 // referees are re-executing
	PhaseSettled    Phase = 4
	PhaseFailed     Phase = 5
	PhaseVoting     Phase = 6 // validators commit ballots on a dispute
	PhaseRevealing  Phase = 7 // validators reveal them
)

var phaseNames = []string{"", "running", "challenge", "refereeing", "settled", "failed", "voting", "revealing"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) && p > 0 {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

func (p Phase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func (p *Phase) UnmarshalText(b []byte) error {
	for i, n := range phaseNames {
		if i > 0 && n == string(b) {
			*p = Phase(i)
			return nil
		}
	}
	return fmt.Errorf("phase %q", b)
}

// Claim is a result put to referees: who claims it and what it is.
type Claim struct {
	Provider   types.Address `json:"provider"`
	Output     types.Hash    `json:"output"`
	OutputSize uint64        `json:"output_size"`
	GasUsed    uint64        `json:"gas_used"`
	Failure    string        `json:"failure,omitempty"`
}

func (c Claim) key() types.Hash { return ResultKey(c.Output, c.OutputSize, c.GasUsed, c.Failure) }

// Group is a job under verification: the runs of its providers (and its
// auditor), the referees drawn when they disagree or a challenge is
// made, and the outcome. Its id is its first run's job id.
type Group struct {
	ID        uint64         `json:"id,string"`
	Client    types.Address  `json:"client"`
	Mode      VerifyMode     `json:"mode"`
	AuditRate types.Fraction `json:"audit_rate,omitempty"`
	Phase     Phase          `json:"phase"`
	// Members are the provider runs and, once drawn, the auditor's.
	Members []uint64 `json:"members"`
	// Referees are the referee runs of every round; the current round's
	// are the last RoundSize.
	Referees  []uint64 `json:"referees,omitempty"`
	Round     uint32   `json:"round,omitempty"`
	RoundSize uint32   `json:"round_size,omitempty"`
	// Budget is escrow the group holds for an audit not yet drawn.
	Budget types.Amount `json:"budget,omitempty"`
	// DrawHeight is the block at whose end the audit is drawn (0: not yet
	// scheduled); Drawn and Audited say what happened.
	DrawHeight int64 `json:"draw_height,omitempty"`
	Drawn      bool  `json:"drawn,omitempty"`
	Audited    bool  `json:"audited,omitempty"`
	// FinalAt closes an optimistic job's challenge window.
	FinalAt    int64         `json:"final_height,omitempty"`
	Challenger types.Address `json:"challenger,omitempty"`
	Bond       types.Amount  `json:"bond,omitempty"`
	// Planted marks a referee task the protocol made up to test referees:
	// Claims then holds its known wrong answer.
	Planted bool    `json:"-"`
	Claims  []Claim `json:"claims,omitempty"`
	// Truth is the result key the group settled on, Output its output.
	Truth   types.Hash `json:"truth,omitempty"`
	Output  types.Hash `json:"output,omitempty"`
	Outcome string     `json:"outcome,omitempty"`

	// Disputes (dispute.go): the receipt disputed, the evidence blob the
	// referees check it with, their verdict, and the ballot windows.
	Receipt   *types.ReceiptFields `json:"receipt,omitempty"`
	Evidence  types.Hash           `json:"evidence,omitempty"`
	Verdict   string               `json:"verdict,omitempty"`
	VoteEnd   int64                `json:"vote_end_height,omitempty"`
	RevealEnd int64                `json:"reveal_end_height,omitempty"`
}

func (g *Group) encode() []byte {
	w := codec.NewWriter(128)
	w.Fixed(g.Client[:])
	w.Byte(byte(g.Mode))
	w.Uvarint(uint64(g.AuditRate))
	w.Byte(byte(g.Phase))
	writeIDs(w, g.Members)
	writeIDs(w, g.Referees)
	w.Uvarint(uint64(g.Round))
	w.Uvarint(uint64(g.RoundSize))
	w.Uvarint(uint64(g.Budget))
	w.Varint(g.DrawHeight)
	w.Bool(g.Drawn)
	w.Bool(g.Audited)
	w.Varint(g.FinalAt)
	w.Fixed(g.Challenger[:])
	w.Uvarint(uint64(g.Bond))
	w.Bool(g.Planted)
	w.Uvarint(uint64(len(g.Claims)))
	for _, c := range g.Claims {
		w.Fixed(c.Provider[:])
		w.Fixed(c.Output[:])
		w.Uvarint(c.OutputSize)
		w.Uvarint(c.GasUsed)
		w.String(c.Failure)
	}
	w.Fixed(g.Truth[:])
	w.Fixed(g.Output[:])
	w.String(g.Outcome)
	w.Bool(g.Receipt != nil)
	if r := g.Receipt; r != nil {
		w.String(r.Version)
		w.String(r.Runtime)
		w.Bool(r.Deterministic)
		w.Fixed(r.Model[:])
		w.Fixed(r.Request[:])
		w.Fixed(r.Output[:])
		w.Uvarint(r.Seed)
		w.Fixed(r.Provider[:])
	}
	w.Fixed(g.Evidence[:])
	w.String(g.Verdict)
	w.Varint(g.VoteEnd)
	w.Varint(g.RevealEnd)
	return w.Bytes()
}

func decodeGroup(id uint64, b []byte) *Group {
	r := codec.NewReader(b)
	g := &Group{ID: id}
	r.FixedInto(g.Client[:])
	g.Mode = VerifyMode(r.Byte())
	g.AuditRate = types.Fraction(r.Uvarint())
	g.Phase = Phase(r.Byte())
	g.Members = readIDs(r)
	g.Referees = readIDs(r)
	g.Round = uint32(r.Uvarint())
	g.RoundSize = uint32(r.Uvarint())
	g.Budget = types.Amount(r.Uvarint())
	g.DrawHeight = r.Varint()
	g.Drawn = r.Bool()
	g.Audited = r.Bool()
	g.FinalAt = r.Varint()
	r.FixedInto(g.Challenger[:])
	g.Bond = types.Amount(r.Uvarint())
	g.Planted = r.Bool()
	n := r.Count(16)
	for i := 0; i < n; i++ {
		var c Claim
		r.FixedInto(c.Provider[:])
		r.FixedInto(c.Output[:])
		c.OutputSize, c.GasUsed, c.Failure = r.Uvarint(), r.Uvarint(), r.String(MaxFailureLen)
		g.Claims = append(g.Claims, c)
	}
	r.FixedInto(g.Truth[:])
	r.FixedInto(g.Output[:])
	g.Outcome = r.String(512)
	if r.Bool() {
		rf := &types.ReceiptFields{Version: r.String(64), Runtime: r.String(128), Deterministic: r.Bool()}
		r.FixedInto(rf.Model[:])
		r.FixedInto(rf.Request[:])
		r.FixedInto(rf.Output[:])
		rf.Seed = r.Uvarint()
		r.FixedInto(rf.Provider[:])
		g.Receipt = rf
	}
	r.FixedInto(g.Evidence[:])
	g.Verdict = r.String(64)
	g.VoteEnd = r.Varint()
	g.RevealEnd = r.Varint()
	if err := r.Done(); err != nil {
		panic(fmt.Errorf("compute: corrupt verification group %d: %w", id, err))
	}
	return g
}

func writeIDs(w *codec.Writer, ids []uint64) {
	w.Uvarint(uint64(len(ids)))
	for _, id := range ids {
		w.Uvarint(id)
	}
}

func readIDs(r *codec.Reader) []uint64 {
	n := r.Count(256)
	var ids []uint64
	for i := 0; i < n; i++ {
		ids = append(ids, r.Uvarint())
	}
	return ids
}

// Finished reports whether the group is over.
func (g *Group) Finished() bool { return g.Phase == PhaseSettled || g.Phase == PhaseFailed }

// currentReferees are the referee runs of the round under way.
func (g *Group) currentReferees() []uint64 {
	n := int(g.RoundSize)
	if n > len(g.Referees) {
		n = len(g.Referees)
	}
	return g.Referees[len(g.Referees)-n:]
}

var (
	prefixGroup = []byte("compute/g/")
	prefixDraw  = []byte("compute/ad/")  // {height}{group}: audit draws due
	prefixFinal = []byte("compute/fin/") // {height}{group}: challenge windows closing
	prefixRef   = []byte("compute/ref/") // {slot}: settled runs whose results were confirmed
	keyRefSeq   = []byte("compute/refseq")
	prefixDrawL = []byte("compute/dr/") // {index}: every provider, to draw auditors from
	prefixPlant = []byte("compute/pl/") // {planted group}: the confirmed run it was made from
	keyDrawN    = []byte("compute/drn")
)

// refSlots is how many confirmed runs planted tasks are drawn from.
const refSlots = 64

func groupKey(id uint64) []byte { return store.Key(prefixGroup, store.BE64(id)) }

// GetGroup reads a verification group; nil when there is none.
func GetGroup(r store.Reader, id uint64) *Group {
	b := r.Get(groupKey(id))
	if b == nil {
		return nil
	}
	return decodeGroup(id, b)
}

func setGroup(kv store.KV, g *Group) { kv.Set(groupKey(g.ID), g.encode()) }

// resultKeyDomain prefixes what a result key hashes.
const resultKeyDomain = "mycel/result-key/v1\x00"

// ResultKey is what two runs of a deterministic job must agree on: the
// output's hash and size, the metered gas and the failure, if any.
func ResultKey(output types.Hash, size, gas uint64, failure string) types.Hash {
	h := sha256.New()
	h.Write([]byte(resultKeyDomain))
	h.Write(output[:])
	var b [8]byte
	for _, v := range []uint64{size, gas, uint64(len(failure))} {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write([]byte(failure))
	var out types.Hash
	copy(out[:], h.Sum(nil))
	return out
}

func (j *Job) resultKey() types.Hash {
	return ResultKey(j.Output, j.OutputSize, j.GasUsed, j.RunFailure)
}

// draw returns a number in [0, n) from the beacon, a domain and parts.
func draw(beacon []byte, domain string, n uint64, parts ...uint64) uint64 {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(beacon)
	var b [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(b[:], p)
		h.Write(b[:])
	}
	sum := h.Sum(nil)
	if n == 0 {
		return 0
	}
	// 64 bits reduced modulo n: the bias is at most n/2^64.
	return binary.BigEndian.Uint64(sum[:8]) % n
}

// StakeLock is the provider stake an optimistic job audited with rate p
// locks: price·(1−p)/p, rounded up. A provider that cheats gains at most
// the price when it is not audited (probability 1−p) and loses at least
// the lock when it is (probability p), so cheating's expected gain,
// (1−p)·price − p·lock, is never positive.
func StakeLock(price types.Amount, p types.Fraction) (types.Amount, error) {
	if p == 0 || !p.Valid() {
		return 0, ErrInvalidJob.Wrapf("audit rate %s outside (0, 1]", p)
	}
	hi, lo := bits.Mul64(uint64(price), uint64(types.FractionOne-p))
	if hi >= uint64(p) {
		return 0, types.ErrOverflow
	}
	q, rem := bits.Div64(hi, lo, uint64(p))
	if rem != 0 {
		q++
	}
	return types.Amount(q), nil
}

// addToDrawList puts a newly registered provider in the list auditors
// and referees are drawn from.
func addToDrawList(kv store.KV, p *Provider) {
	var n uint64
	if b := kv.Get(keyDrawN); len(b) == 8 {
		n = binary.BigEndian.Uint64(b)
	}
	p.DrawIndex = n + 1
	kv.Set(store.Key(prefixDrawL, store.BE64(n)), p.Address[:])
	kv.Set(keyDrawN, store.BE64(n+1))
}

// drawEligible reports whether p may be drawn for job j now. An audit or
// a referee run is an obligation of every provider that takes work: it
// may take a provider up to twice its slots (busy providers would
// otherwise make audits rare exactly under load), and no further, so a
// provider that sits on its runs cannot stall more than that many
// verifications.
func (k Keeper) drawEligible(ctx exec.Ctx, params Params, p *Provider, j *Job) bool {
	if p == nil || p.Retired || p.Lease <= ctx.Block.Height || p.Active >= 2*p.Slots || excluded(j, p.Address) ||
		!ClassOf(p.Profile).Serves(ClassNeeded(j.Req)) ||
		!p.Profile.Runs(j.Runtime) {
		return false
	}
	bond, jailed := k.Stake.ProviderBond(ctx.KV, p.Address)
	return !jailed && bond >= params.MinProviderStake && bond >= p.Locked+j.Lock
}

// drawProvider draws an eligible provider for j uniformly from every
// registered provider, with the beacon: 32 tries, then a walk from a
// drawn point so that a network of mostly retired providers still finds
// one. Nil when none is eligible.
func (k Keeper) drawProvider(ctx exec.Ctx, params Params, j *Job, salt uint64) *Provider {
	var n uint64
	if b := ctx.KV.Get(keyDrawN); len(b) == 8 {
		n = binary.BigEndian.Uint64(b)
	}
	if n == 0 {
		return nil
	}
	beacon := k.beacon(ctx)
	at := func(i uint64) *Provider {
		var a types.Address
		copy(a[:], ctx.KV.Get(store.Key(prefixDrawL, store.BE64(i))))
		return GetProvider(ctx.KV, a)
	}
	for try := uint64(0); try < 32; try++ {
		if p := at(draw(beacon, "mycel/draw/v1", n, j.ID, salt, try)); k.drawEligible(ctx, params, p, j) {
			return p
		}
	}
	start := draw(beacon, "mycel/draw-walk/v1", n, j.ID, salt)
	for i := uint64(0); i < n && i < 4096; i++ {
		if p := at((start + i) % n); k.drawEligible(ctx, params, p, j) {
			return p
		}
	}
	return nil
}

// newRun makes a run of the group's job for a drawn auditor or referee.
func newRun(ctx exec.Ctx, spec *Job, g *Group, role Role, escrow types.Amount) *Job {
	h := ctx.Block.Height
	return &Job{
		ID: nextJobID(ctx.KV), Client: g.Client, Kind: spec.Kind, Program: spec.Program, Input: spec.Input, Req: spec.Req,
		MaxPrice: escrow, Escrow: escrow, GasLimit: spec.GasLimit, MaxOutputBytes: spec.MaxOutputBytes,
		DeadlineBlocks: spec.DeadlineBlocks, Submitted: h, QueueExpiry: h, State: Queued, Inline: spec.Inline,
		Verify: g.Mode, Group: g.ID, Role: role, Runtime: spec.Runtime,
	}
}

// assignDrawn draws a provider for a run and assigns it at price, or
// returns false when no provider is eligible.
func (k Keeper) assignDrawn(ctx exec.Ctx, params Params, j *Job, price types.Amount) bool {
	pr := k.drawProvider(ctx, params, j, uint64(j.Attempts))
	if pr == nil {
		return false
	}
	k.assign(ctx, params, j, pr)
	j.Price = price
	setJob(ctx.KV, j)
	return true
}

// submitGroup submits a job under a verification mode: the client
// escrows MaxPrice for each run it may pay for (r runs in redundant mode;
// the run and a possible audit in optimistic mode).
func (k Keeper) submitGroup(ctx exec.Ctx, signer types.Address, m MsgSubmitJob, p Params, rate types.Fraction) (*Group, error) {
	v := p.Verification
	runs := uint64(m.Redundancy)
	var lock types.Amount
	mode := VerifyMode(m.Verify)
	switch mode {
	case VerifyRedundant:
		if m.Redundancy < 2 || m.Redundancy > v.MaxRedundancy {
			return nil, ErrInvalidJob.Wrapf("redundancy %d outside [2, %d]", m.Redundancy, v.MaxRedundancy)
		}
		if rate != 0 {
			return nil, ErrInvalidJob.Wrapf("an audit rate is for optimistic jobs")
		}
	case VerifyOptimistic:
		if m.Redundancy > 1 {
			return nil, ErrInvalidJob.Wrapf("an optimistic job runs on one provider; redundancy %d is for redundant jobs", m.Redundancy)
		}
		if rate < v.MinAuditRate || !rate.Valid() {
			return nil, ErrInvalidJob.Wrapf("audit rate %s outside [%s, 1]", rate, v.MinAuditRate)
		}
		runs = 2
		var err error
		if lock, err = StakeLock(m.MaxPrice, rate); err != nil {
			return nil, err
		}
	default:
		return nil, ErrInvalidJob.Wrapf("verification mode %d: none (0), redundant (1) or optimistic (2)", m.Verify)
	}
	total, err := m.MaxPrice.MulDiv(runs, 1)
	if err != nil {
		return nil, ErrInvalidJob.Wrapf("max price %s × %d runs overflows", m.MaxPrice, runs)
	}
	if err := k.Bank.Send(ctx.KV, signer, Escrow, total); err != nil {
		return nil, err
	}
	h := ctx.Block.Height
	g := &Group{Client: signer, Mode: mode, AuditRate: rate, Phase: PhaseRunning}
	members := runs
	if mode == VerifyOptimistic {
		members, g.Budget = 1, m.MaxPrice
	}
	for i := uint64(0); i < members; i++ {
		j := &Job{
			ID: nextJobID(ctx.KV), Client: signer, Kind: m.Kind, Program: m.Program, Input: m.Input, Req: m.Req,
			MaxPrice: m.MaxPrice, Escrow: m.MaxPrice, GasLimit: m.GasLimit, MaxOutputBytes: m.MaxOutputBytes,
			DeadlineBlocks: m.DeadlineBlocks, Submitted: h, QueueExpiry: h + p.QueueBlocks, State: Queued,
			Inline: m.Inline, OnChain: m.OnChain, Verify: mode, Role: RoleProvider, Lock: lock, Runtime: DefaultRuntime(m.Kind),
		}
		if g.ID == 0 {
			g.ID = j.ID
		}
		j.Group = g.ID
		g.Members = append(g.Members, j.ID)
		enqueue(ctx, j)
		setJob(ctx.KV, j)
		ctx.KV.Set(clientKey(signer, j.ID), []byte{})
	}
	setGroup(ctx.KV, g)
	ctx.Emit(types.NewEvent("job_submitted", "id", types.U64(g.ID), "client", signer.String(),
		"program", m.Program.String(), "max_price", types.U64(uint64(m.MaxPrice)), "gas_limit", types.U64(m.GasLimit),
		"verify", mode.String(), "runs", types.U64(members), "escrow", types.U64(uint64(total))))
	return g, nil
}
