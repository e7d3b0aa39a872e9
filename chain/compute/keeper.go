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
	// Burn destroys an amount held by a module account.
	Burn(kv store.KV, from types.Address, amount types.Amount) error
}

// Stake is what compute needs of stakes: a provider's bond, bonding from
// a registration, and slashing a provider that misses a deadline.
type Stake interface {
	// ProviderBond returns the provider-purpose bond and whether it is
	// jailed.
	ProviderBond(r store.Reader, a types.Address) (types.Amount, bool)
	BondProvider(ctx exec.Ctx, a types.Address, amount types.Amount) error
	// SlashProvider slashes the bond and the unbonding entries that
	// started at or after o.Since, jails or bans as o says, pays the
	// reporter's share to o.Reporter, and returns what it took and what
	// it paid the reporter.
	SlashProvider(ctx exec.Ctx, a types.Address, fraction types.Fraction, reason string, o Slashing) (taken, reported types.Amount, err error)
	// ValidatorBond returns a's validator bond when it is bonded and not
	// jailed, else 0: a ballot's weight in a dispute.
	ValidatorBond(r store.Reader, a types.Address) types.Amount
}

// Slashing refines a slash.
type Slashing struct {
	Since    int64
	Jail     bool
	Ban      bool
	Reporter *types.Address
}

// Keeper is the compute module with the other modules it works with.
type Keeper struct {
	Bank  Bank
	Stake Stake
	// RewardPool is the account the provider reward pool is paid from.
	RewardPool types.Address
	// FeeCollector receives the fees the escrow pays.
	FeeCollector types.Address
	// Beacon returns the randomness beacon (mixed from validators' vote
	// extensions, so a block's proposer cannot choose it); audits and
	// referees are drawn from it. Nil falls back to the previous block's
	// hash, which only tests and networks without extensions use.
	Beacon func(r store.Reader) []byte
}

// beacon is the randomness for draws in this block.
func (k Keeper) beacon(ctx exec.Ctx) []byte {
	if k.Beacon != nil {
		if b := k.Beacon(ctx.KV); len(b) > 0 {
			return b
		}
	}
	return ctx.Block.LastBlockHash
}
