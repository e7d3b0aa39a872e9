package stake

import (
	"crypto/ed25519"
	"fmt"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Genesis is the stake module's part of the genesis state. The tokens of
// every genesis bond must be in the pool's genesis balance.
type Genesis struct {
	Params     Params             `json:"params"`
	Validators []GenesisValidator `json:"validators"`
	Bonds      []GenesisBond      `json:"bonds,omitempty"`
}

// GenesisValidator is a validator bonded from the start.
type GenesisValidator struct {
	Operator     types.Address `json:"operator"`
	ConsensusKey []byte        `json:"consensus_key"` // base64 in JSON
	Amount       types.Amount  `json:"amount"`
}

// GenesisBond is a bond of another purpose at genesis.
type GenesisBond struct {
	Address types.Address `json:"address"`
	Purpose Purpose       `json:"purpose"`
	Amount  types.Amount  `json:"amount"`
}

// InitGenesis writes the parameters and the genesis bonds and returns the
// first validator set.
func InitGenesis(ctx exec.Ctx, g Genesis) ([]ValidatorUpdate, error) {
	if err := g.Params.Validate(); err != nil {
		return nil, fmt.Errorf("stake params: %w", err)
	}
	setParams(ctx.KV, g.Params)
	var sum types.Amount
	for _, v := range g.Validators {
		if len(v.ConsensusKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("genesis validator %s: consensus key of %d bytes", v.Operator, len(v.ConsensusKey))
		}
		if v.Amount < g.Params.MinValidatorBond {
			return nil, fmt.Errorf("genesis validator %s: bond %s below the minimum %s", v.Operator, v.Amount, g.Params.MinValidatorBond)
		}
		if _, ok := GetBond(ctx.KV, v.Operator, Validator); ok {
			return nil, fmt.Errorf("genesis validator %s listed twice", v.Operator)
		}
		ca := ConsensusAddress(v.ConsensusKey)
		if other, ok := OperatorOf(ctx.KV, ca); ok {
			return nil, fmt.Errorf("genesis validator %s: consensus key already bound to %s", v.Operator, other)
		}
		ctx.KV.Set(store.Key(prefixConsKey, ca), v.Operator[:])
		setBond(ctx.KV, v.Operator, Validator, Bond{Amount: v.Amount, Since: 1, ConsensusKey: v.ConsensusKey})
		var err error
		if sum, err = sum.Add(v.Amount); err != nil {
			return nil, fmt.Errorf("genesis bonds overflow")
		}
	}
	for _, b := range g.Bonds {
		if !b.Purpose.Valid() || b.Purpose == Validator {
			return nil, fmt.Errorf("genesis bond of %s: purpose %s (validators go in the validator list)", b.Address, b.Purpose)
		}
		if _, ok := GetBond(ctx.KV, b.Address, b.Purpose); ok {
			return nil, fmt.Errorf("genesis bond of %s for %s listed twice", b.Address, b.Purpose)
		}
		setBond(ctx.KV, b.Address, b.Purpose, Bond{Amount: b.Amount, Since: 1})
		var err error
		if sum, err = sum.Add(b.Amount); err != nil {
			return nil, fmt.Errorf("genesis bonds overflow")
		}
	}
	if pool := bank.Balance(ctx.KV, Pool); pool != sum {
		return nil, fmt.Errorf("genesis stake pool %s holds %s, the genesis bonds need %s", Pool, pool, sum)
	}
	if len(g.Validators) == 0 {
		return nil, fmt.Errorf("genesis has no validators")
	}
	return updateValidators(ctx)
}
