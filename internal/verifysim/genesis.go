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
