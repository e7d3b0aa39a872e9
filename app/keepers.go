package app

import (
	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// bankKeeper gives other modules the bank through their small interfaces.
type bankKeeper struct{}

func (bankKeeper) Send(kv store.KV, from, to types.Address, amt types.Amount) error {
	return bank.Send(kv, from, to, amt)
}
func (bankKeeper) Balance(r store.Reader, a types.Address) types.Amount { return bank.Balance(r, a) }
func (bankKeeper) Burn(kv store.KV, from types.Address, a types.Amount) error {
	return bank.Burn(kv, from, a)
}

// stakeKeeper gives the compute module provider stakes.
type stakeKeeper struct{}

func (stakeKeeper) ProviderBond(r store.Reader, a types.Address) (types.Amount, bool) {
	b, _ := stake.GetBond(r, a, stake.Provider)
	return b.Amount, b.Jailed
}

func (stakeKeeper) ValidatorBond(r store.Reader, a types.Address) types.Amount {
	if b, ok := stake.GetBond(r, a, stake.Validator); ok && !b.Jailed {
		return b.Amount
	}
	return 0
}

func (stakeKeeper) BondProvider(ctx exec.Ctx, a types.Address, amt types.Amount) error {
	return stake.BondFor(ctx, a, stake.Provider, amt)
}

func (stakeKeeper) SlashProvider(ctx exec.Ctx, a types.Address, f types.Fraction, reason string, o compute.Slashing) (types.Amount, types.Amount, error) {
	return stake.Slash(ctx, a, stake.Provider, f, reason, stake.SlashOptions{InfractionHeight: o.Since, Jail: o.Jail, Tombstone: o.Ban, Reporter: o.Reporter})
}

var (
	_ compute.Bank  = bankKeeper{}
	_ compute.Stake = stakeKeeper{}
)

// computeKeeper is the compute module wired to the others.
func computeKeeper() compute.Keeper {
	return compute.Keeper{Bank: bankKeeper{}, Stake: stakeKeeper{}, RewardPool: mint.ProviderPool, FeeCollector: auth.FeeCollector,
		Beacon: func(r store.Reader) []byte { return r.Get(keyBeacon) }}
}

// ComputeKeeper returns the compute module wired as the application
// wires it, for tools that drive its end-block step directly (the
// scheduler benchmark).
func ComputeKeeper() compute.Keeper { return computeKeeper() }
