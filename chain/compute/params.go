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
}

// DefaultParams are the rules new networks start with.
func DefaultParams() Params {
	return Params{
		MinProviderStake: types.MYC(10), GasPerCU: 1_000_000, MaxGas: 1 << 40, MaxOutputBytes: 16 << 20,
		LeaseBlocks: 600, AckBlocks: 20, DefaultDeadline: 100, MaxDeadline: 10_000, QueueBlocks: 300,
		MaxAttempts: 3, MaxAssignPerBlock: 500, MissSlash: types.FractionOne / 100, FeeAllowance: 30_000,
		RewardEpochBlocks: 100, AttestOutputs: true,
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
		AttestOutputs: rd.Bool(),
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
	kv.Set(keyParams, w.Bytes())
	return nil
}
