package paych

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Params are the payment channels' rules.
type Params struct {
	// SettleBlocks is the challenge period: how long after a settle the
	// payee may still redeem its vouchers.
	SettleBlocks int64 `json:"settle_blocks"`
	// MinDeposit is the least deposit a channel opens with.
	MinDeposit types.Amount `json:"min_deposit"`
}

// DefaultParams are the rules new networks start with: a challenge period
// of 43,200 blocks, Filecoin's 12 hours at one block a second.
func DefaultParams() Params {
	return Params{SettleBlocks: 43_200, MinDeposit: 1}
}

// MaxSettleBlocks bounds the challenge period (about 30 years of
// one-second blocks), so that now + period never overflows.
const MaxSettleBlocks = 1 << 30

// Validate checks the parameters' ranges.
func (p Params) Validate() error {
	switch {
	case p.SettleBlocks < 1 || p.SettleBlocks > MaxSettleBlocks:
		return fmt.Errorf("settle blocks %d: want 1 to %d", p.SettleBlocks, MaxSettleBlocks)
	case p.MinDeposit == 0:
		return fmt.Errorf("min deposit must be at least 1umyc")
	}
	return nil
}

// GetParams reads the rules. A state from before payment channels
// existed (a chain laid out by an older release) has none and gets the
// defaults, the same on every node.
func GetParams(r store.Reader) Params {
	b := r.Get(keyParams)
	if b == nil {
		return DefaultParams()
	}
	rd := codec.NewReader(b)
	p := Params{SettleBlocks: rd.Varint(), MinDeposit: types.Amount(rd.Uvarint())}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("paych: corrupt params: %w", err))
	}
	return p
}

// InitGenesis writes the rules. Channels are not part of genesis: a
// network starts with none.
func InitGenesis(kv store.KV, p Params) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("paych params: %w", err)
	}
	w := codec.NewWriter(20)
	w.Varint(p.SettleBlocks)
	w.Uvarint(uint64(p.MinDeposit))
	kv.Set(keyParams, w.Bytes())
	return nil
}
