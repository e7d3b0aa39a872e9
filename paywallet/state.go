package paywallet

import (
	"fmt"
	"sort"
	"sync"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/types"
)

// laneID names a lane of a channel.
type laneID struct{ ch, lane uint64 }

// maxLanesSeen bounds the lanes a channel record in the journal holds.
const maxLanesSeen = 1 << 16

// wallet is what a payer's and a payee's wallets share: the channels as
// last seen, a voucher per lane, the lanes given to tasks, and the
// journal that keeps them.
type wallet struct {
	mu       sync.Mutex
	j        *journal
	meta     meta
	channels map[uint64]*paych.Channel
	vouchers map[laneID]paych.Voucher
	labels   map[uint64]map[string]uint64
	// spent is, for a payee, what each lane's requests used of its
	// vouchers (see Payee.Reserve).
	spent map[laneID]types.Amount
	// reserved is, for a payer, the highest nonce of each lane that
	// deferred vouchers may use without writing first (see
	// VoucherRequest.Deferred).
	reserved map[laneID]uint64
}

func openWallet(dir string, m meta) (*wallet, error) {
	w := &wallet{meta: m, channels: map[uint64]*paych.Channel{}, vouchers: map[laneID]paych.Voucher{},
		labels: map[uint64]map[string]uint64{}, spent: map[laneID]types.Amount{}, reserved: map[laneID]uint64{}}
	seenMeta := false
	j, err := openJournal(dir, &w.mu, m.encode(), func(p []byte) error {
		if !seenMeta {
			if len(p) == 0 || p[0] != recMeta {
				return fmt.Errorf("the journal does not begin with its wallet's description")
			}
			seenMeta = true
			return m.check(codec.NewReader(p[1:]))
		}
		return w.replay(p)
	})
	if err != nil {
		return nil, err
	}
	j.live = w.live
	w.j = j
	return w, nil
}

// replay applies one record.
func (w *wallet) replay(p []byte) error {
	if len(p) == 0 {
		return fmt.Errorf("empty record")
	}
	r := codec.NewReader(p[1:])
	switch p[0] {
	case recChannel:
		c, err := decodeChannel(r)
		if err != nil {
			return err
		}
		w.channels[c.ID] = c
	case recVoucher:
		v, err := paych.DecodeVoucher(p[1:])
		if err != nil {
			return err
		}
		if old, ok := w.vouchers[laneID{v.Channel, v.Lane}]; !ok || v.Nonce > old.Nonce {
			w.vouchers[laneID{v.Channel, v.Lane}] = v
		}
	case recLane:
		ch, lane, label := r.Uvarint(), r.Uvarint(), r.String(maxLabel)
		if err := r.Done(); err != nil {
			return err
		}
		w.setLabel(ch, lane, label)
	case recSpent:
		// The last record of a lane wins: records are appended in the
		// order the lane's spent amount changed, under the lock.
		l, spent := laneID{r.Uvarint(), r.Uvarint()}, types.Amount(r.Uvarint())
		if err := r.Done(); err != nil {
			return err
		}
		w.setSpent(l, spent)
	case recReserve:
		// The last record of a lane wins, as for spent amounts.
		l, nonce := laneID{r.Uvarint(), r.Uvarint()}, r.Uvarint()
		if err := r.Done(); err != nil {
			return err
		}
		w.reserved[l] = nonce
	default:
		return fmt.Errorf("unknown record kind %d", p[0])
	}
	return nil
}

func (w *wallet) setLabel(ch, lane uint64, label string) {
	if w.labels[ch] == nil {
		w.labels[ch] = map[string]uint64{}
	}
	w.labels[ch][label] = lane
}

// live returns the records that rebuild the state, in a fixed order.
func (w *wallet) live() [][]byte {
	out := [][]byte{w.meta.encode()}
	for _, id := range sortedIDs(w.channels) {
		out = append(out, channelRecord(w.channels[id]))
	}
	for _, id := range sortedIDs(w.labels) {
		ls := w.labels[id]
		for _, label := range types.SortedKeys(ls) {
			out = append(out, laneRecord(id, ls[label], label))
		}
	}
	for _, l := range w.laneIDs(nil) {
		out = append(out, voucherRecord(w.vouchers[l]))
	}
	for _, l := range w.laneIDs(nil) {
		if s := w.spent[l]; s != 0 {
			out = append(out, spentRecord(l, s))
		}
	}
	ls := make([]laneID, 0, len(w.reserved))
	for l := range w.reserved {
		ls = append(ls, l)
	}
	sortLanes(ls)
	for _, l := range ls {
		out = append(out, reserveRecord(l, w.reserved[l]))
	}
	return out
}

func (w *wallet) setSpent(l laneID, a types.Amount) {
	if a == 0 {
		delete(w.spent, l)
		return
	}
	w.spent[l] = a
}

// laneIDs returns the lanes holding a voucher, of one channel or of all
// (ch nil), in order.
func (w *wallet) laneIDs(ch *uint64) []laneID {
	var out []laneID
	for l := range w.vouchers {
		if ch == nil || l.ch == *ch {
			out = append(out, l)
		}
	}
	sortLanes(out)
	return out
}

func sortLanes(ls []laneID) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].ch != ls[j].ch {
			return ls[i].ch < ls[j].ch
		}
		return ls[i].lane < ls[j].lane
	})
}

func sortedIDs[V any](m map[uint64]V) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// maxLabel bounds a task label.
const maxLabel = 256

func laneRecord(ch, lane uint64, label string) []byte {
	w := codec.NewWriter(24 + len(label))
	w.Byte(recLane)
	w.Uvarint(ch)
	w.Uvarint(lane)
	w.String(label)
	return w.Bytes()
}

func voucherRecord(v paych.Voucher) []byte { return append([]byte{recVoucher}, v.Encode()...) }

func spentRecord(l laneID, spent types.Amount) []byte {
	w := codec.NewWriter(32)
	w.Byte(recSpent)
	w.Uvarint(l.ch)
	w.Uvarint(l.lane)
	w.Uvarint(uint64(spent))
	return w.Bytes()
}

func reserveRecord(l laneID, nonce uint64) []byte {
	w := codec.NewWriter(32)
	w.Byte(recReserve)
	w.Uvarint(l.ch)
	w.Uvarint(l.lane)
	w.Uvarint(nonce)
	return w.Bytes()
}

// channelRecord keeps what the wallets need of a channel: its parties,
// key, funds, settlement and the chain's lanes.
func channelRecord(c *paych.Channel) []byte {
	w := codec.NewWriter(160 + 30*len(c.Lanes))
	w.Byte(recChannel)
	w.Uvarint(c.ID)
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
	w.Uvarint(uint64(len(c.Lanes)))
	for _, l := range c.Lanes {
		w.Uvarint(l.Lane)
		w.Uvarint(l.Nonce)
		w.Uvarint(uint64(l.Redeemed))
	}
	return w.Bytes()
}

func decodeChannel(r *codec.Reader) (*paych.Channel, error) {
	c := &paych.Channel{ID: r.Uvarint()}
	r.FixedInto(c.Payer[:])
	r.FixedInto(c.Payee[:])
	r.FixedInto(c.VoucherKey[:])
	c.Deposit, c.Paid = types.Amount(r.Uvarint()), types.Amount(r.Uvarint())
	c.Opened, c.MinSettleHeight, c.SettlingAt, c.Collected = r.Varint(), r.Varint(), r.Varint(), r.Varint()
	c.Refunded = types.Amount(r.Uvarint())
	n := r.Count(maxLanesSeen)
	c.Lanes = make([]paych.Lane, 0, n)
	for i := 0; i < n; i++ {
		c.Lanes = append(c.Lanes, paych.Lane{Lane: r.Uvarint(), Nonce: r.Uvarint(), Redeemed: types.Amount(r.Uvarint())})
	}
	c.LaneCount = uint64(n)
	return c, r.Done()
}

// copyChannel returns a copy a caller may keep.
func copyChannel(c *paych.Channel) paych.Channel {
	out := *c
	out.Lanes = append([]paych.Lane(nil), c.Lanes...)
	return out
}

// track records a channel as last seen and returns the record to append
// (nil when nothing changed).
func (w *wallet) trackLocked(c paych.Channel) []byte {
	c.Lanes = append([]paych.Lane(nil), c.Lanes...)
	if len(c.Lanes) > maxLanesSeen {
		c.Lanes = c.Lanes[:maxLanesSeen]
	}
	rec := channelRecord(&c)
	if old := w.channels[c.ID]; old != nil && string(channelRecord(old)) == string(rec) {
		return nil
	}
	w.channels[c.ID] = &c
	return rec
}

func (w *wallet) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.j.closeLocked()
}

// Syncs reports how many fsyncs of the journal the wallet has done: with
// group commit, fewer than the records it wrote.
func (w *wallet) syncs() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.j.syncs
}
