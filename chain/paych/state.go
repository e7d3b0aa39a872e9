package paych

import (
	"encoding/binary"
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Escrow is the module account that holds the open channels' funds.
var Escrow = types.ModuleAddress("paych_escrow")

var (
	keySeq      = []byte("paych/seq")
	prefixChan  = []byte("paych/c/")
	prefixLane  = []byte("paych/l/")
	prefixPayer = []byte("paych/p/")
	prefixPayee = []byte("paych/e/")
	keyParams   = []byte("paych/params")
)

// States of a channel.
const (
	StateOpen     = "open"
	StateSettling = "settling"
	StateClosed   = "closed"
)

// Channel is a payment channel.
type Channel struct {
	ID    uint64        `json:"id,string"`
	Payer types.Address `json:"payer"`
	Payee types.Address `json:"payee"`
	// VoucherKey signs the channel's vouchers.
	VoucherKey PublicKey `json:"voucher_key"`
	// Deposit is all the payer put in.
	Deposit types.Amount `json:"deposit"`
	// Paid is what vouchers paid the payee so far.
	Paid types.Amount `json:"paid"`
	// Opened is the height of the block that opened the channel.
	Opened int64 `json:"opened_height"`
	// MinSettleHeight is the highest minimum settle height of the
	// vouchers redeemed.
	MinSettleHeight int64 `json:"min_settle_height"`
	// SettlingAt is the settle height once the channel is settling: from
	// that height no voucher counts and the channel can be collected; 0
	// before a settle.
	SettlingAt int64 `json:"settling_at,omitempty"`
	// Collected is the height of the collect that closed the channel; 0
	// while it is open.
	Collected int64 `json:"collected_height,omitempty"`
	// Refunded is what the collect returned to the payer.
	Refunded types.Amount `json:"refunded"`
	// LaneCount is the number of lanes with a redeemed voucher.
	LaneCount uint64 `json:"lane_count"`
	// Lanes are the lanes' states, in lane order, when read with them.
	Lanes []Lane `json:"lanes"`
}

// Lane is the chain's record of one lane of a channel.
type Lane struct {
	Lane     uint64       `json:"lane,string"`
	Nonce    uint64       `json:"nonce,string"`
	Redeemed types.Amount `json:"redeemed"`
}

// State is open, settling or closed.
func (c *Channel) State() string {
	switch {
	case c.Collected != 0:
		return StateClosed
	case c.SettlingAt != 0:
		return StateSettling
	}
	return StateOpen
}

// Remaining is what the payee can still be paid: deposit − paid.
func (c *Channel) Remaining() types.Amount { return c.Deposit - c.Paid }

// Lane returns the state of a lane (zero for a lane never redeemed).
func (c *Channel) Lane(n uint64) Lane {
	for _, l := range c.Lanes {
		if l.Lane == n {
			return l
		}
	}
	return Lane{Lane: n}
}

func (c *Channel) encode() []byte {
	w := codec.NewWriter(2*types.AddressLen + len(c.VoucherKey) + 80)
	w.Fixed(c.Payer[:])
	w.Fixed(c.Payee[:])
	w.Fixed(c.VoucherKey[:])
	w.Uvarint(uint64(c.Deposit))
	w.Uvarint(uint64(c.Paid))
	w.Varint(c.Opened)
	w.Varint(c.MinSettleHeight)
	w.Varint(c.SettlingAt)
	w.Varint(c.Collected)
	w.Uvarint(uint64(c.Refunded))
	w.Uvarint(c.LaneCount)
	return w.Bytes()
}

func decodeChannel(id uint64, b []byte) (*Channel, error) {
	r := codec.NewReader(b)
	c := &Channel{ID: id}
	r.FixedInto(c.Payer[:])
	r.FixedInto(c.Payee[:])
	r.FixedInto(c.VoucherKey[:])
	c.Deposit = types.Amount(r.Uvarint())
	c.Paid = types.Amount(r.Uvarint())
	c.Opened = r.Varint()
	c.MinSettleHeight = r.Varint()
	c.SettlingAt = r.Varint()
	c.Collected = r.Varint()
	c.Refunded = types.Amount(r.Uvarint())
	c.LaneCount = r.Uvarint()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("channel %d: %w", id, err)
	}
	return c, nil
}

func chanKey(id uint64) []byte                   { return store.Key(prefixChan, store.BE64(id)) }
func lanePrefix(id uint64) []byte                { return store.Key(prefixLane, store.BE64(id)) }
func laneKey(id, lane uint64) []byte             { return store.Key(prefixLane, store.BE64(id), store.BE64(lane)) }
func payerKey(a types.Address, id uint64) []byte { return store.Key(prefixPayer, a[:], store.BE64(id)) }
func payeeKey(a types.Address, id uint64) []byte { return store.Key(prefixPayee, a[:], store.BE64(id)) }

// idAt reads the id that ends a key.
func idAt(key []byte) uint64 { return binary.BigEndian.Uint64(key[len(key)-8:]) }

// Get reads a channel with its lanes; nil when there is none of that id.
func Get(r store.Reader, id uint64) *Channel {
	c := getRecord(r, id)
	if c == nil {
		return nil
	}
	c.Lanes = lanes(r, id)
	return c
}

// getRecord reads a channel without its lanes.
func getRecord(r store.Reader, id uint64) *Channel {
	b := r.Get(chanKey(id))
	if b == nil {
		return nil
	}
	c, err := decodeChannel(id, b)
	if err != nil {
		panic(fmt.Errorf("paych: corrupt record: %w", err))
	}
	return c
}

func putChannel(kv store.KV, c *Channel) { kv.Set(chanKey(c.ID), c.encode()) }

// getLane reads a lane's state; ok is false for a lane never redeemed.
func getLane(r store.Reader, id, lane uint64) (Lane, bool) {
	b := r.Get(laneKey(id, lane))
	if b == nil {
		return Lane{Lane: lane}, false
	}
	l, err := decodeLane(lane, b)
	if err != nil {
		panic(fmt.Errorf("paych: corrupt lane %d of channel %d: %w", lane, id, err))
	}
	return l, true
}

func decodeLane(lane uint64, b []byte) (Lane, error) {
	r := codec.NewReader(b)
	l := Lane{Lane: lane, Nonce: r.Uvarint(), Redeemed: types.Amount(r.Uvarint())}
	return l, r.Done()
}

func putLane(kv store.KV, id uint64, l Lane) {
	w := codec.NewWriter(20)
	w.Uvarint(l.Nonce)
	w.Uvarint(uint64(l.Redeemed))
	kv.Set(laneKey(id, l.Lane), w.Bytes())
}

// lanes reads every lane of a channel, in lane order.
func lanes(r store.Reader, id uint64) []Lane {
	out := []Lane{}
	p := lanePrefix(id)
	it := r.Iterator(p, store.PrefixEnd(p))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		l, err := decodeLane(idAt(it.Key()), it.Value())
		if err != nil {
			panic(fmt.Errorf("paych: corrupt lane %x: %w", it.Key(), err))
		}
		out = append(out, l)
	}
	return out
}

// nextIDPeek decodes the stored sequence: the next id.
func nextIDPeek(b []byte) uint64 {
	r := codec.NewReader(b)
	id := r.Uvarint()
	if err := r.Done(); err != nil {
		panic(fmt.Errorf("paych: corrupt sequence: %w", err))
	}
	return id
}

// nextID returns the next channel id and advances the sequence.
func nextID(kv store.KV) uint64 {
	id := uint64(1)
	if b := kv.Get(keySeq); b != nil {
		id = nextIDPeek(b)
	}
	w := codec.NewWriter(10)
	w.Uvarint(id + 1)
	kv.Set(keySeq, w.Bytes())
	return id
}
