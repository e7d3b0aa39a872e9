package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// Paid inference at the gateway. A request to a model that no live
// provider serves free must carry a voucher (inference.HeaderVoucher) of
// a channel whose payee serves the model: the node routes it to that
// provider, which checks the voucher against its lane's credit and
// reserves the request's maximum before it generates. The node checks
// the cheap parts first from chain state (the channel exists, is open and
// pays a provider of the model; the signature under the channel's voucher
// key; a nonce above the lane's on chain; an amount within the deposit),
// so a bad voucher is refused without a round trip to the provider.

// route is where a request may go: a free provider of its model, or the
// one payee a voucher pays (with the voucher passed on).
type route struct {
	payee   *types.Address
	voucher string
}

// PaymentCode returns the 402 code of a voucher's refusal by
// paych or paywallet, or "" for an error that is not the voucher's.
func PaymentCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{paych.ErrBadSignature, inference.CodeBadSignature},
		{paych.ErrStaleNonce, inference.CodeStaleNonce},
		{paych.ErrExceedsDeposit, inference.CodeExceedsDeposit},
		{paych.ErrVoucherExpired, inference.CodeExpired},
		{paych.ErrSettling, inference.CodeSettling},
		{paych.ErrSettled, inference.CodeSettling},
		{paych.ErrClosed, inference.CodeClosed},
		{paych.ErrUnknownChannel, inference.CodeUnknownChannel},
		{paych.ErrInvalidVoucher, inference.CodeInvalidVoucher},
		{paych.ErrMalformed, inference.CodeInvalidVoucher},
		{paywallet.ErrWrongPayee, inference.CodeWrongPayee},
		{paywallet.ErrUnderpaid, inference.CodeUnderpaid},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// PaymentHint fills in how to pay: the header, the least amount the
// lane's next voucher must carry, and the commands that make one.
func PaymentHint(p *inference.Payment) *inference.Payment {
	p.Header = inference.HeaderVoucher
	if p.Required == 0 {
		p.Required, _ = p.Spent.Add(p.MaxCost)
	}
	if p.Channel == 0 {
		p.Hint = fmt.Sprintf("open a channel to the provider: mycel channel open --to %s --amount AMOUNT --from KEY; "+
			"then send a voucher of it carrying at least %s on a new lane in the %s header (mycel channel voucher ID --amount %s --from KEY), "+
			"or let the Go client pay (client.PayingTransport)", p.Payee, p.Required, inference.HeaderVoucher, p.Required)
		return p
	}
	p.Hint = fmt.Sprintf("send a voucher of channel %d carrying at least %s on lane %d in the %s header (mycel channel voucher %d --lane %d --amount %s --from KEY); "+
		"top the channel up (mycel channel topup %d) or open another (mycel channel open --to %s) if its deposit is spent",
		p.Channel, p.Required, p.Lane, inference.HeaderVoucher, p.Channel, p.Lane, p.Required, p.Channel, p.Payee)
	return p
}

// paid is a 402 with its payment.
func paid(p *inference.Payment, code, format string, args ...any) *inference.Error {
	e := inference.PaymentError(code, format, args...)
	e.Payment = PaymentHint(p)
	return e
}

// elsewhere names the channel a request named in a 402 whose payment
// (and hint) is a channel to open to another provider.
func elsewhere(e *inference.Error, channel uint64) *inference.Error {
	e.Payment.Channel = channel
	return e
}

// payRoute decides where a request for model m goes, given its voucher
// and channel headers: a free provider when it names no channel, else
// the channel's payee once the voucher's cheap checks pass. A request
// that must pay and cannot gets a 402.
func (s *server) payRoute(ctx context.Context, m ServedModel, req *inference.Request, voucherHdr, channelHdr string) (route, *inference.Error) {
	maxTokens := inference.MaxTokensOf(req, m.Context)
	payment := func(o inference.Offer) (*inference.Payment, *inference.Error) {
		cost, err := inference.MaxCost(maxTokens, o.PricePerToken)
		if err != nil {
			return nil, &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Param: "max_tokens", Message: err.Error()}
		}
		return &inference.Payment{Model: m.ID, Payee: o.Provider, PricePerToken: o.PricePerToken, MaxTokens: maxTokens, MaxCost: cost}, nil
	}
	cheapest := m.Offers[0]
	if voucherHdr == "" && channelHdr == "" {
		if cheapest.PricePerToken == 0 {
			return route{}, nil
		}
		p, e := payment(cheapest)
		if e != nil {
			return route{}, e
		}
		return route{}, paid(p, inference.CodePaymentRequired,
			"model %s is paid: %s per generated token at the cheapest of its %d providers; this request (up to %d tokens) needs a voucher in the %s header",
			m.ID, cheapest.PricePerToken, len(m.Offers), maxTokens, inference.HeaderVoucher)
	}
	var v paych.Voucher
	var id uint64
	if voucherHdr != "" {
		var err error
		if v, err = paych.ParseVoucher(voucherHdr); err != nil {
			p, e := payment(cheapest)
			if e != nil {
				return route{}, e
			}
			return route{}, paid(p, inference.CodeInvalidVoucher, "header %s: %v", inference.HeaderVoucher, err)
		}
		id = v.Channel
	}
	if channelHdr != "" {
		n, err := strconv.ParseUint(channelHdr, 10, 64)
		if err != nil || n == 0 || (voucherHdr != "" && n != id) {
			return route{}, &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Code: inference.CodeUnknownChannel,
				Message: fmt.Sprintf("header %s %q: want the id of the channel the voucher pays from", inference.HeaderChannel, channelHdr)}
		}
		id = n
	}
	c, err := s.Backend.Channel(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return route{}, &inference.Error{Status: 503, Type: inference.TypeUnavailable, Message: "reading the channel: " + err.Error()}
	}
	if c == nil {
		p, e := payment(cheapest)
		if e != nil {
			return route{}, e
		}
		return route{}, elsewhere(paid(p, inference.CodeUnknownChannel, "no channel %d on this chain; GET /v1/channels lists them", id), id)
	}
	o, ok := m.offer(c.Payee)
	if !ok {
		p, e := payment(cheapest)
		if e != nil {
			return route{}, e
		}
		return route{}, elsewhere(paid(p, inference.CodeWrongPayee,
			"channel %d pays %s, which does not serve model %s here now; GET /v1/models lists its providers and their prices", id, c.Payee, m.ID), id)
	}
	if o.PricePerToken == 0 {
		return route{payee: &c.Payee}, nil // the payee serves the model free: nothing to pay
	}
	p, e := payment(o)
	if e != nil {
		return route{}, e
	}
	p.Channel = id
	if voucherHdr == "" {
		return route{}, paid(p, inference.CodePaymentRequired, "model %s costs %s per generated token at %s: send a voucher of channel %d in the %s header",
			m.ID, o.PricePerToken, c.Payee, id, inference.HeaderVoucher)
	}
	p.Lane, p.Nonce = v.Lane, v.Nonce
	lane := c.Lane(v.Lane)
	switch {
	case c.Collected != 0:
		return route{}, paid(p, inference.CodeClosed, "voucher %s: channel %d was collected at height %d", v.Ref(), id, c.Collected)
	case c.SettlingAt != 0:
		return route{}, paid(p, inference.CodeSettling, "voucher %s: channel %d settles at height %d; its payee takes no new vouchers", v.Ref(), id, c.SettlingAt)
	}
	chainID, err := s.Hub.chainID(ctx, s.Backend)
	if err != nil {
		return route{}, &inference.Error{Status: 503, Type: inference.TypeUnavailable, Message: "reading the chain id: " + err.Error()}
	}
	if err := v.Verify(chainID, c.VoucherKey); err != nil {
		return route{}, paid(p, inference.CodeBadSignature, "%v (a voucher counts only on the chain, channel and lane it was signed for)", err)
	}
	if v.Nonce <= lane.Nonce {
		return route{}, paid(p, inference.CodeStaleNonce, "voucher %s: the chain counted nonce %d on lane %d; make a new voucher", v.Ref(), lane.Nonce, v.Lane)
	}
	if v.Amount > lane.Redeemed && v.Amount-lane.Redeemed > c.Deposit-c.Paid {
		return route{}, paid(p, inference.CodeExceedsDeposit, "voucher %s adds %s to lane %d's redeemed %s; channel %d holds %s of its %s deposit",
			v.Ref(), v.Amount-lane.Redeemed, v.Lane, lane.Redeemed, id, c.Deposit-c.Paid, c.Deposit)
	}
	return route{payee: &c.Payee, voucher: voucherHdr}, nil
}

// chainID returns the chain's id, read once.
func (h *Hub) chainID(ctx context.Context, b Backend) (string, error) {
	h.mu.Lock()
	id := h.chain
	h.mu.Unlock()
	if id != "" {
		return id, nil
	}
	st, err := b.Status(ctx)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.chain = st.ChainID
	h.mu.Unlock()
	return st.ChainID, nil
}
