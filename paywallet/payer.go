package paywallet

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/types"
)

// Errors of the payer's wallet.
var (
	ErrUntracked    = errors.New("channel not in the wallet")
	ErrWrongKey     = errors.New("channel's vouchers are signed by another key")
	ErrOverDeposit  = errors.New("vouchers would promise more than the channel's deposit")
	ErrLowerAmount  = errors.New("voucher would lower its lane's amount")
	ErrNonceReused  = errors.New("nonce not above the lane's last")
	ErrNothingToPay = errors.New("nothing to pay")
)

// Payer is the wallet of one voucher key: the channels whose vouchers it
// signs, the last voucher of each lane, and the lanes given to tasks.
// Its methods are safe for concurrent use.
type Payer struct {
	w       *wallet
	key     ed25519.PrivateKey
	pub     paych.PublicKey
	chainID string
}

// OpenPayer opens (or creates) the payer's wallet of key for a chain in
// dir.
func OpenPayer(dir, chainID string, key ed25519.PrivateKey) (*Payer, error) {
	pub := paych.KeyOf(key)
	w, err := openWallet(dir, meta{chainID: chainID, role: rolePayer, owner: pub[:]})
	if err != nil {
		return nil, err
	}
	return &Payer{w: w, key: key, pub: pub, chainID: chainID}, nil
}

// Close waits for what is being written and closes the wallet.
func (p *Payer) Close() error { return p.w.close() }

// Key returns the voucher key's public half.
func (p *Payer) Key() paych.PublicKey { return p.pub }

// Track records a channel as the chain shows it now (its deposit above
// all), durably. Its vouchers must be signed by the wallet's key.
func (p *Payer) Track(c paych.Channel) error {
	if c.VoucherKey != p.pub {
		return fmt.Errorf("%w: channel %d names voucher key %s; this wallet's key is %s", ErrWrongKey, c.ID, c.VoucherKey, p.pub)
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if rec := p.w.trackLocked(c); rec != nil {
		return p.w.j.waitLocked(p.w.j.appendLocked(rec))
	}
	return nil
}

// Channel returns a channel as last seen.
func (p *Payer) Channel(id uint64) (paych.Channel, bool) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	c := p.w.channels[id]
	if c == nil {
		return paych.Channel{}, false
	}
	return copyChannel(c), true
}

// Last returns the last voucher made on a lane.
func (p *Payer) Last(channel, lane uint64) (paych.Voucher, bool) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	v, ok := p.w.vouchers[laneID{channel, lane}]
	return v, ok
}

// Promised returns what the last vouchers of a channel's lanes add up
// to; the deposit less this is what new vouchers may still promise.
func (p *Payer) Promised(channel uint64) types.Amount {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.promisedLocked(channel, nil)
}

// promisedLocked sums the lanes' last amounts, with one lane's replaced.
func (p *Payer) promisedLocked(channel uint64, with *paych.Voucher) types.Amount {
	var sum types.Amount
	for _, l := range p.w.laneIDs(&channel) {
		a := p.w.vouchers[l].Amount
		if with != nil && l.lane == with.Lane {
			continue
		}
		if s, err := sum.Add(a); err == nil {
			sum = s
		} else {
			return types.MaxAmount
		}
	}
	if with != nil {
		if s, err := sum.Add(with.Amount); err == nil {
			return s
		}
		return types.MaxAmount
	}
	return sum
}

// Lane returns the lane of a task on a channel, giving it the lowest lane
// no task and no voucher uses yet the first time it is asked, durably.
// One lane per task (per request stream, per counterparty agent) keeps
// concurrent payments from racing for the same nonces.
func (p *Payer) Lane(channel uint64, task string) (uint64, error) {
	if len(task) == 0 || len(task) > maxLabel {
		return 0, fmt.Errorf("task label of %d bytes: want 1 to %d", len(task), maxLabel)
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if l, ok := p.w.labels[channel][task]; ok {
		return l, nil
	}
	used := map[uint64]bool{}
	for _, l := range p.w.labels[channel] { //mycel:sorted (a set)
		used[l] = true
	}
	for _, l := range p.w.laneIDs(&channel) {
		used[l.lane] = true
	}
	lane := uint64(0)
	for used[lane] {
		lane++
	}
	p.w.setLabel(channel, lane, task)
	return lane, p.w.j.waitLocked(p.w.j.appendLocked(laneRecord(channel, lane, task)))
}

// VoucherRequest asks for a voucher.
type VoucherRequest struct {
	Channel uint64
	Lane    uint64
	// Amount is the lane's new cumulative amount; or Add is what the
	// voucher adds to the lane's last one. Exactly one is set.
	Amount types.Amount
	Add    types.Amount
	// Nonce is the voucher's nonce; 0 for the lane's next.
	Nonce uint64
	// MinSettleHeight and Expiry are the voucher's heights (0 for none).
	MinSettleHeight int64
	Expiry          int64
	// Unchecked skips the wallet's rules (a nonce above the lane's last,
	// an amount that does not lower the lane, a total within the deposit,
	// an open channel), to make vouchers the chain must refuse in tests.
	Unchecked bool
}

// Make signs a voucher and records it, durably, before returning it: a
// payer that crashes after handing a voucher out never reuses its nonce.
func (p *Payer) Make(req VoucherRequest) (paych.Voucher, error) {
	if (req.Amount == 0) == (req.Add == 0) && !(req.Amount == 0 && req.Unchecked) {
		return paych.Voucher{}, fmt.Errorf("%w: give the lane's new total amount or the amount to add, not both or neither", ErrNothingToPay)
	}
	if req.MinSettleHeight < 0 || req.Expiry < 0 {
		return paych.Voucher{}, fmt.Errorf("negative height")
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	c := p.w.channels[req.Channel]
	if c == nil {
		return paych.Voucher{}, fmt.Errorf("%w: channel %d; track it first (mycel channel show %d)", ErrUntracked, req.Channel, req.Channel)
	}
	last := p.w.vouchers[laneID{req.Channel, req.Lane}]
	v := paych.Voucher{Channel: req.Channel, Lane: req.Lane, Nonce: req.Nonce, Amount: req.Amount,
		MinSettleHeight: req.MinSettleHeight, Expiry: req.Expiry}
	if v.Nonce == 0 {
		if last.Nonce == ^uint64(0) {
			return paych.Voucher{}, fmt.Errorf("%w: lane %d of channel %d has used every nonce; use another lane", ErrNonceReused, req.Lane, req.Channel)
		}
		v.Nonce = last.Nonce + 1
	}
	if req.Add != 0 {
		a, err := last.Amount.Add(req.Add)
		if err != nil {
			return paych.Voucher{}, fmt.Errorf("%w: lane %d at %s plus %s", paych.ErrOverflow, req.Lane, last.Amount, req.Add)
		}
		v.Amount = a
	}
	if !req.Unchecked {
		switch {
		case c.Collected != 0:
			return paych.Voucher{}, fmt.Errorf("%w: channel %d was collected at height %d", paych.ErrClosed, c.ID, c.Collected)
		case c.SettlingAt != 0:
			return paych.Voucher{}, fmt.Errorf("%w: channel %d settles at height %d; its payee takes no new vouchers", paych.ErrSettling, c.ID, c.SettlingAt)
		case v.Nonce <= last.Nonce:
			return paych.Voucher{}, fmt.Errorf("%w: nonce %d, lane %d of channel %d is at %d", ErrNonceReused, v.Nonce, v.Lane, c.ID, last.Nonce)
		case v.Amount < last.Amount:
			return paych.Voucher{}, fmt.Errorf("%w: %s is below the lane's %s (amounts are cumulative: give the lane's total)", ErrLowerAmount, v.Amount, last.Amount)
		}
		if total := p.promisedLocked(c.ID, &v); total > c.Deposit {
			return paych.Voucher{}, fmt.Errorf("%w: the lanes of channel %d would promise %s of a %s deposit (top it up: mycel channel topup %d)",
				ErrOverDeposit, c.ID, total, c.Deposit, c.ID)
		}
	}
	v.Sign(p.chainID, p.key)
	if v.Nonce <= last.Nonce {
		return v, nil // an unchecked voucher below the lane's last: nothing to keep
	}
	p.w.vouchers[laneID{v.Channel, v.Lane}] = v
	if err := p.w.j.waitLocked(p.w.j.appendLocked(voucherRecord(v))); err != nil {
		return paych.Voucher{}, err
	}
	return v, nil
}

// Pay is Make for the common case: the next voucher of a task's lane,
// adding amount.
func (p *Payer) Pay(channel uint64, task string, amount types.Amount) (paych.Voucher, error) {
	lane, err := p.Lane(channel, task)
	if err != nil {
		return paych.Voucher{}, err
	}
	return p.Make(VoucherRequest{Channel: channel, Lane: lane, Add: amount})
}

// Syncs reports the journal's fsyncs so far.
func (p *Payer) Syncs() int { return p.w.syncs() }
