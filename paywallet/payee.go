package paywallet

import (
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/types"
)

// Errors of the payee's wallet; the chain's own (paych.ErrBadSignature,
// paych.ErrStaleNonce, paych.ErrExceedsDeposit, ...) name the rest.
var (
	ErrWrongPayee = errors.New("channel pays another address")
	ErrUnderpaid  = errors.New("voucher does not cover the price")
)

// PayeeOptions tune a payee's wallet.
type PayeeOptions struct {
	// ExpiryMargin is how many blocks before its expiry a voucher must
	// still have when it is accepted, so the watcher can redeem it in
	// time (default 100).
	ExpiryMargin int64
}

// Payee is the wallet of one payee address: the channels that pay it as
// last seen and the best voucher of each of their lanes. Its methods are
// safe for concurrent use; concurrent Accepts share fsyncs.
type Payee struct {
	w       *wallet
	addr    types.Address
	chainID string
	opts    PayeeOptions
	height  int64 // the chain's height as last seen
}

// OpenPayee opens (or creates) the wallet of payee for a chain in dir.
func OpenPayee(dir, chainID string, payee types.Address, o PayeeOptions) (*Payee, error) {
	if o.ExpiryMargin <= 0 {
		o.ExpiryMargin = 100
	}
	w, err := openWallet(dir, meta{chainID: chainID, role: rolePayee, owner: payee[:]})
	if err != nil {
		return nil, err
	}
	return &Payee{w: w, addr: payee, chainID: chainID, opts: o}, nil
}

// Close waits for what is being written and closes the wallet.
func (p *Payee) Close() error { return p.w.close() }

// Address is the payee's address.
func (p *Payee) Address() types.Address { return p.addr }

// Track records a channel that pays the payee as the chain shows it now:
// its key, deposit, settlement and lanes.
func (p *Payee) Track(c paych.Channel) error {
	if c.Payee != p.addr {
		return fmt.Errorf("%w: channel %d pays %s, not %s", ErrWrongPayee, c.ID, c.Payee, p.addr)
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if rec := p.w.trackLocked(c); rec != nil {
		return p.w.j.waitLocked(p.w.j.appendLocked(rec))
	}
	return nil
}

// SetHeight records the chain's height, for the expiry rule.
func (p *Payee) SetHeight(h int64) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	p.height = max(p.height, h)
}

// Channel returns a channel as last seen.
func (p *Payee) Channel(id uint64) (paych.Channel, bool) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	c := p.w.channels[id]
	if c == nil {
		return paych.Channel{}, false
	}
	return copyChannel(c), true
}

// Channels returns the channels the wallet holds, in id order.
func (p *Payee) Channels() []paych.Channel {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	var out []paych.Channel
	for _, id := range sortedIDs(p.w.channels) {
		out = append(out, copyChannel(p.w.channels[id]))
	}
	return out
}

// Best returns the best voucher of each lane of a channel, in lane order.
func (p *Payee) Best(channel uint64) []paych.Voucher {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	var out []paych.Voucher
	for _, l := range p.w.laneIDs(&channel) {
		out = append(out, p.w.vouchers[l])
	}
	return out
}

// Voucher returns the best voucher of a lane.
func (p *Payee) Voucher(channel, lane uint64) (paych.Voucher, bool) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	v, ok := p.w.vouchers[laneID{channel, lane}]
	return v, ok
}

// Check verifies a voucher offline and returns what it adds to its lane
// over the best voucher held (or what the chain redeemed, if more): the
// payment it makes. price is the least that payment must be.
func (p *Payee) Check(v paych.Voucher, price types.Amount) (types.Amount, error) {
	key, err := p.keyOf(v.Channel)
	if err != nil {
		return 0, err
	}
	if err := v.Verify(p.chainID, key); err != nil {
		return 0, err
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.checkLocked(&v, price)
}

// Accept verifies a voucher like Check and keeps it as its lane's best.
// It returns only once the voucher is durable: a payee that serves after
// Accept returns can always redeem what it served for.
func (p *Payee) Accept(v paych.Voucher, price types.Amount) (types.Amount, error) {
	key, err := p.keyOf(v.Channel)
	if err != nil {
		return 0, err
	}
	// The signature, the expensive part, is checked outside the lock: the
	// channel's key never changes.
	if err := v.Verify(p.chainID, key); err != nil {
		return 0, err
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	pay, err := p.checkLocked(&v, price)
	if err != nil {
		return 0, err
	}
	p.w.vouchers[laneID{v.Channel, v.Lane}] = v
	if err := p.w.j.waitLocked(p.w.j.appendLocked(voucherRecord(v))); err != nil {
		return 0, err
	}
	return pay, nil
}

func (p *Payee) keyOf(id uint64) (paych.PublicKey, error) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	c := p.w.channels[id]
	if c == nil {
		return paych.PublicKey{}, fmt.Errorf("%w: no channel %d pays %s here (the watcher tracks the channels that pay it; or track it)",
			paych.ErrUnknownChannel, id, p.addr)
	}
	return c.VoucherKey, nil
}

// checkLocked applies the rules but the signature's.
func (p *Payee) checkLocked(v *paych.Voucher, price types.Amount) (types.Amount, error) {
	c := p.w.channels[v.Channel]
	switch {
	case c.Collected != 0:
		return 0, fmt.Errorf("%w: channel %d was collected at height %d", paych.ErrClosed, c.ID, c.Collected)
	case c.SettlingAt != 0:
		return 0, fmt.Errorf("%w: channel %d settles at height %d; no new vouchers", paych.ErrSettling, c.ID, c.SettlingAt)
	case v.Expiry != 0 && v.Expiry < p.height+p.opts.ExpiryMargin:
		return 0, fmt.Errorf("%w: voucher %s expires at height %d; this wallet needs %d blocks from height %d to redeem it",
			paych.ErrVoucherExpired, v.Ref(), v.Expiry, p.opts.ExpiryMargin, p.height)
	}
	best := p.w.vouchers[laneID{v.Channel, v.Lane}]
	chain := c.Lane(v.Lane)
	if v.Nonce <= best.Nonce || v.Nonce <= chain.Nonce {
		return 0, fmt.Errorf("%w: voucher %s: the lane is at nonce %d", paych.ErrStaleNonce, v.Ref(), max(best.Nonce, chain.Nonce))
	}
	base := max(best.Amount, chain.Redeemed)
	if v.Amount < base {
		return 0, fmt.Errorf("%w: voucher %s would lower lane %d from %s to %s", ErrUnderpaid, v.Ref(), v.Lane, base, v.Amount)
	}
	// Over all lanes, with this one's new amount: within the deposit.
	var total types.Amount
	seen := false
	for _, l := range c.Lanes {
		a := l.Redeemed
		if l.Lane == v.Lane {
			a, seen = v.Amount, true
		} else if b, ok := p.w.vouchers[laneID{v.Channel, l.Lane}]; ok {
			a = max(a, b.Amount)
		}
		total = addSat(total, a)
	}
	for _, l := range p.w.laneIDs(&v.Channel) {
		if c.Lane(l.lane).Nonce != 0 || l.lane == v.Lane {
			continue // counted above, or below
		}
		total = addSat(total, p.w.vouchers[l].Amount)
	}
	if !seen {
		total = addSat(total, v.Amount)
	}
	if total > c.Deposit {
		return 0, fmt.Errorf("%w: voucher %s brings the channel's lanes to %s; its deposit is %s", paych.ErrExceedsDeposit, v.Ref(), total, c.Deposit)
	}
	pay := v.Amount - base
	if pay < price {
		return 0, fmt.Errorf("%w: voucher %s adds %s to lane %d; the price is %s", ErrUnderpaid, v.Ref(), pay, v.Lane, price)
	}
	return pay, nil
}

func addSat(a, b types.Amount) types.Amount {
	if s, err := a.Add(b); err == nil {
		return s
	}
	return types.MaxAmount
}

// Syncs reports the journal's fsyncs so far.
func (p *Payee) Syncs() int { return p.w.syncs() }
