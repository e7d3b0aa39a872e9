package verifysim

import (
	"crypto/ed25519"
	"crypto/sha256"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// The keeper over the real bank and stake modules, wired as app/ wires
// it (app/keepers.go), with the beacon the simulation sets each block.

type bankKeeper struct{}

func (bankKeeper) Send(kv store.KV, from, to types.Address, a types.Amount) error {
	return bank.Send(kv, from, to, a)
}
func (bankKeeper) Balance(r store.Reader, a types.Address) types.Amount { return bank.Balance(r, a) }
func (bankKeeper) Burn(kv store.KV, from types.Address, a types.Amount) error {
	return bank.Burn(kv, from, a)
}

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

// chainID of the simulated chain.
const chainID = "verifysim"

// address returns a deterministic account address for a name.
func address(name string) types.Address {
	s := sha256.Sum256([]byte("mycel/verifysim/" + name))
	return types.AddressFromPubKey(ed25519.NewKeyFromSeed(s[:]).Public().(ed25519.PublicKey))
}

// stakeParams are the stake rules new networks start with (app.DefaultStake).
func stakeParams() stake.Params {
	return stake.Params{
		UnbondingBlocks: 100, UnbondingSeconds: 100, MinValidatorBond: types.MYC(1), PowerReduction: types.MYC(1),
		MaxValidators: 100, JailBlocks: 100, DoubleSignSlash: types.FractionOne / 20, ReporterReward: types.FractionOne / 10,
	}
}

// genesis writes a state with the accounts funded, one validator, the
// provider reward pool funded, and the modules' parameters.
func genesis(funds []bank.GenesisBalance, pool types.Amount, params compute.Params) (*store.MemDB, error) {
	db := store.NewMemDB()
	ctx := exec.New(db, block(1, nil))
	val := address("validator")
	valBond := types.MYC(10)
	balances := []bank.GenesisBalance{{Address: val, Amount: types.MYC(100)}, {Address: stake.Pool, Amount: valBond}}
	if pool > 0 {
		balances = append(balances, bank.GenesisBalance{Address: mint.ProviderPool, Amount: pool})
	}
	balances = append(balances, funds...)
	if err := bank.InitGenesis(db, bank.Genesis{Balances: balances}); err != nil {
		return nil, err
	}
	s := sha256.Sum256([]byte("mycel/verifysim/validator-consensus"))
	cons := ed25519.NewKeyFromSeed(s[:]).Public().(ed25519.PublicKey)
	if _, err := stake.InitGenesis(ctx, stake.Genesis{Params: stakeParams(),
		Validators: []stake.GenesisValidator{{Operator: val, ConsensusKey: cons, Amount: valBond}}}); err != nil {
		return nil, err
	}
	if err := compute.InitGenesis(db, params); err != nil {
		return nil, err
	}
	return db, nil
}

// block is the block at height h, a second apart.
func block(h int64, lastHash []byte) types.Block {
	return types.Block{ChainID: chainID, Height: h, TimeUnixNano: (1_700_000_000 + h) * 1e9, LastBlockHash: lastHash}
}
