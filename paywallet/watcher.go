package paywallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/types"
)

// Chain is what the watcher needs of a node: client.Payee provides it
// over the HTTP API.
type Chain interface {
	// Height is the last committed height.
	Height(ctx context.Context) (int64, error)
	Channel(ctx context.Context, id uint64) (*paych.Channel, error)
	Channels(ctx context.Context, f paych.Filter) ([]*paych.Channel, error)
	// Redeem submits a voucher signed in by the payee and returns once it
	// is committed. A refusal wraps the paych error of its code.
	Redeem(ctx context.Context, v paych.Voucher) error
}

// Watcher keeps a payee's vouchers safe: it tracks the channels that pay
// the payee and redeems the best voucher of each lane the chain has not
// counted as soon as a channel is settling, or when a voucher's expiry
// comes near.
type Watcher struct {
	Payee *Payee
	Chain Chain
	// Every is the polling interval of Run (default 2s).
	Every time.Duration
	// RedeemAbove, if not zero, also redeems a lane of an open channel
	// once its best voucher is that much above what the chain counted,
	// so that a payee's earnings reach its account as they grow.
	RedeemAbove types.Amount
	// Logf reports what the watcher does; nil for nothing.
	Logf func(format string, args ...any)
}

func (w *Watcher) logf(format string, args ...any) {
	if w.Logf != nil {
		w.Logf(format, args...)
	}
}

// Run polls until ctx ends. A failed round is reported and retried at the
// next tick.
func (w *Watcher) Run(ctx context.Context) error {
	every := w.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := w.Poll(ctx); err != nil && ctx.Err() == nil {
			w.logf("paywallet: watcher: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Poll does one round: it reads the height, tracks every channel that
// pays the payee, and redeems what needs redeeming. It returns the first
// error after trying every channel.
func (w *Watcher) Poll(ctx context.Context) error {
	h, err := w.Chain.Height(ctx)
	if err != nil {
		return err
	}
	w.Payee.SetHeight(h)
	me := w.Payee.Address()
	var all []*paych.Channel
	for f := (paych.Filter{Payee: &me, Limit: 1000}); ; {
		page, err := w.Chain.Channels(ctx, f)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	var errs []error
	for _, c := range all {
		if c.Collected != 0 {
			if old, ok := w.Payee.Channel(c.ID); ok && old.Collected != 0 {
				continue // closed and known to be
			}
		}
		if err := w.Payee.Track(*c); err != nil {
			return err
		}
		if c.State() == paych.StateClosed {
			continue
		}
		urgent := c.State() == paych.StateSettling
		if _, err := w.redeem(ctx, c, h, urgent); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Redeem submits, for one channel, the best voucher of each lane the
// chain has not counted yet, and returns how many it redeemed.
func (w *Watcher) Redeem(ctx context.Context, channel uint64) (int, error) {
	c, err := w.Chain.Channel(ctx, channel)
	if err != nil {
		return 0, err
	}
	if err := w.Payee.Track(*c); err != nil {
		return 0, err
	}
	return w.redeem(ctx, c, 0, true)
}

// redeem submits the best vouchers the chain has not counted: all of
// them when all is set, else only those whose expiry is within the
// wallet's margin of height h, and those RedeemAbove past the chain's.
func (w *Watcher) redeem(ctx context.Context, c *paych.Channel, h int64, all bool) (int, error) {
	n := 0
	changed := false
	for _, v := range w.Payee.Best(c.ID) {
		if v.Nonce <= c.Lane(v.Lane).Nonce {
			continue // counted
		}
		expiring := v.Expiry != 0 && v.Expiry <= h+w.Payee.opts.ExpiryMargin/2
		grown := w.RedeemAbove != 0 && v.Amount >= c.Lane(v.Lane).Redeemed && v.Amount-c.Lane(v.Lane).Redeemed >= w.RedeemAbove
		if !all && !expiring && !grown {
			continue
		}
		err := w.Chain.Redeem(ctx, v)
		switch {
		case err == nil:
			n++
			changed = true
			w.logf("paywallet: redeemed voucher %s (%s on lane %d) of channel %d", v.Ref(), v.Amount, v.Lane, c.ID)
		case errors.Is(err, paych.ErrStaleNonce):
			changed = true // someone counted as much already
		case errors.Is(err, paych.ErrSettled), errors.Is(err, paych.ErrClosed), errors.Is(err, paych.ErrVoucherExpired):
			w.logf("paywallet: voucher %s of channel %d came too late: %v", v.Ref(), c.ID, err)
		default:
			return n, fmt.Errorf("channel %d: %w", c.ID, err)
		}
	}
	if changed {
		if fresh, err := w.Chain.Channel(ctx, c.ID); err == nil {
			if err := w.Payee.Track(*fresh); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
