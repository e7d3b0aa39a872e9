package auth

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"sort"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// FeeCollector is the module account that holds a block's fees until the
// block's end hands them to the validators.
var FeeCollector = types.ModuleAddress("fee_collector")

var (
	prefixAccount = []byte("auth/a/")
	keyParams     = []byte("auth/params")
)

// Account is an account's signing state.
type Account struct {
	// PubKey is set by the account's first transaction.
	PubKey   ed25519.PublicKey `json:"pub_key,omitempty"`
	Sequence uint64            `json:"sequence"`
}

func accountKey(a types.Address) []byte {
	return append(append(make([]byte, 0, len(prefixAccount)+types.AddressLen), prefixAccount...), a[:]...)
}

// AccountKey is the state key of a's account, for proofs.
func AccountKey(a types.Address) []byte { return accountKey(a) }

// GetAccount reads a's account; a new account has sequence 0.
func GetAccount(r store.Reader, a types.Address) Account {
	b := r.Get(accountKey(a))
	if b == nil {
		return Account{}
	}
	rd := codec.NewReader(b)
	var acc Account
	if pk := rd.LenBytes(ed25519.PublicKeySize); len(pk) > 0 {
		acc.PubKey = ed25519.PublicKey(bytes.Clone(pk))
	}
	acc.Sequence = rd.Uvarint()
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("auth: corrupt account %s: %w", a, err))
	}
	return acc
}

func setAccount(kv store.KV, a types.Address, acc Account) {
	w := codec.NewWriter(48)
	w.LenBytes(acc.PubKey)
	w.Uvarint(acc.Sequence)
	kv.Set(accountKey(a), w.Bytes())
}

// Params are the transaction rules: the size limit and the fee schedule.
// A transaction's minimum fee is BaseFee + FeePerByte × its encoded size +
// the fee of each of its messages' kinds (DefaultMsgFee for kinds not
// listed).
type Params struct {
	MaxTxBytes    uint64
	BaseFee       types.Amount
	FeePerByte    types.Amount
	DefaultMsgFee types.Amount
	MsgFees       []KindFee // sorted by Kind, no duplicates
}

// KindFee is the fee of one message kind.
type KindFee struct {
	Kind uint16
	Fee  types.Amount
}

// Validate checks the parameters' ranges.
func (p Params) Validate() error {
	if p.MaxTxBytes < 256 || p.MaxTxBytes > 1<<20 {
		return fmt.Errorf("max tx bytes %d outside [256, 1048576]", p.MaxTxBytes)
	}
	for i := 1; i < len(p.MsgFees); i++ {
		if p.MsgFees[i].Kind <= p.MsgFees[i-1].Kind {
			return fmt.Errorf("message fees not sorted by kind or duplicated at kind %d", p.MsgFees[i].Kind)
		}
	}
	return nil
}

// MsgFee returns the fee of a message kind.
func (p Params) MsgFee(kind uint16) types.Amount {
	i := sort.Search(len(p.MsgFees), func(i int) bool { return p.MsgFees[i].Kind >= kind })
	if i < len(p.MsgFees) && p.MsgFees[i].Kind == kind {
		return p.MsgFees[i].Fee
	}
	return p.DefaultMsgFee
}

// RequiredFee returns the minimum fee of a transaction of txLen bytes
// carrying messages of the given kinds.
func (p Params) RequiredFee(kinds []uint16, txLen int) (types.Amount, error) {
	perByte, err := p.FeePerByte.MulDiv(uint64(txLen), 1)
	if err != nil {
		return 0, err
	}
	fee, err := p.BaseFee.Add(perByte)
	if err != nil {
		return 0, err
	}
	for _, k := range kinds {
		if fee, err = fee.Add(p.MsgFee(k)); err != nil {
			return 0, err
		}
	}
	return fee, nil
}

// GetParams reads the parameters.
func GetParams(r store.Reader) Params {
	b := r.Get(keyParams)
	if b == nil {
		panic("auth: params missing from state")
	}
	rd := codec.NewReader(b)
	p := Params{
		MaxTxBytes:    rd.Uvarint(),
		BaseFee:       types.Amount(rd.Uvarint()),
		FeePerByte:    types.Amount(rd.Uvarint()),
		DefaultMsgFee: types.Amount(rd.Uvarint()),
	}
	n := rd.Count(1 << 16)
	for i := 0; i < n; i++ {
		k := rd.Uvarint()
		p.MsgFees = append(p.MsgFees, KindFee{Kind: uint16(k), Fee: types.Amount(rd.Uvarint())})
	}
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("auth: corrupt params: %w", err))
	}
	return p
}

// SetParams writes the parameters.
func SetParams(kv store.KV, p Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	w := codec.NewWriter(64)
	w.Uvarint(p.MaxTxBytes)
	w.Uvarint(uint64(p.BaseFee))
	w.Uvarint(uint64(p.FeePerByte))
	w.Uvarint(uint64(p.DefaultMsgFee))
	w.Uvarint(uint64(len(p.MsgFees)))
	for _, f := range p.MsgFees {
		w.Uvarint(uint64(f.Kind))
		w.Uvarint(uint64(f.Fee))
	}
	kv.Set(keyParams, w.Bytes())
	return nil
}

// FeePayer takes a transaction's fee from somewhere other than its signer
// (a job's escrow pays its provider's commits, for instance). It gets the
// fee the transaction carries and the fee the schedule asks.
type FeePayer func(ctx exec.Ctx, fee, required types.Amount) error

// Ante applies the rules every transaction passes before its messages run:
// chain id, size, expiry, sequence and fee. On success it has taken the fee
// (from payer, or from the signer when payer is nil) and advanced the
// signer's sequence; on error it has changed nothing. The signature must
// have been verified already.
func Ante(ctx exec.Ctx, t *tx.Tx, txLen int, payer FeePayer) error {
	if t.ChainID != ctx.Block.ChainID {
		return ErrWrongChain.Wrapf("transaction is for %q, this chain is %q", t.ChainID, ctx.Block.ChainID)
	}
	p := GetParams(ctx.KV)
	if uint64(txLen) > p.MaxTxBytes {
		return ErrTxTooLarge.Wrapf("%d bytes, the limit is %d", txLen, p.MaxTxBytes)
	}
	if t.Expiry != 0 && ctx.Block.Height > t.Expiry {
		return ErrExpired.Wrapf("expiry height %d, current height %d", t.Expiry, ctx.Block.Height)
	}
	signer := t.Signer()
	acc := GetAccount(ctx.KV, signer)
	switch {
	case t.Sequence < acc.Sequence:
		return ErrBadSequence.Wrapf("sequence %d of %s is already used (replay); next is %d", t.Sequence, signer, acc.Sequence)
	case t.Sequence > acc.Sequence:
		return ErrBadSequence.Wrapf("sequence %d of %s is ahead; next is %d", t.Sequence, signer, acc.Sequence)
	}
	kinds := make([]uint16, len(t.Msgs))
	for i, m := range t.Msgs {
		kinds[i] = m.Kind
	}
	need, err := p.RequiredFee(kinds, txLen)
	if err != nil {
		return ErrInsufficientFee.Wrapf("fee schedule overflows")
	}
	if t.Fee < need {
		return ErrInsufficientFee.Wrapf("fee %s, the schedule asks %s for this transaction", t.Fee, need)
	}
	if payer != nil {
		if err := payer(ctx, t.Fee, need); err != nil {
			return err
		}
	} else if err := bank.Send(ctx.KV, signer, FeeCollector, t.Fee); err != nil {
		return ErrCannotPayFee.Wrapf("%v", err)
	}
	acc.PubKey = t.PubKey
	acc.Sequence++
	setAccount(ctx.KV, signer, acc)
	return nil
}
