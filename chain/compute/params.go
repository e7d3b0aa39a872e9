package compute

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Params are the compute market's rules.
type Params struct {
	// MinProviderStake is the least provider-purpose bond that gets work.
	MinProviderStake types.Amount `json:"min_provider_stake"`
	// GasPerCU is the metered instructions in one compute unit, the unit
	// prices are quoted in.
	GasPerCU uint64 `json:"gas_per_cu"`
	// MaxGas bounds a job's gas limit.
	MaxGas uint64 `json:"max_gas"`
	// MaxOutputBytes bounds a job's output.
	MaxOutputBytes uint64 `json:"max_output_bytes"`
	// LeaseBlocks is how long a provider's activity keeps its lease.
	LeaseBlocks int64 `json:"lease_blocks"`
	// AckBlocks is how long an assigned provider has to acknowledge.
	AckBlocks int64 `json:"ack_blocks"`
	// DefaultDeadline and MaxDeadline bound a job's blocks from assignment
	// to a revealed, available result.
	DefaultDeadline int64 `json:"default_deadline_blocks"`
	MaxDeadline     int64 `json:"max_deadline_blocks"`
	// QueueBlocks is how long a job waits for a provider before it fails.
	QueueBlocks int64 `json:"queue_blocks"`
	// MaxAttempts is how many providers may miss a job before it fails.
	MaxAttempts uint32 `json:"max_attempts"`
	// MaxAssignPerBlock caps the scheduler's work in one block.
	MaxAssignPerBlock uint32 `json:"max_assign_per_block"`
	// MissSlash is taken from the provider stake of a provider that
	// misses a deadline.
	MissSlash types.Fraction `json:"miss_slash"`
	// FeeAllowance is the part of a job's maximum price kept for the
	// fees of its provider's acknowledgement, commit and reveal.
	FeeAllowance types.Amount `json:"fee_allowance"`
	// RewardEpochBlocks is how often the provider reward pool is paid out.
	RewardEpochBlocks int64 `json:"reward_epoch_blocks"`
	// AttestOutputs makes a revealed output wait for validators to attest
	// in their vote extensions that it can be fetched. Without it (a
	// network without vote extensions) a reveal settles at once.
	AttestOutputs bool `json:"attest_outputs"`

	// Verification (verify.go).
	Verification VerifyParams `json:"verification"`
}

// VerifyParams are the rules of the verification modes, slashing for
// proven faults and reputation.
type VerifyParams struct {
	// MaxRedundancy bounds the providers of a redundant job.
	MaxRedundancy uint32 `json:"max_redundancy"`
	// MinAuditRate is the lowest audit rate an optimistic job may ask
	// for: the stake it locks, price·(1−p)/p, grows without bound as p
	// goes to zero.
	MinAuditRate types.Fraction `json:"min_audit_rate"`
	// RevealBlocks is how long a run whose reveal waited on others has
	// to reveal once it may.
	RevealBlocks int64 `json:"reveal_blocks"`
	// ChallengeBlocks is the window after an optimistic job's reveal in
	// which anyone may challenge it with a fraud proof.
	ChallengeBlocks int64 `json:"challenge_blocks"`
	// ChallengeBond is the least bond a challenge posts.
	ChallengeBond types.Amount `json:"challenge_bond"`
	// BondBurn is the part of a lost bond that is burned; the rest pays
	// the referees who settled the challenge.
	BondBurn types.Fraction `json:"bond_burn"`
	// Referees re-execute a disputed job in each round; MaxRounds rounds
	// are tried for a strict majority before the job fails unjudged.
	Referees  uint32 `json:"referees"`
	MaxRounds uint32 `json:"max_rounds"`
	// FaultSlash is taken from the provider stake of a run whose result
	// differs from the re-execution (at least the stake the job locked);
	// FaultJail jails it (for the stake module's jail_blocks) and
	// BanOnFault tombstones it: proven fraud is a permanent ban.
	FaultSlash types.Fraction `json:"fault_slash"`
	FaultJail  bool           `json:"fault_jail"`
	BanOnFault bool           `json:"ban_on_fault"`
	// MaxSlashPerEpoch caps what proven faults take from one provider
	// within a reward epoch, so one fault reported many ways is punished
	// once.
	MaxSlashPerEpoch types.Fraction `json:"max_slash_per_epoch"`
	// PlantRate is the chance per block that the protocol plants a
	// referee task with a known wrong answer, to catch referees that
	// approve without working.
	PlantRate types.Fraction `json:"plant_rate"`
	// RepDecay is what each reputation counter keeps per reward epoch.
	RepDecay types.Fraction `json:"rep_decay"`
	// RepMatureBlocks is the age at which a provider's registration no
	// longer discounts its reputation; RepStake the stake at which its
	// stake no longer does.
	RepMatureBlocks int64        `json:"rep_mature_blocks"`
	RepStake        types.Amount `json:"rep_stake"`
	// DisputeBond is the least bond a dispute over a receipt posts;
	// DisputeSlash is what a provider that loses a dispute over work
	// that is not bit-exact loses (a judgement, not proven fraud: no
	// ban). VoteBlocks and BallotRevealBlocks are the windows in which
	// validators commit and then reveal their ballots when the model is
	// not available to the built-in runtime.
	DisputeBond        types.Amount   `json:"dispute_bond"`
	DisputeSlash       types.Fraction `json:"dispute_slash"`
	VoteBlocks         int64          `json:"vote_blocks"`
	BallotRevealBlocks int64          `json:"ballot_reveal_blocks"`
}

// DefaultVerifyParams are the verification rules new networks start with.
func DefaultVerifyParams() VerifyParams {
	return VerifyParams{
		MaxRedundancy: 7, MinAuditRate: types.FractionOne / 100, RevealBlocks: 20, ChallengeBlocks: 50,
		ChallengeBond: types.MYC(1), BondBurn: types.FractionOne / 2, Referees: 3, MaxRounds: 3,
		FaultSlash: types.FractionOne / 10, FaultJail: true, BanOnFault: true, MaxSlashPerEpoch: types.FractionOne / 2,
		PlantRate: types.FractionOne / 200, RepDecay: types.FractionOne * 95 / 100, RepMatureBlocks: 100_000,
		RepStake: types.MYC(1000), DisputeBond: types.MYC(1), DisputeSlash: types.FractionOne / 20, VoteBlocks: 100,
		BallotRevealBlocks: 50,
	}
}

func (v VerifyParams) validate() error {
	switch {
	case v.MaxRedundancy < 2 || v.MaxRedundancy > 16:
		return fmt.Errorf("max redundancy %d outside [2, 16]", v.MaxRedundancy)
	case v.MinAuditRate == 0 || !v.MinAuditRate.Valid():
		return fmt.Errorf("min audit rate must be in (0, 1]")
	case v.RevealBlocks < 1 || v.ChallengeBlocks < 1:
		return fmt.Errorf("reveal and challenge windows must be at least one block")
	case v.Referees == 0 || v.Referees%2 == 0 || v.Referees > 15 || v.MaxRounds == 0 || v.MaxRounds > 8:
		return fmt.Errorf("referees must be odd, at most 15, with 1 to 8 rounds")
	case !v.BondBurn.Valid() || !v.FaultSlash.Valid() || !v.MaxSlashPerEpoch.Valid() || !v.PlantRate.Valid() || !v.RepDecay.Valid():
		return fmt.Errorf("a verification fraction is above one")
	case v.RepMatureBlocks < 1 || v.RepStake == 0:
		return fmt.Errorf("reputation maturity and stake must be positive")
	case !v.DisputeSlash.Valid() || v.VoteBlocks < 1 || v.BallotRevealBlocks < 1:
		return fmt.Errorf("dispute slash above one, or a ballot window under one block")
	}
	return nil
}

func (v VerifyParams) write(w *codec.Writer) {
	w.Uvarint(uint64(v.MaxRedundancy))
	w.Uvarint(uint64(v.MinAuditRate))
	w.Varint(v.RevealBlocks)
	w.Varint(v.ChallengeBlocks)
	w.Uvarint(uint64(v.ChallengeBond))
	w.Uvarint(uint64(v.BondBurn))
	w.Uvarint(uint64(v.Referees))
	w.Uvarint(uint64(v.MaxRounds))
	w.Uvarint(uint64(v.FaultSlash))
	w.Bool(v.FaultJail)
	w.Bool(v.BanOnFault)
	w.Uvarint(uint64(v.MaxSlashPerEpoch))
	w.Uvarint(uint64(v.PlantRate))
	w.Uvarint(uint64(v.RepDecay))
	w.Varint(v.RepMatureBlocks)
	w.Uvarint(uint64(v.RepStake))
	w.Uvarint(uint64(v.DisputeBond))
	w.Uvarint(uint64(v.DisputeSlash))
	w.Varint(v.VoteBlocks)
	w.Varint(v.BallotRevealBlocks)
}

func readVerifyParams(r *codec.Reader) VerifyParams {
	return VerifyParams{
		MaxRedundancy: uint32(r.Uvarint()), MinAuditRate: types.Fraction(r.Uvarint()), RevealBlocks: r.Varint(),
		ChallengeBlocks: r.Varint(), ChallengeBond: types.Amount(r.Uvarint()), BondBurn: types.Fraction(r.Uvarint()),
		Referees: uint32(r.Uvarint()), MaxRounds: uint32(r.Uvarint()), FaultSlash: types.Fraction(r.Uvarint()),
		FaultJail: r.Bool(), BanOnFault: r.Bool(), MaxSlashPerEpoch: types.Fraction(r.Uvarint()),
		PlantRate: types.Fraction(r.Uvarint()), RepDecay: types.Fraction(r.Uvarint()), RepMatureBlocks: r.Varint(),
		RepStake: types.Amount(r.Uvarint()), DisputeBond: types.Amount(r.Uvarint()), DisputeSlash: types.Fraction(r.Uvarint()),
		VoteBlocks: r.Varint(), BallotRevealBlocks: r.Varint(),
	}
}

// DefaultParams are the rules new networks start with.
func DefaultParams() Params {
	return Params{
		MinProviderStake: types.MYC(10), GasPerCU: 1_000_000, MaxGas: 1 << 40, MaxOutputBytes: 16 << 20,
		LeaseBlocks: 600, AckBlocks: 20, DefaultDeadline: 100, MaxDeadline: 10_000, QueueBlocks: 300,
		MaxAttempts: 3, MaxAssignPerBlock: 500, MissSlash: types.FractionOne / 100, FeeAllowance: 30_000,
		RewardEpochBlocks: 100, AttestOutputs: true, Verification: DefaultVerifyParams(),
	}
}

// Validate checks the parameters' ranges.
func (p Params) Validate() error {
	switch {
	case p.GasPerCU == 0 || p.MaxGas == 0 || p.MaxOutputBytes == 0:
		return fmt.Errorf("gas per compute unit, max gas and max output must be positive")
	case p.LeaseBlocks < 1 || p.AckBlocks < 1 || p.QueueBlocks < 1 || p.RewardEpochBlocks < 1:
		return fmt.Errorf("lease, ack, queue and reward epoch periods must be at least one block")
	case p.DefaultDeadline < 2 || p.MaxDeadline < p.DefaultDeadline:
		return fmt.Errorf("deadlines: default %d must be at least 2 and at most the maximum %d", p.DefaultDeadline, p.MaxDeadline)
	case p.AckBlocks >= p.DefaultDeadline:
		return fmt.Errorf("ack blocks %d must be shorter than the default deadline %d", p.AckBlocks, p.DefaultDeadline)
	case p.MaxAttempts == 0 || p.MaxAttempts > 32 || p.MaxAssignPerBlock == 0:
		return fmt.Errorf("max attempts must be in [1, 32] and max assignments positive")
	case !p.MissSlash.Valid():
		return fmt.Errorf("miss slash above one")
	}
	if err := p.Verification.validate(); err != nil {
		return fmt.Errorf("verification: %w", err)
	}
	return nil
}

var keyParams = []byte("compute/params")

// GetParams reads the rules.
func GetParams(r store.Reader) Params {
	b := r.Get(keyParams)
	if b == nil {
		panic("compute: params missing from state")
	}
	rd := codec.NewReader(b)
	p := Params{
		MinProviderStake: types.Amount(rd.Uvarint()), GasPerCU: rd.Uvarint(), MaxGas: rd.Uvarint(), MaxOutputBytes: rd.Uvarint(),
		LeaseBlocks: rd.Varint(), AckBlocks: rd.Varint(), DefaultDeadline: rd.Varint(), MaxDeadline: rd.Varint(),
		QueueBlocks: rd.Varint(), MaxAttempts: uint32(rd.Uvarint()), MaxAssignPerBlock: uint32(rd.Uvarint()),
		MissSlash: types.Fraction(rd.Uvarint()), FeeAllowance: types.Amount(rd.Uvarint()), RewardEpochBlocks: rd.Varint(),
		AttestOutputs: rd.Bool(), Verification: DefaultVerifyParams(),
	}
	if rd.Remaining() > 0 { // networks begun before verification keep the defaults
		p.Verification = readVerifyParams(rd)
	}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("compute: corrupt params: %w", err))
	}
	return p
}

// InitGenesis writes the rules.
func InitGenesis(kv store.KV, p Params) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("compute params: %w", err)
	}
	w := codec.NewWriter(96)
	w.Uvarint(uint64(p.MinProviderStake))
	w.Uvarint(p.GasPerCU)
	w.Uvarint(p.MaxGas)
	w.Uvarint(p.MaxOutputBytes)
	w.Varint(p.LeaseBlocks)
	w.Varint(p.AckBlocks)
	w.Varint(p.DefaultDeadline)
	w.Varint(p.MaxDeadline)
	w.Varint(p.QueueBlocks)
	w.Uvarint(uint64(p.MaxAttempts))
	w.Uvarint(uint64(p.MaxAssignPerBlock))
	w.Uvarint(uint64(p.MissSlash))
	w.Uvarint(uint64(p.FeeAllowance))
	w.Varint(p.RewardEpochBlocks)
	w.Bool(p.AttestOutputs)
	p.Verification.write(w)
	kv.Set(keyParams, w.Bytes())
	return nil
}
