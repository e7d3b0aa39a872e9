package paych

import (
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Message kinds. The high byte follows DESIGN.md's list of modules (bank
// 1, stake 2, compute 3, verify 4, model 5, paych 6). Never renumber.
const (
	KindOpen    uint16 = 0x0601
	KindTopUp   uint16 = 0x0602
	KindRedeem  uint16 = 0x0603
	KindSettle  uint16 = 0x0604
	KindCollect uint16 = 0x0605
)

// MsgOpen opens a channel from the signer to Payee with Amount deposited;
// VoucherKey signs the channel's vouchers.
type MsgOpen struct {
	Payee      types.Address `json:"payee"`
	VoucherKey PublicKey     `json:"voucher_key"`
	Amount     types.Amount  `json:"amount"`
}

// Encode returns the message body.
func (m MsgOpen) Encode() []byte {
	w := codec.NewWriter(types.AddressLen + len(m.VoucherKey) + 10)
	w.Fixed(m.Payee[:])
	w.Fixed(m.VoucherKey[:])
	w.Uvarint(uint64(m.Amount))
	return w.Bytes()
}

// DecodeMsgOpen parses the body.
func DecodeMsgOpen(b []byte) (MsgOpen, error) {
	r := codec.NewReader(b)
	var m MsgOpen
	r.FixedInto(m.Payee[:])
	r.FixedInto(m.VoucherKey[:])
	m.Amount = types.Amount(r.Uvarint())
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("open: %v", err)
	}
	return m, nil
}

// MsgTopUp adds Amount to the deposit of a channel the signer pays from.
type MsgTopUp struct {
	Channel uint64       `json:"channel,string"`
	Amount  types.Amount `json:"amount"`
}

// Encode returns the message body.
func (m MsgTopUp) Encode() []byte {
	w := codec.NewWriter(20)
	w.Uvarint(m.Channel)
	w.Uvarint(uint64(m.Amount))
	return w.Bytes()
}

// DecodeMsgTopUp parses the body.
func DecodeMsgTopUp(b []byte) (MsgTopUp, error) {
	r := codec.NewReader(b)
	m := MsgTopUp{Channel: r.Uvarint(), Amount: types.Amount(r.Uvarint())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("top up: %v", err)
	}
	return m, nil
}

// MsgRedeem redeems a voucher; only the channel's payee may send it. The
// body is the voucher's encoding.
type MsgRedeem struct {
	Voucher Voucher `json:"voucher"`
}

// Encode returns the message body.
func (m MsgRedeem) Encode() []byte { return m.Voucher.Encode() }

// DecodeMsgRedeem parses the body.
func DecodeMsgRedeem(b []byte) (MsgRedeem, error) {
	v, err := DecodeVoucher(b)
	return MsgRedeem{Voucher: v}, err
}

// MsgChannel names a channel: the body of a settle and of a collect.
type MsgChannel struct {
	Channel uint64 `json:"channel,string"`
}

// Encode returns the message body.
func (m MsgChannel) Encode() []byte {
	w := codec.NewWriter(10)
	w.Uvarint(m.Channel)
	return w.Bytes()
}

// DecodeMsgChannel parses the body.
func DecodeMsgChannel(b []byte) (MsgChannel, error) {
	r := codec.NewReader(b)
	m := MsgChannel{Channel: r.Uvarint()}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("channel: %v", err)
	}
	return m, nil
}
