package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/tx"
)

// Channel reads a payment channel with its lanes; IsNotFound(err) when
// there is no channel of that id.
func (c *Client) Channel(ctx context.Context, id uint64) (*paych.Channel, error) {
	var ch paych.Channel
	if err := c.do(ctx, http.MethodGet, "/v1/channels/"+strconv.FormatUint(id, 10), nil, nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Channels lists payment channels in id order, narrowed to f.Payer,
// f.Payee or both. Pass the last id of a page as f.After for the next.
func (c *Client) Channels(ctx context.Context, f paych.Filter) ([]*paych.Channel, error) {
	v := url.Values{}
	if f.Payer != nil {
		v.Set("payer", f.Payer.String())
	}
	if f.Payee != nil {
		v.Set("payee", f.Payee.String())
	}
	if f.After != 0 {
		v.Set("after", strconv.FormatUint(f.After, 10))
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	var cs []*paych.Channel
	err := c.do(ctx, http.MethodGet, "/v1/channels?"+v.Encode(), nil, nil, &cs)
	return cs, err
}

// OpenChannel signs and submits the opening of a channel paid by key.
// The channel's id is in the channel_opened event of the committed
// transaction.
func (c *Client) OpenChannel(ctx context.Context, key ed25519.PrivateKey, m paych.MsgOpen, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: paych.KindOpen, Body: m.Encode()}}, o)
}

// TopUpChannel signs and submits a top-up of a channel paid by key.
func (c *Client) TopUpChannel(ctx context.Context, key ed25519.PrivateKey, m paych.MsgTopUp, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: paych.KindTopUp, Body: m.Encode()}}, o)
}

// RedeemVoucher signs and submits the redemption of a voucher by its
// channel's payee, key.
func (c *Client) RedeemVoucher(ctx context.Context, key ed25519.PrivateKey, v paych.Voucher, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: paych.KindRedeem, Body: paych.MsgRedeem{Voucher: v}.Encode()}}, o)
}

// SettleChannel signs and submits the settle of a channel by its payer or
// payee.
func (c *Client) SettleChannel(ctx context.Context, key ed25519.PrivateKey, id uint64, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: paych.KindSettle, Body: paych.MsgChannel{Channel: id}.Encode()}}, o)
}

// CollectChannel signs and submits the collect of a settled channel by
// its payer or payee.
func (c *Client) CollectChannel(ctx context.Context, key ed25519.PrivateKey, id uint64, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: paych.KindCollect, Body: paych.MsgChannel{Channel: id}.Encode()}}, o)
}

// Payee is a payment channel payee's view of a node: it reads channels
// and redeems vouchers signed in by Key, waiting for each to be
// committed. It is what paywallet's Watcher needs of the chain.
type Payee struct {
	Client *Client
	Key    ed25519.PrivateKey
	// Wait bounds the wait for a redeem's block (default one minute).
	Wait time.Duration
	// Options adjust the redeem transactions (a fixed fee, say).
	Options TxOptions
}

// Channel reads a channel.
func (p Payee) Channel(ctx context.Context, id uint64) (*paych.Channel, error) {
	return p.Client.Channel(ctx, id)
}

// Channels lists channels.
func (p Payee) Channels(ctx context.Context, f paych.Filter) ([]*paych.Channel, error) {
	return p.Client.Channels(ctx, f)
}

// Redeem submits a voucher and waits for its block. A refusal by the
// chain wraps the payment channels' error of its code, so callers can
// tell, say, paych.ErrStaleNonce (the lane already counted as much) from
// paych.ErrSettled (too late) with errors.Is.
func (p Payee) Redeem(ctx context.Context, v paych.Voucher) error {
	res, err := p.Client.RedeemVoucher(ctx, p.Key, v, p.Options)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) && ce.Codespace == paych.Codespace {
			if pe := paych.ErrorOf(ce.ABCICode); pe != nil {
				return fmt.Errorf("redeem voucher %s: %w (%s)", v.Ref(), pe, ce.Message)
			}
		}
		return fmt.Errorf("redeem voucher %s: %w", v.Ref(), err)
	}
	wait := p.Wait
	if wait <= 0 {
		wait = time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	r, err := p.Client.WaitTx(wctx, res.Hash)
	if err != nil {
		return err
	}
	if !r.OK() {
		if pe := paych.ErrorOf(r.Code); pe != nil && r.Codespace == paych.Codespace {
			return fmt.Errorf("redeem voucher %s: transaction %s failed: %w (%s)", v.Ref(), r.Hash, pe, r.Log)
		}
		return fmt.Errorf("redeem voucher %s: transaction %s failed: %s", v.Ref(), r.Hash, r.Log)
	}
	return nil
}

// Height returns the node's last committed height.
func (p Payee) Height(ctx context.Context) (int64, error) {
	s, err := p.Client.Status(ctx)
	return s.Height, err
}
