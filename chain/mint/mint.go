package mint

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Module accounts.
var (
	// ProviderPool collects the providers' share of the block reward.
	ProviderPool = types.ModuleAddress("provider_pool")
	// Distribution holds what is being split between validators, and
	// the rounding remainder between blocks.
	Distribution = types.ModuleAddress("distribution")
)

var (
	keyParams     = []byte("mint/params")
	prefixEarned  = []byte("mint/earned/")
	errCorrupt    = "mint: corrupt %s: %w"
	maxHalvings   = int64(64)
	minHalvingGap = int64(1)
)

// Params is the emission schedule.
type Params struct {
	InitialReward types.Amount   `json:"initial_block_reward"`
	HalvingBlocks int64          `json:"halving_blocks"`
	ProviderShare types.Fraction `json:"provider_share"`
}

// Validate checks the parameters' ranges.
func (p Params) Validate() error {
	if p.HalvingBlocks < minHalvingGap {
		return fmt.Errorf("halving blocks must be positive")
	}
	if !p.ProviderShare.Valid() {
		return fmt.Errorf("provider share above one")
	}
	return nil
}

// Reward returns the block reward at height h.
func (p Params) Reward(h int64) types.Amount {
	if h < 1 {
		return 0
	}
	halvings := (h - 1) / p.HalvingBlocks
	if halvings >= maxHalvings {
		return 0
	}
	return p.InitialReward >> uint(halvings)
}

// GetParams reads the schedule.
func GetParams(r store.Reader) Params {
	b := r.Get(keyParams)
	if b == nil {
		panic("mint: params missing from state")
	}
	rd := codec.NewReader(b)
	p := Params{InitialReward: types.Amount(rd.Uvarint()), HalvingBlocks: rd.Varint(), ProviderShare: types.Fraction(rd.Uvarint())}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf(errCorrupt, "params", err))
	}
	return p
}

// InitGenesis writes the schedule.
func InitGenesis(kv store.KV, p Params) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("mint params: %w", err)
	}
	w := codec.NewWriter(24)
	w.Uvarint(uint64(p.InitialReward))
	w.Varint(p.HalvingBlocks)
	w.Uvarint(uint64(p.ProviderShare))
	kv.Set(keyParams, w.Bytes())
	return nil
}

// Recipient is a validator that shares in a block's earnings.
type Recipient struct {
	Address types.Address
	Weight  types.Amount // bonded stake
}

// Earned returns the rewards and fees a validator has received in all.
func Earned(r store.Reader, a types.Address) types.Amount {
	b := r.Get(append(append([]byte(nil), prefixEarned...), a[:]...))
	if b == nil {
		return 0
	}
	rd := codec.NewReader(b)
	v := types.Amount(rd.Uvarint())
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf(errCorrupt, "earned", err))
	}
	return v
}

func addEarned(kv store.KV, a types.Address, v types.Amount) error {
	t, err := Earned(kv, a).Add(v)
	if err != nil {
		return err
	}
	w := codec.NewWriter(10)
	w.Uvarint(uint64(t))
	kv.Set(append(append([]byte(nil), prefixEarned...), a[:]...), w.Bytes())
	return nil
}

// EndBlock mints the block reward, moves the block's fees out of
// feeCollector, and splits the validators' part among validators by
// weight.
func EndBlock(ctx exec.Ctx, feeCollector types.Address, validators []Recipient) error {
	p := GetParams(ctx.KV)
	reward := p.Reward(ctx.Block.Height)
	toProviders := reward.MulFraction(p.ProviderShare)
	if err := bank.Mint(ctx.KV, ProviderPool, toProviders); err != nil {
		return fmt.Errorf("mint provider share: %w", err)
	}
	if err := bank.Mint(ctx.KV, Distribution, reward-toProviders); err != nil {
		return fmt.Errorf("mint validator share: %w", err)
	}
	fees := bank.Balance(ctx.KV, feeCollector)
	if err := bank.Send(ctx.KV, feeCollector, Distribution, fees); err != nil {
		return fmt.Errorf("collect fees: %w", err)
	}
	ctx.Emit(types.NewEvent("mint", "reward", types.U64(uint64(reward)),
		"provider_pool", types.U64(uint64(toProviders)), "fees", types.U64(uint64(fees))))

	var total types.Amount
	for _, v := range validators {
		t, err := total.Add(v.Weight)
		if err != nil {
			return fmt.Errorf("validator weights overflow")
		}
		total = t
	}
	pot := bank.Balance(ctx.KV, Distribution)
	if total == 0 || pot == 0 {
		return nil
	}
	for _, v := range validators {
		share, err := pot.MulDiv(uint64(v.Weight), uint64(total))
		if err != nil {
			return fmt.Errorf("split rewards: %w", err)
		}
		if share == 0 {
			continue
		}
		if err := bank.Send(ctx.KV, Distribution, v.Address, share); err != nil {
			return fmt.Errorf("pay reward: %w", err)
		}
		if err := addEarned(ctx.KV, v.Address, share); err != nil {
			return fmt.Errorf("record reward: %w", err)
		}
		ctx.Emit(types.NewEvent("reward", "validator", v.Address.String(), "amount", types.U64(uint64(share))))
	}
	return nil
}
