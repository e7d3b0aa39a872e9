package bank

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

var (
	prefixBalance = []byte("bank/b/")
	keySupply     = []byte("bank/supply")
)

func balanceKey(a types.Address) []byte {
	return append(append(make([]byte, 0, len(prefixBalance)+types.AddressLen), prefixBalance...), a[:]...)
}

// Balance returns the balance of a.
func Balance(r store.Reader, a types.Address) types.Amount {
	b := r.Get(balanceKey(a))
	if b == nil {
		return 0
	}
	rd := codec.NewReader(b)
	v := rd.Uvarint()
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("bank: corrupt balance of %s: %w", a, err))
	}
	return types.Amount(v)
}

func setBalance(kv store.KV, a types.Address, v types.Amount) {
	if v == 0 {
		kv.Delete(balanceKey(a))
		return
	}
	w := codec.NewWriter(10)
	w.Uvarint(uint64(v))
	kv.Set(balanceKey(a), w.Bytes())
}

// Supply is the token supply's accounting.
type Supply struct {
	Genesis types.Amount `json:"genesis"`
	Minted  types.Amount `json:"minted"`
	Burned  types.Amount `json:"burned"`
}

// Total returns genesis + minted - burned.
func (s Supply) Total() types.Amount {
	return s.Genesis + s.Minted - s.Burned // kept in range by Mint and Burn
}

// GetSupply reads the supply.
func GetSupply(r store.Reader) Supply {
	b := r.Get(keySupply)
	if b == nil {
		return Supply{}
	}
	rd := codec.NewReader(b)
	s := Supply{Genesis: types.Amount(rd.Uvarint()), Minted: types.Amount(rd.Uvarint()), Burned: types.Amount(rd.Uvarint())}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("bank: corrupt supply: %w", err))
	}
	return s
}

func setSupply(kv store.KV, s Supply) {
	w := codec.NewWriter(30)
	w.Uvarint(uint64(s.Genesis))
	w.Uvarint(uint64(s.Minted))
	w.Uvarint(uint64(s.Burned))
	kv.Set(keySupply, w.Bytes())
}

// Send moves amount from one balance to another.
func Send(kv store.KV, from, to types.Address, amount types.Amount) error {
	fb := Balance(kv, from)
	nf, err := fb.Sub(amount)
	if err != nil {
		return ErrInsufficientFunds.Wrapf("%s has %s, needs %s", from, fb, amount)
	}
	if from == to {
		return nil
	}
	setBalance(kv, from, nf)
	nt, err := Balance(kv, to).Add(amount)
	if err != nil {
		return ErrOverflow.Wrapf("balance of %s", to)
	}
	setBalance(kv, to, nt)
	return nil
}

// Mint creates amount new tokens in to's balance.
func Mint(kv store.KV, to types.Address, amount types.Amount) error {
	s := GetSupply(kv)
	m, err := s.Minted.Add(amount)
	if err != nil {
		return ErrOverflow.Wrapf("minted supply")
	}
	if _, err := s.Total().Add(amount); err != nil {
		return ErrOverflow.Wrapf("total supply")
	}
	nt, err := Balance(kv, to).Add(amount)
	if err != nil {
		return ErrOverflow.Wrapf("balance of %s", to)
	}
	s.Minted = m
	setSupply(kv, s)
	setBalance(kv, to, nt)
	return nil
}

// Burn destroys amount tokens from from's balance.
func Burn(kv store.KV, from types.Address, amount types.Amount) error {
	fb := Balance(kv, from)
	nf, err := fb.Sub(amount)
	if err != nil {
		return ErrInsufficientFunds.Wrapf("burn %s from %s holding %s", amount, from, fb)
	}
	s := GetSupply(kv)
	b, err := s.Burned.Add(amount)
	if err != nil {
		return ErrOverflow.Wrapf("burned supply")
	}
	s.Burned = b
	setSupply(kv, s)
	setBalance(kv, from, nf)
	return nil
}

// KindSend is the message kind of MsgSend.
const KindSend uint16 = 0x0101

// MsgSend transfers tokens from the signer to To.
type MsgSend struct {
	To     types.Address
	Amount types.Amount
}

// Encode returns the message body.
func (m MsgSend) Encode() []byte {
	w := codec.NewWriter(32)
	w.Fixed(m.To[:])
	w.Uvarint(uint64(m.Amount))
	return w.Bytes()
}

// DecodeMsgSend parses a MsgSend body.
func DecodeMsgSend(b []byte) (MsgSend, error) {
	var m MsgSend
	r := codec.NewReader(b)
	r.FixedInto(m.To[:])
	m.Amount = types.Amount(r.Uvarint())
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("send: %v", err)
	}
	return m, nil
}

// SendHandler returns the handler of MsgSend. Transfers into the module
// accounts in blocked are refused: their balances must equal what their
// modules account for.
func SendHandler(blocked map[types.Address]bool) func(ctx exec.Ctx, signer types.Address, body []byte) error {
	return func(ctx exec.Ctx, signer types.Address, body []byte) error {
		m, err := DecodeMsgSend(body)
		if err != nil {
			return err
		}
		if m.Amount == 0 {
			return ErrInvalidAmount.Wrapf("send amount must be positive")
		}
		if blocked[m.To] {
			return ErrBlockedRecipient.Wrapf("%s", m.To)
		}
		if err := Send(ctx.KV, signer, m.To, m.Amount); err != nil {
			return err
		}
		ctx.Emit(types.NewEvent("transfer",
			"sender", signer.String(), "recipient", m.To.String(), "amount", types.U64(uint64(m.Amount))))
		return nil
	}
}

// Genesis is the bank's part of the genesis state.
type Genesis struct {
	Balances []GenesisBalance `json:"balances"`
}

// GenesisBalance is one account's opening balance.
type GenesisBalance struct {
	Address types.Address `json:"address"`
	Amount  types.Amount  `json:"amount"`
}

// InitGenesis writes the opening balances and supply.
func InitGenesis(kv store.KV, g Genesis) error {
	var total types.Amount
	seen := map[types.Address]bool{}
	for _, b := range g.Balances {
		if seen[b.Address] {
			return fmt.Errorf("genesis: %s has two balances", b.Address)
		}
		seen[b.Address] = true
		t, err := total.Add(b.Amount)
		if err != nil {
			return fmt.Errorf("genesis: balances overflow the supply")
		}
		total = t
		setBalance(kv, b.Address, b.Amount)
	}
	setSupply(kv, Supply{Genesis: total})
	return nil
}

// CheckInvariant verifies that the balances sum to the supply.
func CheckInvariant(r store.Reader) error {
	var sum types.Amount
	it := r.Iterator(prefixBalance, store.PrefixEnd(prefixBalance))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		rd := codec.NewReader(it.Value())
		v := types.Amount(rd.Uvarint())
		if err := rd.Done(); err != nil {
			return fmt.Errorf("balance %x: %w", it.Key(), err)
		}
		s, err := sum.Add(v)
		if err != nil {
			return fmt.Errorf("balances overflow")
		}
		sum = s
	}
	s := GetSupply(r)
	if s.Genesis+s.Minted < s.Burned {
		return fmt.Errorf("burned %s exceeds genesis %s + minted %s", s.Burned, s.Genesis, s.Minted)
	}
	if sum != s.Total() {
		return fmt.Errorf("balances sum to %d umyc, supply is %d (genesis %d + minted %d - burned %d)",
			sum, s.Total(), s.Genesis, s.Minted, s.Burned)
	}
	return nil
}

// BalanceKey is the state key of a's balance, for proofs.
func BalanceKey(a types.Address) []byte { return balanceKey(a) }
