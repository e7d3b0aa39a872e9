package paych

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// DefaultLimit is the page size of a listing that names none.
const DefaultLimit = 100

// Filter narrows a channel listing.
type Filter struct {
	// Payer and Payee list only the channels of this payer, of this
	// payee, or between the two.
	Payer *types.Address
	Payee *types.Address
	// After is the id of the last channel of the previous page; 0 for the
	// first page.
	After uint64
	Limit int
}

// List returns a page of channels in id order, with their lanes.
func List(r store.Reader, f Filter) []*Channel {
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	var prefix []byte
	switch {
	case f.Payer != nil:
		prefix = store.Key(prefixPayer, f.Payer[:])
	case f.Payee != nil:
		prefix = store.Key(prefixPayee, f.Payee[:])
	default:
		prefix = prefixChan
	}
	from := prefix
	if f.After != 0 {
		// The key of the id after f.After, or the prefix's end when none.
		if f.After == ^uint64(0) {
			return []*Channel{}
		}
		from = store.Key(prefix, store.BE64(f.After+1))
	}
	out := []*Channel{}
	it := r.Iterator(from, store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid() && len(out) < f.Limit; it.Next() {
		c := Get(r, idAt(it.Key()))
		if c == nil {
			panic(fmt.Errorf("paych: index key %x names a missing channel", it.Key()))
		}
		if f.Payee != nil && c.Payee != *f.Payee {
			continue
		}
		out = append(out, c)
	}
	return out
}

// CheckInvariant verifies that the escrow account holds exactly what the
// open channels have left (deposit − paid), that each channel's lanes sum
// to what it paid and never exceed its deposit, that a closed channel
// returned the rest and kept no lanes, and that the indexes hold exactly
// one entry per channel.
func CheckInvariant(r store.Reader, b Bank) error {
	var escrow types.Amount
	var n int
	var maxID uint64
	it := r.Iterator(prefixChan, store.PrefixEnd(prefixChan))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if len(it.Key()) != len(prefixChan)+8 {
			return fmt.Errorf("channel record under key %x", it.Key())
		}
		c, err := decodeChannel(idAt(it.Key()), it.Value())
		if err != nil {
			return err
		}
		n++
		maxID = max(maxID, c.ID)
		if c.Paid > c.Deposit {
			return fmt.Errorf("channel %d paid %s of a %s deposit", c.ID, c.Paid, c.Deposit)
		}
		if c.ID == 0 || c.Payer.IsZero() || c.Payee.IsZero() || c.Payer == c.Payee || c.VoucherKey.IsZero() {
			return fmt.Errorf("channel %d: invalid parties or key", c.ID)
		}
		ls := lanes(r, c.ID)
		var sum types.Amount
		for _, l := range ls {
			if l.Nonce == 0 {
				return fmt.Errorf("channel %d lane %d has nonce 0", c.ID, l.Lane)
			}
			if sum, err = sum.Add(l.Redeemed); err != nil {
				return fmt.Errorf("channel %d: lanes overflow", c.ID)
			}
		}
		if uint64(len(ls)) != c.LaneCount {
			return fmt.Errorf("channel %d counts %d lanes, has %d", c.ID, c.LaneCount, len(ls))
		}
		if c.Collected != 0 {
			switch {
			case len(ls) != 0:
				return fmt.Errorf("closed channel %d keeps %d lanes", c.ID, len(ls))
			case c.Paid+c.Refunded != c.Deposit:
				return fmt.Errorf("closed channel %d paid %s and refunded %s of a %s deposit", c.ID, c.Paid, c.Refunded, c.Deposit)
			case c.SettlingAt == 0 || c.Collected < c.SettlingAt:
				return fmt.Errorf("channel %d collected at height %d, settle height %d", c.ID, c.Collected, c.SettlingAt)
			}
		} else {
			if sum != c.Paid {
				return fmt.Errorf("channel %d paid %s, its lanes redeemed %s", c.ID, c.Paid, sum)
			}
			if c.Refunded != 0 {
				return fmt.Errorf("open channel %d refunded %s", c.ID, c.Refunded)
			}
			if escrow, err = escrow.Add(c.Remaining()); err != nil {
				return fmt.Errorf("escrow overflows")
			}
		}
		if r.Get(payerKey(c.Payer, c.ID)) == nil || r.Get(payeeKey(c.Payee, c.ID)) == nil {
			return fmt.Errorf("channel %d: missing from the payer or payee index", c.ID)
		}
	}
	if got := b.Balance(r, Escrow); got != escrow {
		return fmt.Errorf("escrow account holds %d umyc, open channels have %d left", got, escrow)
	}
	if n > 0 {
		var next uint64
		if s := r.Get(keySeq); s != nil {
			next = nextIDPeek(s)
		}
		if next <= maxID {
			return fmt.Errorf("next channel id %d is not above the highest, %d", next, maxID)
		}
	}
	// Every lane belongs to a channel, and each index entry to a channel
	// of that payer or payee: with the checks above, equal counts mean
	// nothing is left over.
	if err := eachKey(r, prefixLane, 16, func(k []byte) error {
		if r.Get(chanKey(idAt(k[:len(k)-8]))) == nil {
			return fmt.Errorf("lane key %x of a missing channel", k)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, p := range [][]byte{prefixPayer, prefixPayee} {
		count := 0
		err := eachKey(r, p, types.AddressLen+8, func(k []byte) error {
			c := getRecord(r, idAt(k))
			var a types.Address
			copy(a[:], k[len(p):])
			if c == nil || (string(p) == string(prefixPayer) && c.Payer != a) || (string(p) == string(prefixPayee) && c.Payee != a) {
				return fmt.Errorf("index key %x does not match a channel", k)
			}
			count++
			return nil
		})
		if err != nil {
			return err
		}
		if count != n {
			return fmt.Errorf("index %q has %d entries for %d channels", p, count, n)
		}
	}
	return nil
}

// eachKey calls fn for each key under prefix, which must be followed by
// exactly n bytes.
func eachKey(r store.Reader, prefix []byte, n int, fn func(k []byte) error) error {
	it := r.Iterator(prefix, store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if len(it.Key()) != len(prefix)+n {
			return fmt.Errorf("malformed key %x", it.Key())
		}
		if err := fn(it.Key()); err != nil {
			return err
		}
	}
	return nil
}
