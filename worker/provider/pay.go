package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// Payments makes a provider's models paid: each costs PricePerToken per
// generated token, paid with payment channel vouchers to the provider
// that arrive with the requests (inference.Task.Voucher). The provider
// checks each voucher offline with its payee wallet and sets the
// request's maximum aside from the voucher's lane before it generates
// (paywallet.Payee.Reserve); it hands out no output before the voucher
// is durable, and when the answer is done it charges the tokens
// generated and gives the rest of the lane's credit back.
type Payments struct {
	PricePerToken types.Amount
	Wallet        *paywallet.Payee
	// Chain reads the channels the wallet does not know yet (a channel
	// opened since the watcher's last round); nil reads none.
	Chain paywallet.Chain
}

// paid reports whether requests must pay.
func (p *Payments) paid() bool { return p != nil && p.PricePerToken > 0 && p.Wallet != nil }

// announce sets the price on the models a provider announces.
func (p *Payments) announce(ms []inference.ModelInfo) []inference.ModelInfo {
	if !p.paid() {
		return ms
	}
	out := make([]inference.ModelInfo, len(ms))
	for i, m := range ms {
		m.PricePerToken = p.PricePerToken
		out[i] = m
	}
	return out
}

// reserve checks a task's voucher and sets its maximum cost aside. It
// returns the reservation to wait for and settle, and the payment to
// report; or a 402 (or, for a wallet that cannot write, a 503) with the
// payment that would do.
func (p *Payments) reserve(ctx context.Context, t *inference.Task, m inference.ModelInfo) (*paywallet.Reservation, *inference.Payment, *inference.Error) {
	maxTokens := inference.MaxTokensOf(&t.Request, m.Context)
	cost, err := inference.MaxCost(maxTokens, p.PricePerToken)
	if err != nil {
		return nil, nil, &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Param: "max_tokens", Message: err.Error()}
	}
	pay := &inference.Payment{Model: m.ID, Payee: p.Wallet.Address(), PricePerToken: p.PricePerToken, MaxTokens: maxTokens, MaxCost: cost}
	if t.Voucher == "" {
		return nil, api.PaymentHint(pay), inference.PaymentError(inference.CodePaymentRequired,
			"model %s costs %s per generated token: this request (up to %d tokens) needs a voucher for %s more than its lane has spent, to %s, in the %s header",
			m.ID, p.PricePerToken, maxTokens, cost, pay.Payee, inference.HeaderVoucher)
	}
	v, err := paych.ParseVoucher(t.Voucher)
	if err != nil {
		return nil, api.PaymentHint(pay), inference.PaymentError(inference.CodeInvalidVoucher, "header %s: %v", inference.HeaderVoucher, err)
	}
	pay.Channel, pay.Lane, pay.Nonce = v.Channel, v.Lane, v.Nonce
	res, err := p.Wallet.Reserve(v, cost)
	if errors.Is(err, paych.ErrUnknownChannel) && p.Chain != nil {
		// A channel opened since the watcher last looked: read it, once.
		var c *paych.Channel
		if c, err = p.Chain.Channel(ctx, v.Channel); err == nil {
			if err = p.Wallet.Track(*c); err == nil {
				res, err = p.Wallet.Reserve(v, cost)
			}
		} else {
			err = fmt.Errorf("%w: channel %d: %v", paych.ErrUnknownChannel, v.Channel, err)
		}
	}
	if err != nil {
		b := p.Wallet.Balance(v.Channel, v.Lane)
		pay.Covered, pay.Spent = b.Covered, b.Spent
		if best, ok := p.Wallet.Voucher(v.Channel, v.Lane); ok {
			pay.Voucher = best.String()
		}
		pay.Required, _ = b.Spent.Add(cost)
		code := api.PaymentCode(err)
		if code == "" {
			return nil, nil, &inference.Error{Status: 503, Type: inference.TypeUnavailable, Message: "the provider cannot record vouchers now: " + err.Error()}
		}
		return nil, api.PaymentHint(pay), inference.PaymentError(code, "voucher %s refused by %s: %v", v.Ref(), pay.Payee, err)
	}
	return res, pay, nil
}

// settle ends a paid request: it charges used and reports the lane after.
func (p *Payments) settle(res *paywallet.Reservation, pay *inference.Payment, tokens int) *inference.Payment {
	used, err := inference.MaxCost(tokens, p.PricePerToken)
	if err != nil {
		used = res.Cost()
	}
	b := res.Settle(used)
	out := *pay
	out.Covered, out.Spent, out.Tokens, out.Charged = b.Covered, b.Spent, tokens, min(used, res.Cost())
	return &out
}

// modelOf finds the model a request names among an engine's.
func modelOf(engine Engine, h types.Hash) (inference.ModelInfo, bool) {
	for _, m := range engine.Models() {
		if m.Hash == h {
			return m, true
		}
	}
	return inference.ModelInfo{}, false
}

// watch runs the payee's watcher until ctx ends: it tracks the channels
// that pay the provider and redeems their best vouchers in time.
func (p *Provider) watch(ctx context.Context) {
	pay := p.cfg.Payments
	// Every second: a challenge period is a few blocks on a devnet.
	w := &paywallet.Watcher{Payee: pay.Wallet, Chain: pay.Chain, RedeemAbove: p.cfg.RedeemAbove, Every: time.Second,
		Logf: func(format string, args ...any) { p.log.Info(fmt.Sprintf(format, args...)) }}
	p.log.Info("selling inference", "price_per_token", pay.PricePerToken, "payee", pay.Wallet.Address(), "redeem_above", p.cfg.RedeemAbove)
	_ = w.Run(ctx)
}
