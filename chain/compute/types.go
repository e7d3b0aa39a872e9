package compute

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Tier is the class of operator a provider says it is.
type Tier uint8

// Tiers. Never renumber.
const (
	TierDatacenter Tier = 1
	TierConsumer   Tier = 2
)

func (t Tier) String() string {
	switch t {
	case TierDatacenter:
		return "datacenter"
	case TierConsumer:
		return "consumer"
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// ParseTier reads a tier name.
func ParseTier(s string) (Tier, error) {
	switch s {
	case "datacenter":
		return TierDatacenter, nil
	case "consumer":
		return TierConsumer, nil
	}
	return 0, ErrInvalidProfile.Wrapf("tier %q: use datacenter or consumer", s)
}

// MarshalText implements encoding.TextMarshaler.
func (t Tier) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Tier) UnmarshalText(b []byte) error {
	v, err := ParseTier(string(b))
	*t = v
	return err
}

// Accel is an accelerator class. Jobs ask for a class, never a card.
type Accel uint8

// Accelerator classes. Never renumber.
const (
	AccelNone Accel = 0
	AccelGPU  Accel = 1
)

func (a Accel) String() string {
	switch a {
	case AccelNone:
		return "none"
	case AccelGPU:
		return "gpu"
	}
	return fmt.Sprintf("accel(%d)", uint8(a))
}

// ParseAccel reads an accelerator class name.
func ParseAccel(s string) (Accel, error) {
	switch s {
	case "", "none":
		return AccelNone, nil
	case "gpu":
		return AccelGPU, nil
	}
	return 0, ErrInvalidJob.Wrapf("accelerator %q: use none or gpu", s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Accel) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Accel) UnmarshalText(b []byte) error {
	v, err := ParseAccel(string(b))
	*a = v
	return err
}

// Profile is a provider's hardware, as its daemon detected and measured it.
type Profile struct {
	CPUModel      string `json:"cpu_model"`
	Cores         uint32 `json:"cores"`
	MemoryMB      uint64 `json:"memory_mb"`
	Accel         Accel  `json:"accel"`
	AccelModel    string `json:"accel_model,omitempty"`
	AccelCount    uint32 `json:"accel_count,omitempty"`
	AccelMemoryMB uint64 `json:"accel_memory_mb,omitempty"`
	// Score is the measured speed in compute units per second.
	Score uint64 `json:"score"`
	// Runtimes are the executor versions the provider runs (RuntimeWasm,
	// RuntimeInference, ...).
	Runtimes []string `json:"runtimes,omitempty"`
}

func (p Profile) write(w *codec.Writer) {
	w.String(p.CPUModel)
	w.Uvarint(uint64(p.Cores))
	w.Uvarint(p.MemoryMB)
	w.Byte(byte(p.Accel))
	w.String(p.AccelModel)
	w.Uvarint(uint64(p.AccelCount))
	w.Uvarint(p.AccelMemoryMB)
	w.Uvarint(p.Score)
}

// writeRuntimes appends a profile's runtime versions, which come last in
// the records that hold a profile (so that records written before they
// existed still read).
func writeRuntimes(w *codec.Writer, rs []string) {
	w.Uvarint(uint64(len(rs)))
	for _, r := range rs {
		w.String(r)
	}
}

func readRuntimes(r *codec.Reader) []string {
	n := r.Count(maxRuntimes)
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, r.String(MaxRuntimeLen))
	}
	return out
}

func readProfile(r *codec.Reader) Profile {
	return Profile{
		CPUModel: r.String(128), Cores: uint32(r.Uvarint()), MemoryMB: r.Uvarint(), Accel: Accel(r.Byte()),
		AccelModel: r.String(128), AccelCount: uint32(r.Uvarint()), AccelMemoryMB: r.Uvarint(), Score: r.Uvarint(),
	}
}

func (p Profile) validate() error {
	switch {
	case p.Cores == 0 || p.Cores > 1<<16:
		return ErrInvalidProfile.Wrapf("cores %d", p.Cores)
	case p.MemoryMB == 0 || p.MemoryMB > 1<<32:
		return ErrInvalidProfile.Wrapf("memory %d MB", p.MemoryMB)
	case p.Accel > AccelGPU:
		return ErrInvalidProfile.Wrapf("accelerator class %d", p.Accel)
	case p.Accel == AccelNone && (p.AccelCount != 0 || p.AccelMemoryMB != 0):
		return ErrInvalidProfile.Wrapf("accelerator memory without an accelerator")
	case p.Accel != AccelNone && (p.AccelCount == 0 || p.AccelMemoryMB == 0):
		return ErrInvalidProfile.Wrapf("an accelerator needs a count and memory")
	case len(p.Runtimes) > maxRuntimes:
		return ErrInvalidProfile.Wrapf("%d runtimes, at most %d", len(p.Runtimes), maxRuntimes)
	}
	for _, r := range p.Runtimes {
		if r == "" || len(r) > MaxRuntimeLen {
			return ErrInvalidProfile.Wrapf("runtime %q: 1 to %d bytes", r, MaxRuntimeLen)
		}
	}
	return nil
}

// Requirements are the capabilities a job needs.
type Requirements struct {
	Cores         uint32 `json:"cores"`
	MemoryMB      uint64 `json:"memory_mb"`
	Accel         Accel  `json:"accel"`
	AccelMemoryMB uint64 `json:"accel_memory_mb,omitempty"`
}

func (q Requirements) write(w *codec.Writer) {
	w.Uvarint(uint64(q.Cores))
	w.Uvarint(q.MemoryMB)
	w.Byte(byte(q.Accel))
	w.Uvarint(q.AccelMemoryMB)
}

func readRequirements(r *codec.Reader) Requirements {
	return Requirements{Cores: uint32(r.Uvarint()), MemoryMB: r.Uvarint(), Accel: Accel(r.Byte()), AccelMemoryMB: r.Uvarint()}
}

// Class is a quantised capability: buckets of cores, memory, the
// accelerator class and accelerator memory. A provider's class rounds its
// capabilities down, a job's requirement rounds up, so a match never
// gives a job less than it asked for.
type Class [4]byte

// Units of the buckets: bucket b covers [unit·2^(b-1), unit·2^b).
const (
	coreUnit     = 1
	memUnitMB    = 256
	accelUnitMB  = 1024
	maxBucketIdx = 40
)

// bucketDown is 0 below unit, else 1 + floor(log2(x/unit)).
func bucketDown(x, unit uint64) byte {
	if x < unit {
		return 0
	}
	return byte(bits.Len64(x / unit))
}

// bucketUp is the least bucket whose lower bound covers x.
func bucketUp(x, unit uint64) byte {
	if x == 0 {
		return 0
	}
	q := (x + unit - 1) / unit
	if q == 1 {
		return 1
	}
	return byte(bits.Len64(q-1)) + 1
}

// ClassOf returns a provider profile's class.
func ClassOf(p Profile) Class {
	return Class{bucketDown(uint64(p.Cores), coreUnit), bucketDown(p.MemoryMB, memUnitMB), byte(p.Accel), bucketDown(p.AccelMemoryMB, accelUnitMB)}
}

// ClassNeeded returns the least class that meets a job's requirements.
func ClassNeeded(q Requirements) Class {
	return Class{bucketUp(uint64(q.Cores), coreUnit), bucketUp(q.MemoryMB, memUnitMB), byte(q.Accel), bucketUp(q.AccelMemoryMB, accelUnitMB)}
}

// Serves reports whether providers of class c can run jobs that need n.
func (c Class) Serves(n Class) bool {
	return c[0] >= n[0] && c[1] >= n[1] && (n[2] == 0 || c[2] == n[2]) && c[3] >= n[3]
}

// Provider is a registered provider.
type Provider struct {
	Address  types.Address `json:"address"`
	Profile  Profile       `json:"profile"`
	Price    types.Amount  `json:"price_per_cu"`
	Tier     Tier          `json:"tier"`
	Region   string        `json:"region"`
	Slots    uint32        `json:"slots"`
	Active   uint32        `json:"active_jobs"`
	Since    int64         `json:"registered_height"`
	Lease    int64         `json:"lease_expiry_height"`
	Retired  bool          `json:"deregistered,omitempty"`
	Done     uint64        `json:"jobs_done"`
	Failed   uint64        `json:"jobs_failed"`
	Missed   uint64        `json:"jobs_missed"`
	Earned   types.Amount  `json:"earned"`
	GasTotal uint64        `json:"gas_settled"`
	// Verification record (reputation.go): proven faults, stake slashed
	// for them, stake locked by open jobs, the decayed counters the
	// reputation is computed from, and the provider's place in the list
	// auditors are drawn from.
	Faults    uint64       `json:"faults"`
	Slashed   types.Amount `json:"slashed"`
	Locked    types.Amount `json:"stake_locked"`
	Rep       RepCounters  `json:"-"`
	DrawIndex uint64       `json:"-"`
	// Indexed is where the provider sits in the scheduler's index, if it
	// does.
	Indexed []byte `json:"-"`
}

func (p *Provider) encode() []byte {
	w := codec.NewWriter(160)
	p.Profile.write(w)
	w.Uvarint(uint64(p.Price))
	w.Byte(byte(p.Tier))
	w.String(p.Region)
	w.Uvarint(uint64(p.Slots))
	w.Uvarint(uint64(p.Active))
	w.Varint(p.Since)
	w.Varint(p.Lease)
	w.Bool(p.Retired)
	w.Uvarint(p.Done)
	w.Uvarint(p.Failed)
	w.Uvarint(p.Missed)
	w.Uvarint(uint64(p.Earned))
	w.Uvarint(p.GasTotal)
	w.LenBytes(p.Indexed)
	w.Uvarint(p.Faults)
	w.Uvarint(uint64(p.Slashed))
	w.Uvarint(uint64(p.Locked))
	p.Rep.write(w)
	w.Uvarint(p.DrawIndex)
	writeRuntimes(w, p.Profile.Runtimes)
	return w.Bytes()
}

func decodeProvider(a types.Address, b []byte) *Provider {
	r := codec.NewReader(b)
	p := &Provider{Address: a, Profile: readProfile(r), Price: types.Amount(r.Uvarint()), Tier: Tier(r.Byte()),
		Region: r.String(64), Slots: uint32(r.Uvarint()), Active: uint32(r.Uvarint()), Since: r.Varint(), Lease: r.Varint(),
		Retired: r.Bool(), Done: r.Uvarint(), Failed: r.Uvarint(), Missed: r.Uvarint(), Earned: types.Amount(r.Uvarint()),
		GasTotal: r.Uvarint()}
	if ix := r.LenBytes(128); len(ix) > 0 {
		p.Indexed = append([]byte(nil), ix...)
	}
	if r.Remaining() > 0 { // providers stored before verification have none of this
		p.Faults, p.Slashed, p.Locked = r.Uvarint(), types.Amount(r.Uvarint()), types.Amount(r.Uvarint())
		p.Rep = readRepCounters(r)
		p.DrawIndex = r.Uvarint()
		p.Profile.Runtimes = readRuntimes(r)
	}
	if err := r.Done(); err != nil {
		panic(fmt.Errorf("compute: corrupt provider %s: %w", a, err))
	}
	return p
}

// Kind is what a job runs.
type Kind uint8

// Job kinds. Never renumber.
const (
	KindWasm Kind = 1
	// KindInference runs a model (Program: the GGUF file's hash) on a
	// request (Input: an inference.Request as JSON) with the built-in
	// deterministic runtime; the output is the answer as JSON.
	KindInference Kind = 2
	// KindCheck is a referee's check of a disputed inference receipt
	// (dispute.go): made by the chain, never submitted.
	KindCheck Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindWasm:
		return "wasm"
	case KindInference:
		return "inference"
	case KindCheck:
		return "check"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "wasm":
		*k = KindWasm
	case "inference":
		*k = KindInference
	case "check":
		*k = KindCheck
	default:
		return fmt.Errorf("job kind %q: wasm or inference", b)
	}
	return nil
}

// State is where a job stands.
type State uint8

// Job states. Never renumber.
const (
	Queued    State = 1
	Assigned  State = 2
	Committed State = 3
	Revealed  State = 4
	Succeeded State = 5
	Failed    State = 6
	Cancelled State = 7
)

var stateNames = []string{"", "queued", "assigned", "committed", "revealed", "succeeded", "failed", "cancelled"}

func (s State) String() string {
	if int(s) < len(stateNames) && s > 0 {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// ParseState reads a state name.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if n == s && i > 0 {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("job state %q: use queued, assigned, committed, revealed, succeeded, failed or cancelled", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	*s = v
	return err
}

// Finished reports whether a job has reached its end.
func (s State) Finished() bool { return s >= Succeeded }

// Escrow-paid fee flags, one per message kind and assignment.
const (
	paidAck uint8 = 1 << iota
	paidCommit
	paidReveal
)

// Job is a submitted job.
type Job struct {
	ID             uint64        `json:"id,string"`
	Client         types.Address `json:"client"`
	Kind           Kind          `json:"kind"`
	Program        types.Hash    `json:"program"`
	Input          types.Hash    `json:"input"`
	Req            Requirements  `json:"requirements"`
	MaxPrice       types.Amount  `json:"max_price"`
	Escrow         types.Amount  `json:"escrow"`
	GasLimit       uint64        `json:"gas_limit"`
	MaxOutputBytes uint64        `json:"max_output_bytes"`
	DeadlineBlocks int64         `json:"deadline_blocks"`
	Submitted      int64         `json:"submitted_height"`
	QueueExpiry    int64         `json:"queue_expiry_height"`
	QueuedAt       int64         `json:"queued_height,omitempty"`
	State          State         `json:"state"`
	// The current assignment.
	Provider    types.Address `json:"provider,omitempty"`
	Price       types.Amount  `json:"price_per_cu"`
	AssignedAt  int64         `json:"assigned_height,omitempty"`
	Acked       bool          `json:"acknowledged"`
	AckDeadline int64         `json:"ack_deadline_height,omitempty"`
	Deadline    int64         `json:"deadline_height,omitempty"`
	Commitment  types.Hash    `json:"commitment"`
	CommittedAt int64         `json:"committed_height,omitempty"`
	FeesPaid    uint8         `json:"-"`
	// The result.
	Output     types.Hash   `json:"output"`
	OutputSize uint64       `json:"output_size"`
	GasUsed    uint64       `json:"gas_used"`
	RunFailure string       `json:"run_failure,omitempty"`
	Paid       types.Amount `json:"paid"`
	Refunded   types.Amount `json:"refunded"`
	Finished   int64        `json:"finished_height,omitempty"`
	// Reason says why the chain ended the job, when it did.
	Reason   string          `json:"reason,omitempty"`
	Attempts uint32          `json:"attempts"`
	Excluded []types.Address `json:"excluded,omitempty"`
	// Inline is the input the submission carried; OnChain asks for the
	// result in state, where Result holds it once revealed.
	Inline  []byte `json:"inline_input,omitempty"`
	OnChain bool   `json:"on_chain_result,omitempty"`
	Result  []byte `json:"result,omitempty"`

	// Verification (verify.go). Group is the id of the verification group
	// the job runs in (0: none); Role is what the run is for in it; Lock
	// is the provider stake the run needs free and locks while assigned.
	Verify VerifyMode   `json:"verify,omitempty"`
	Group  uint64       `json:"group,omitempty,string"`
	Role   Role         `json:"role,omitempty"`
	Lock   types.Amount `json:"stake_lock,omitempty"`
	// Runtime is the frozen version of the executor the job runs on,
	// current when it was submitted; only providers that run it take the
	// job or referee it, so a later release never makes an honest
	// provider's result differ.
	Runtime string `json:"runtime,omitempty"`
}

// The executor versions jobs name (the frozen names the executors
// report): a new release adds a version, it never changes one.
const (
	RuntimeWasm      = "mycel-wasm/1"
	RuntimeInference = "mycel-rt/1"
	MaxRuntimeLen    = 32
	maxRuntimes      = 8
)

// DefaultRuntime is the version a job of kind k names.
func DefaultRuntime(k Kind) string {
	switch k {
	case KindWasm:
		return RuntimeWasm
	case KindInference, KindCheck:
		return RuntimeInference
	}
	return ""
}

// Runs reports whether a provider with this profile runs version v. A
// profile that lists no versions runs the defaults.
func (p Profile) Runs(v string) bool {
	if v == "" {
		return true
	}
	if len(p.Runtimes) == 0 {
		return v == RuntimeWasm || v == RuntimeInference
	}
	for _, r := range p.Runtimes {
		if r == v {
			return true
		}
	}
	return false
}

// holdsSlot reports whether the job occupies its provider's slot: a
// grouped run gives its slot back when it reveals, an ungrouped one when
// it settles.
func (j *Job) holdsSlot() bool {
	switch j.State {
	case Assigned, Committed:
		return true
	case Revealed:
		return j.Group == 0
	}
	return false
}

func (j *Job) encode() []byte {
	w := codec.NewWriter(320)
	w.Fixed(j.Client[:])
	w.Byte(byte(j.Kind))
	w.Fixed(j.Program[:])
	w.Fixed(j.Input[:])
	j.Req.write(w)
	w.Uvarint(uint64(j.MaxPrice))
	w.Uvarint(uint64(j.Escrow))
	w.Uvarint(j.GasLimit)
	w.Uvarint(j.MaxOutputBytes)
	w.Varint(j.DeadlineBlocks)
	w.Varint(j.Submitted)
	w.Varint(j.QueueExpiry)
	w.Varint(j.QueuedAt)
	w.Byte(byte(j.State))
	w.Fixed(j.Provider[:])
	w.Uvarint(uint64(j.Price))
	w.Varint(j.AssignedAt)
	w.Bool(j.Acked)
	w.Varint(j.AckDeadline)
	w.Varint(j.Deadline)
	w.Fixed(j.Commitment[:])
	w.Varint(j.CommittedAt)
	w.Byte(j.FeesPaid)
	w.Fixed(j.Output[:])
	w.Uvarint(j.OutputSize)
	w.Uvarint(j.GasUsed)
	w.String(j.RunFailure)
	w.Uvarint(uint64(j.Paid))
	w.Uvarint(uint64(j.Refunded))
	w.Varint(j.Finished)
	w.String(j.Reason)
	w.Uvarint(uint64(j.Attempts))
	w.Uvarint(uint64(len(j.Excluded)))
	for _, a := range j.Excluded {
		w.Fixed(a[:])
	}
	// Appended, and only when set, so the records of earlier jobs decode.
	// Later fields are optional on decoding (jobs stored before they
	// existed) and always written.
	w.LenBytes(j.Inline)
	w.Bool(j.OnChain)
	w.LenBytes(j.Result)
	w.Byte(byte(j.Verify))
	w.Uvarint(j.Group)
	w.Byte(byte(j.Role))
	w.Uvarint(uint64(j.Lock))
	w.String(j.Runtime)
	return w.Bytes()
}

func decodeJob(id uint64, b []byte) *Job {
	r := codec.NewReader(b)
	j := &Job{ID: id}
	r.FixedInto(j.Client[:])
	j.Kind = Kind(r.Byte())
	r.FixedInto(j.Program[:])
	r.FixedInto(j.Input[:])
	j.Req = readRequirements(r)
	j.MaxPrice = types.Amount(r.Uvarint())
	j.Escrow = types.Amount(r.Uvarint())
	j.GasLimit = r.Uvarint()
	j.MaxOutputBytes = r.Uvarint()
	j.DeadlineBlocks = r.Varint()
	j.Submitted = r.Varint()
	j.QueueExpiry = r.Varint()
	j.QueuedAt = r.Varint()
	j.State = State(r.Byte())
	r.FixedInto(j.Provider[:])
	j.Price = types.Amount(r.Uvarint())
	j.AssignedAt = r.Varint()
	j.Acked = r.Bool()
	j.AckDeadline = r.Varint()
	j.Deadline = r.Varint()
	r.FixedInto(j.Commitment[:])
	j.CommittedAt = r.Varint()
	j.FeesPaid = r.Byte()
	r.FixedInto(j.Output[:])
	j.OutputSize = r.Uvarint()
	j.GasUsed = r.Uvarint()
	j.RunFailure = r.String(MaxFailureLen)
	j.Paid = types.Amount(r.Uvarint())
	j.Refunded = types.Amount(r.Uvarint())
	j.Finished = r.Varint()
	j.Reason = r.String(256)
	j.Attempts = uint32(r.Uvarint())
	n := r.Count(64)
	for i := 0; i < n; i++ {
		var a types.Address
		r.FixedInto(a[:])
		j.Excluded = append(j.Excluded, a)
	}
	if r.Remaining() > 0 {
		j.Inline = r.LenBytes(MaxInlineBytes)
		j.OnChain = r.Bool()
		j.Result = r.LenBytes(MaxInlineBytes)
	}
	if r.Remaining() > 0 {
		j.Verify, j.Group, j.Role, j.Lock = VerifyMode(r.Byte()), r.Uvarint(), Role(r.Byte()), types.Amount(r.Uvarint())
	}
	if r.Remaining() > 0 {
		j.Runtime = r.String(MaxRuntimeLen)
	}
	if err := r.Done(); err != nil {
		panic(fmt.Errorf("compute: corrupt job %d: %w", id, err))
	}
	return j
}

// MaxFailureLen bounds the failure reason a provider reveals.
const MaxFailureLen = 256

// ResultDomain prefixes what a result commitment hashes.
const ResultDomain = "mycel/job-result/v1\x00"

// Commitment returns the hash a provider commits before revealing a
// result: it binds the job, the output, the gas, the failure reason and a
// secret salt, so nobody can copy a result from a commitment.
func Commitment(job uint64, output types.Hash, gas uint64, failure string, salt [32]byte) types.Hash {
	h := sha256.New()
	h.Write([]byte(ResultDomain))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], job)
	h.Write(b[:])
	h.Write(output[:])
	binary.BigEndian.PutUint64(b[:], gas)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(len(failure)))
	h.Write(b[:])
	h.Write([]byte(failure))
	h.Write(salt[:])
	var out types.Hash
	copy(out[:], h.Sum(nil))
	return out
}

// EmptyHash is sha256 of nothing: the output of a job that printed
// nothing, available everywhere without a fetch.
var EmptyHash = types.SumHash(nil)

// Cost returns what gas costs at a price per compute unit, rounded up.
func Cost(gas uint64, price types.Amount, gasPerCU uint64) (types.Amount, error) {
	hi, lo := bits.Mul64(gas, uint64(price))
	if hi >= gasPerCU {
		return 0, types.ErrOverflow
	}
	q, rem := bits.Div64(hi, lo, gasPerCU)
	if rem != 0 {
		if q == ^uint64(0) {
			return 0, types.ErrOverflow
		}
		q++
	}
	return types.Amount(q), nil
}
