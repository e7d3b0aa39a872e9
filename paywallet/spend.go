package paywallet

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/types"
)

// Paying per request: a payee that serves requests against vouchers
// keeps, for each lane, what the lane's requests have spent beside what
// its best voucher covers. A request that may cost at most C carries a
// new voucher of the lane; it is served only when the lane's credit with
// that voucher (the voucher's cumulative amount less what the lane has
// spent) covers C, and C is set aside at once (Reserve). When the request
// is done, what it did not use goes back (Settle), and counts toward the
// lane's next request: amounts are cumulative, so the payer's next
// voucher adds only what the credit lacks. The payee never serves more
// than its vouchers cover, and the payer never pays twice for the same
// tokens.

// LaneBalance is a lane as the payee sees it.
type LaneBalance struct {
	// Nonce is the best voucher's nonce (or the chain's, if higher).
	Nonce uint64
	// Covered is the best voucher's cumulative amount, or what the chain
	// redeemed on the lane if more.
	Covered types.Amount
	// Spent is what the lane's requests used, with the maximum of those
	// still running.
	Spent types.Amount
}

// Credit is what the lane's next request may use without more pay.
func (b LaneBalance) Credit() types.Amount {
	if b.Spent >= b.Covered {
		return 0
	}
	return b.Covered - b.Spent
}

// Balance returns a lane as the payee sees it.
func (p *Payee) Balance(channel, lane uint64) LaneBalance {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.balanceLocked(laneID{channel, lane})
}

func (p *Payee) balanceLocked(l laneID) LaneBalance {
	b := LaneBalance{Spent: p.w.spent[l]}
	if v, ok := p.w.vouchers[l]; ok {
		b.Nonce, b.Covered = v.Nonce, v.Amount
	}
	if c := p.w.channels[l.ch]; c != nil {
		cl := c.Lane(l.lane)
		b.Nonce, b.Covered = max(b.Nonce, cl.Nonce), max(b.Covered, cl.Redeemed)
	}
	return b
}

// Reservation is a request's share of its lane's credit, set aside by
// Reserve until Settle.
type Reservation struct {
	p    *Payee
	lane laneID
	cost types.Amount
	seq  uint64
	done bool
	// Voucher is the voucher that paid for the request; Adds is what it
	// added to its lane.
	Voucher paych.Voucher
	Adds    types.Amount
}

// Reserve verifies v like Check and, when its lane's credit with it (its
// cumulative amount less what the lane has spent) covers cost, keeps v
// as the lane's best and sets cost aside as spent. A credit short of cost
// is refused with ErrUnderpaid, and v is not kept. The voucher and the
// reservation are written together, starting at once (a group commit of
// their own, or the next one); Wait returns once they are durable, and a
// payee hands out nothing of the request's answer before (it works on it
// meanwhile, so the write costs no latency). Every Reserve takes a voucher with a new
// nonce, even when the lane's credit alone would cover cost: the nonce
// orders the lane's requests.
func (p *Payee) Reserve(v paych.Voucher, cost types.Amount) (*Reservation, error) {
	key, err := p.keyOf(v.Channel)
	if err != nil {
		return nil, err
	}
	if err := v.Verify(p.chainID, key); err != nil {
		return nil, err
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	adds, err := p.checkLocked(&v, 0)
	if err != nil {
		return nil, err
	}
	l := laneID{v.Channel, v.Lane}
	spent := p.w.spent[l]
	if v.Amount < spent || v.Amount-spent < cost {
		need, _ := spent.Add(cost)
		return nil, fmt.Errorf("%w: voucher %s brings lane %d to %s, of which %s is spent: the request may cost %s, so the voucher must carry at least %s",
			ErrUnderpaid, v.Ref(), v.Lane, v.Amount, spent, cost, need)
	}
	p.w.vouchers[l] = v
	p.w.setSpent(l, spent+cost)
	seq := p.w.j.appendLocked(voucherRecord(v), spentRecord(l, spent+cost))
	p.w.flushSoon(seq)
	return &Reservation{p: p, lane: l, cost: cost, seq: seq, Voucher: v, Adds: adds}, nil
}

// flushSoon starts writing the records up to seq without waiting for
// them: whoever waits later finds them durable, or being made so. The
// caller holds the lock.
func (w *wallet) flushSoon(seq uint64) {
	go func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		_ = w.j.waitLocked(seq) // a failed write is the wallet's error, reported to whoever waits
	}()
}

// Wait returns once the voucher and the reservation are durable (or the
// wallet failed to write them).
func (r *Reservation) Wait() error {
	r.p.w.mu.Lock()
	defer r.p.w.mu.Unlock()
	return r.p.w.j.waitLocked(r.seq)
}

// Settle ends the request: it used used of its reservation (at most the
// reservation), and the rest goes back to the lane's credit. It returns
// the lane's balance after. The return is written with the wallet's next
// group commit, which Settle starts without waiting for it: a crash
// before it is durable loses only the return, so the lane looks more
// spent than it is, never less. Settle more than once does nothing more.
func (r *Reservation) Settle(used types.Amount) LaneBalance {
	w := r.p.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.done {
		return r.p.balanceLocked(r.lane)
	}
	r.done = true
	back := r.cost - min(used, r.cost)
	if back == 0 {
		return r.p.balanceLocked(r.lane)
	}
	spent := w.spent[r.lane]
	spent -= min(back, spent)
	w.setSpent(r.lane, spent)
	w.flushSoon(w.j.appendLocked(spentRecord(r.lane, spent)))
	return r.p.balanceLocked(r.lane)
}

// Cost is what the reservation set aside.
func (r *Reservation) Cost() types.Amount { return r.cost }
