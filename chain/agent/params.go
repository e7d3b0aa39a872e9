package agent

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Params are the agent registry's rules, set at genesis.
type Params struct {
	// MinDeposit is the least deposit a registration escrows.
	MinDeposit types.Amount `json:"min_deposit"`
	// RegistrationBlocks is how long a registration or a renewal lasts:
	// an agent registered or renewed at height h is listed through the
	// block at h + RegistrationBlocks, then expires unless renewed.
	RegistrationBlocks int64 `json:"registration_blocks"`
	// UnbondingBlocks is how long a deregistered agent's deposit stays
	// escrowed before it is paid back to the owner.
	UnbondingBlocks int64 `json:"unbonding_blocks"`
	// MaxCardBytes bounds the size of an agent's or a collective's card.
	MaxCardBytes uint64 `json:"max_card_bytes"`
	// MinRatingPayment is the least a rating pays the agent's owner.
	MinRatingPayment types.Amount `json:"min_rating_payment"`
	// RatingBurn is the part of a rating's payment that is burned, so
	// that an owner rating its own agent through another account pays
	// for the privilege.
	RatingBurn types.Fraction `json:"rating_burn"`
	// RatingEpochBlocks is the length of a reputation epoch; ratings
	// decay by RatingKeep for each epoch that passes.
	RatingEpochBlocks int64          `json:"rating_epoch_blocks"`
	RatingKeep        types.Fraction `json:"rating_keep"`
	// ReportBond is the least bond a report of misbehaviour escrows.
	ReportBond types.Amount `json:"report_bond"`
	// Reports are judged by validators (ballot.go): ballots committed for
	// ReportVoteBlocks after the report, revealed for ReportRevealBlocks
	// after that. An upheld report takes ReportSlash of the agent's
	// deposit (half to the reporter, half burned); a rejected one loses
	// ReportBurn of its bond (burned; the rest to the agent's owner).
	ReportVoteBlocks   int64          `json:"report_vote_blocks"`
	ReportRevealBlocks int64          `json:"report_reveal_blocks"`
	ReportSlash        types.Fraction `json:"report_slash"`
	ReportBurn         types.Fraction `json:"report_burn"`
}

// DefaultParams are the rules new networks start with, in blocks of about
// a second: a 10 MYC deposit at least, registrations that last a week, a
// day's unbonding, cards up to 64 KiB, ratings that pay at least 0.01 MYC
// (a tenth of it burned) and decay by 5% a day, and a 10 MYC report bond.
func DefaultParams() Params {
	return Params{
		MinDeposit:         types.MYC(10),
		RegistrationBlocks: 604_800,
		UnbondingBlocks:    86_400,
		MaxCardBytes:       64 << 10,
		MinRatingPayment:   10_000,
		RatingBurn:         types.FractionOne / 10,
		RatingEpochBlocks:  86_400,
		RatingKeep:         types.FractionOne * 95 / 100,
		ReportBond:         types.MYC(10),
		ReportVoteBlocks:   100,
		ReportRevealBlocks: 50,
		ReportSlash:        types.FractionOne / 10,
		ReportBurn:         types.FractionOne / 2,
	}
}

// MaxPeriodBlocks bounds the periods (about 30 years of one-second
// blocks), so that height + period never overflows.
const MaxPeriodBlocks = 1 << 30

// Validate checks the parameters' ranges.
func (p Params) Validate() error {
	switch {
	case p.MinDeposit == 0:
		return fmt.Errorf("min deposit must be at least 1umyc")
	case p.RegistrationBlocks < 1 || p.RegistrationBlocks > MaxPeriodBlocks:
		return fmt.Errorf("registration blocks %d: want 1 to %d", p.RegistrationBlocks, MaxPeriodBlocks)
	case p.UnbondingBlocks < 1 || p.UnbondingBlocks > MaxPeriodBlocks:
		return fmt.Errorf("unbonding blocks %d: want 1 to %d", p.UnbondingBlocks, MaxPeriodBlocks)
	case p.MaxCardBytes == 0 || p.MaxCardBytes > 1<<24:
		return fmt.Errorf("max card bytes %d: want 1 to %d", p.MaxCardBytes, 1<<24)
	case p.MinRatingPayment == 0:
		return fmt.Errorf("min rating payment must be at least 1umyc")
	case !p.RatingBurn.Valid() || p.RatingBurn == types.FractionOne:
		return fmt.Errorf("rating burn %d ppm: want less than %d", p.RatingBurn, types.FractionOne)
	case p.RatingEpochBlocks < 1 || p.RatingEpochBlocks > MaxPeriodBlocks:
		return fmt.Errorf("rating epoch blocks %d: want 1 to %d", p.RatingEpochBlocks, MaxPeriodBlocks)
	case !p.RatingKeep.Valid():
		return fmt.Errorf("rating keep %d ppm: want at most %d", p.RatingKeep, types.FractionOne)
	case p.ReportBond == 0:
		return fmt.Errorf("report bond must be at least 1umyc")
	case p.ReportVoteBlocks < 1 || p.ReportRevealBlocks < 1 || p.ReportVoteBlocks > MaxPeriodBlocks || p.ReportRevealBlocks > MaxPeriodBlocks:
		return fmt.Errorf("report ballot windows must be 1 to %d blocks", MaxPeriodBlocks)
	case !p.ReportSlash.Valid() || !p.ReportBurn.Valid():
		return fmt.Errorf("report slash and burn are fractions of at most one")
	}
	return nil
}

func (p Params) encode() []byte {
	w := codec.NewWriter(64)
	w.Uvarint(uint64(p.MinDeposit))
	w.Varint(p.RegistrationBlocks)
	w.Varint(p.UnbondingBlocks)
	w.Uvarint(p.MaxCardBytes)
	w.Uvarint(uint64(p.MinRatingPayment))
	w.Uvarint(uint64(p.RatingBurn))
	w.Varint(p.RatingEpochBlocks)
	w.Uvarint(uint64(p.RatingKeep))
	w.Uvarint(uint64(p.ReportBond))
	w.Varint(p.ReportVoteBlocks)
	w.Varint(p.ReportRevealBlocks)
	w.Uvarint(uint64(p.ReportSlash))
	w.Uvarint(uint64(p.ReportBurn))
	return w.Bytes()
}

// Initialized reports whether the state holds the registry's rules (a
// chain started before the registry has none).
func Initialized(r store.Reader) bool { return r.Get(keyParams) != nil }

// GetParams reads the rules.
func GetParams(r store.Reader) Params {
	b := r.Get(keyParams)
	if b == nil {
		panic("agent: params missing from state")
	}
	rd := codec.NewReader(b)
	p := Params{MinDeposit: types.Amount(rd.Uvarint()), RegistrationBlocks: rd.Varint(), UnbondingBlocks: rd.Varint(),
		MaxCardBytes: rd.Uvarint(), MinRatingPayment: types.Amount(rd.Uvarint()), RatingBurn: types.Fraction(rd.Uvarint()),
		RatingEpochBlocks: rd.Varint(), RatingKeep: types.Fraction(rd.Uvarint()), ReportBond: types.Amount(rd.Uvarint())}
	if rd.Remaining() > 0 {
		p.ReportVoteBlocks, p.ReportRevealBlocks = rd.Varint(), rd.Varint()
		p.ReportSlash, p.ReportBurn = types.Fraction(rd.Uvarint()), types.Fraction(rd.Uvarint())
	} else { // a chain begun before report ballots
		d := DefaultParams()
		p.ReportVoteBlocks, p.ReportRevealBlocks, p.ReportSlash, p.ReportBurn = d.ReportVoteBlocks, d.ReportRevealBlocks, d.ReportSlash, d.ReportBurn
	}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("agent: corrupt params: %w", err))
	}
	return p
}

// Genesis is the registry's part of the genesis state: its rules. A
// network starts with no agents (a registration escrows a deposit, which
// needs an account and a transaction).
type Genesis struct {
	Params Params `json:"params"`
}

// InitGenesis writes the rules.
func InitGenesis(kv store.KV, g Genesis) error {
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("agent params: %w", err)
	}
	kv.Set(keyParams, g.Params.encode())
	return nil
}
