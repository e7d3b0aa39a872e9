package compute

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Escrow is the module account that holds the escrow of unfinished jobs.
var Escrow = types.ModuleAddress("compute_escrow")

// Bank is what compute needs of the bank.
type Bank interface {
	Send(kv store.KV, from, to types.Address, amount types.Amount) error
	Balance(r store.Reader, a types.Address) types.Amount
}

// Stake is what compute needs of stakes: a provider's bond, bonding from
// a registration, and slashing a provider that misses a deadline.
type Stake interface {
	// ProviderBond returns the provider-purpose bond and whether it is
	// jailed.
	ProviderBond(r store.Reader, a types.Address) (types.Amount, bool)
	BondProvider(ctx exec.Ctx, a types.Address, amount types.Amount) error
	// SlashProvider slashes the bond and the unbonding entries that
	// started at or after height since.
	SlashProvider(ctx exec.Ctx, a types.Address, fraction types.Fraction, reason string, since int64) error
}

// Keeper is the compute module with the other modules it works with.
type Keeper struct {
	Bank  Bank
	Stake Stake
	// RewardPool is the account the provider reward pool is paid from.
	RewardPool types.Address
	// FeeCollector receives the fees the escrow pays.
	FeeCollector types.Address
}
