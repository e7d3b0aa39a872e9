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
	// floor is, for each lane, the nonce the wallet found reserved when it
	// opened: deferred vouchers up to it may have gone out unrecorded
	// before a crash, so the lane goes on above it.
	floor map[laneID]uint64
}

// reserveAhead is how many nonces of a lane one write reserves for
// deferred vouchers: one fsync per that many vouchers.
const reserveAhead = 256

// OpenPayer opens (or creates) the payer's wallet of key for a chain in
// dir.
func OpenPayer(dir, chainID string, key ed25519.PrivateKey) (*Payer, error) {
	pub := paych.KeyOf(key)
	w, err := openWallet(dir, meta{chainID: chainID, role: rolePayer, owner: pub[:]})
	if err != nil {
		return nil, err
	}
	floor := make(map[laneID]uint64, len(w.reserved))
	for l, n := range w.reserved { //mycel:sorted (a copy)
		floor[l] = n
	}
	return &Payer{w: w, key: key, pub: pub, chainID: chainID, floor: floor}, nil
}

// Close writes what deferred vouchers are not written yet and closes the
// wallet. With every voucher written, the lanes' reservations are given
// back first, so that a lane reopened after a clean close goes on at the
// next nonce rather than above its reservation.
func (p *Payer) Close() error {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if p.w.j.f != nil {
		for _, l := range p.w.laneIDs(nil) {
			if r, ok := p.w.reserved[l]; ok {
				if base := p.baseLocked(l); r > base {
					p.w.reserved[l] = base
					p.w.j.appendLocked(reserveRecord(l, base))
				}
			}
		}
	}
	return p.w.j.closeLocked()
}

// baseLocked is the highest nonce a lane's vouchers may have used.
func (p *Payer) baseLocked(l laneID) uint64 {
	return max(p.w.vouchers[l].Nonce, p.floor[l])
}

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
	// Deferred returns the voucher before it is written: it is written
	// with the wallet's next group commit, which Make starts. Its nonce is
	// reserved on disk beforehand (reserveAhead nonces per write), so a
	// crash never makes the payer reuse it; but a crash before the write
	// forgets the voucher's amount, and the lane's next voucher would then
	// carry less than the payee holds. A payee refuses that and shows its
	// best voucher of the lane, which Adopt takes back. For callers that
	// handle that refusal (client.PayingTransport): it keeps the fsync off
	// each payment's path.
	Deferred bool
}

// Make signs a voucher and records it, durably, before returning it (or,
// Deferred, after): a payer that crashes after handing a voucher out
// never reuses its nonce.
func (p *Payer) Make(req VoucherRequest) (paych.Voucher, error) {
	if (req.Amount == 0) == (req.Add == 0) && !(req.Amount == 0 && req.Unchecked) {
		return paych.Voucher{}, fmt.Errorf("%w: give the lane's new total amount or the amount to add, not both or neither", ErrNothingToPay)
	}
	if req.MinSettleHeight < 0 || req.Expiry < 0 {
		return paych.Voucher{}, fmt.Errorf("negative height")
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.makeLocked(req)
}

func (p *Payer) makeLocked(req VoucherRequest) (paych.Voucher, error) {
	c := p.w.channels[req.Channel]
	if c == nil {
		return paych.Voucher{}, fmt.Errorf("%w: channel %d; track it first (mycel channel show %d)", ErrUntracked, req.Channel, req.Channel)
	}
	l := laneID{req.Channel, req.Lane}
	last, base := p.w.vouchers[l], p.baseLocked(l)
	v := paych.Voucher{Channel: req.Channel, Lane: req.Lane, Nonce: req.Nonce, Amount: req.Amount,
		MinSettleHeight: req.MinSettleHeight, Expiry: req.Expiry}
	if v.Nonce == 0 {
		if base == ^uint64(0) {
			return paych.Voucher{}, fmt.Errorf("%w: lane %d of channel %d has used every nonce; use another lane", ErrNonceReused, req.Lane, req.Channel)
		}
		v.Nonce = base + 1
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
		case v.Nonce <= base:
			return paych.Voucher{}, fmt.Errorf("%w: nonce %d, lane %d of channel %d is at %d", ErrNonceReused, v.Nonce, v.Lane, c.ID, base)
		case v.Amount < last.Amount:
			return paych.Voucher{}, fmt.Errorf("%w: %s is below the lane's %s (amounts are cumulative: give the lane's total)", ErrLowerAmount, v.Amount, last.Amount)
		}
		if total := p.promisedLocked(c.ID, &v); total > c.Deposit {
			return paych.Voucher{}, fmt.Errorf("%w: the lanes of channel %d would promise %s of a %s deposit (top it up: mycel channel topup %d)",
				ErrOverDeposit, c.ID, total, c.Deposit, c.ID)
		}
	}
	v.Sign(p.chainID, p.key)
	if v.Nonce <= base {
		return v, nil // an unchecked voucher below the lane's last: nothing to keep
	}
	if req.Deferred && v.Nonce > p.w.reserved[l] {
		// Reserve the nonces ahead, durably, before any of them goes out.
		r := v.Nonce + reserveAhead
		if r < v.Nonce {
			r = ^uint64(0)
		}
		// In the state before the wait, which may rewrite the journal
		// from the state.
		p.w.reserved[l] = r
		if err := p.w.j.waitLocked(p.w.j.appendLocked(reserveRecord(l, r))); err != nil {
			return paych.Voucher{}, err
		}
	}
	p.w.vouchers[l] = v
	seq := p.w.j.appendLocked(voucherRecord(v))
	if req.Deferred {
		p.w.flushSoon(seq)
		return v, nil
	}
	if err := p.w.j.waitLocked(seq); err != nil {
		return paych.Voucher{}, err
	}
	return v, nil
}

// Adopt takes back a voucher of the wallet's key that carries more than
// its lane's last voucher, or a higher nonce (one a payee shows after a
// crash made the wallet forget a deferred voucher, or a wallet restored
// from an old copy): the wallet signs the lane's next voucher, above
// both nonces, for the higher amount and keeps it as the lane's last, so
// that the lane's next payment builds on what the payee holds. It
// returns the lane's last voucher, new or not. A voucher the wallet's key
// did not sign for this chain is refused.
func (p *Payer) Adopt(v paych.Voucher) (paych.Voucher, error) {
	if err := v.Verify(p.chainID, p.pub); err != nil {
		return paych.Voucher{}, fmt.Errorf("adopt voucher %s: %w", v.Ref(), err)
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	l := laneID{v.Channel, v.Lane}
	last, base := p.w.vouchers[l], p.baseLocked(l)
	if v.Amount <= last.Amount && v.Nonce <= base {
		return last, nil
	}
	if v.Nonce > base {
		p.floor[l] = v.Nonce // the new voucher is durable, and above it
	}
	nv, err := p.makeLocked(VoucherRequest{Channel: v.Channel, Lane: v.Lane, Amount: max(v.Amount, last.Amount)})
	if err != nil {
		return paych.Voucher{}, fmt.Errorf("adopt voucher %s: %w", v.Ref(), err)
	}
	return nv, nil
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
