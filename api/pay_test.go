package api

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

// payBackend knows a few channels and every provider.
type payBackend struct {
	gatewayBackend
	channels map[uint64]*paych.Channel
}

func (b *payBackend) Provider(context.Context, types.Address) (app.ProviderInfo, error) {
	return app.ProviderInfo{}, nil
}

func (b *payBackend) Status(context.Context) (Status, error) { return Status{ChainID: "pay-test"}, nil }

func (b *payBackend) Channel(_ context.Context, id uint64) (*paych.Channel, error) {
	if c := b.channels[id]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%w: no channel %d", ErrNotFound, id)
}

// Routing by payment (docs/gateway.md, "Paying for inference"): a
// request with no voucher goes to a provider that serves its model free,
// or gets a 402 naming the cheapest paid one; a voucher takes the request
// to its channel's payee and nowhere else, once its cheap parts hold
// against chain state; each refusal is a 402 with its code and the
// payment that would do.
func TestPayRoute(t *testing.T) {
	_, voucherKey, _ := ed25519.GenerateKey(nil)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	free, paidA, paidB, stranger := types.Address{1}, types.Address{2}, types.Address{3}, types.Address{4}
	be := &payBackend{channels: map[uint64]*paych.Channel{
		1: {ID: 1, Payee: paidA, VoucherKey: paych.KeyOf(voucherKey), Deposit: 1000, Paid: 100,
			Lanes: []paych.Lane{{Lane: 0, Nonce: 5, Redeemed: 100}}},
		2: {ID: 2, Payee: stranger, VoucherKey: paych.KeyOf(voucherKey), Deposit: 1000},
		3: {ID: 3, Payee: paidA, VoucherKey: paych.KeyOf(voucherKey), Deposit: 1000, SettlingAt: 40},
		4: {ID: 4, Payee: paidA, VoucherKey: paych.KeyOf(voucherKey), Deposit: 1000, Collected: 50},
		5: {ID: 5, Payee: free, VoucherKey: paych.KeyOf(voucherKey), Deposit: 1000},
	}}
	hub := NewHub()
	srv := httptest.NewServer(Handler(Config{Backend: be, Hub: hub}))
	defer srv.Close()
	kjv, only := servedModel("kjv", 1), servedModel("only", 2)
	priced := func(m inference.ModelInfo, p types.Amount) inference.ModelInfo { m.PricePerToken = p; return m }
	// Three providers of kjv (one free, two at 5 and 4 umyc a token); only
	// paidA serves "only", at 5.
	polls := map[types.Address]chan *task{}
	announce := map[types.Address][]inference.ModelInfo{
		free: {kjv}, paidA: {priced(kjv, 5), priced(only, 5)}, paidB: {priced(kjv, 4)}}
	for a, ms := range announce {
		polls[a] = poll(hub, a, ms, "", time.Minute)
		waitIdle(t, hub, a, 1)
	}
	voucher := func(ch, lane, nonce uint64, amt types.Amount, key ed25519.PrivateKey) string {
		v := paych.Voucher{Channel: ch, Lane: lane, Nonce: nonce, Amount: amt}
		v.Sign("pay-test", key)
		return v.String()
	}
	post := func(model, voucher, channel string) (int, inference.ErrorResponse) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/completions",
			strings.NewReader(`{"model":"`+model+`","prompt":"p","max_tokens":10}`))
		if voucher != "" {
			req.Header.Set(inference.HeaderVoucher, voucher)
		}
		if channel != "" {
			req.Header.Set(inference.HeaderChannel, channel)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			return 0, inference.ErrorResponse{} // dispatched: the poll answers nothing here
		}
		defer resp.Body.Close()
		var e inference.ErrorResponse
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	// GET /v1/models: the lowest price and every offer, cheapest first.
	m, _ := hub.resolve("kjv")
	if m.PricePerToken != 0 || len(m.Offers) != 3 || m.Offers[0].Provider != free || m.Offers[1].Provider != paidB || m.Offers[2].PricePerToken != 5 {
		t.Fatalf("offers %+v", m.Offers)
	}

	// Routed: no voucher to the free provider; a voucher to its payee.
	dispatched := func(to types.Address, wantVoucher string) {
		t.Helper()
		select {
		case tk := <-polls[to]:
			if tk == nil || tk.Voucher != wantVoucher {
				t.Fatalf("task at %s: %+v", to, tk)
			}
			polls[to] = poll(hub, to, announce[to], "", time.Minute)
			waitIdle(t, hub, to, 1)
		case <-time.After(5 * time.Second):
			t.Fatalf("nothing reached %s", to)
		}
	}
	post("kjv", "", "")
	dispatched(free, "")
	good := voucher(1, 0, 6, 150, voucherKey)
	post("kjv", good, "")
	dispatched(paidA, good)
	// A channel whose payee serves the model free: routed there, nothing
	// to pay.
	post("kjv", "", "5")
	dispatched(free, "")

	for _, c := range []struct {
		name, model, voucher, channel string
		code                          string
		payee                         types.Address
		price                         types.Amount
		ch                            uint64
	}{
		{"no voucher, no free provider", "only", "", "", inference.CodePaymentRequired, paidA, 5, 0},
		{"a channel named, no voucher", "only", "", "1", inference.CodePaymentRequired, paidA, 5, 1},
		{"garbage", "only", "!!", "", inference.CodeInvalidVoucher, paidA, 5, 0},
		{"no such channel", "kjv", voucher(9, 0, 1, 50, voucherKey), "", inference.CodeUnknownChannel, free, 0, 9},
		{"a payee that does not serve the model", "kjv", voucher(2, 0, 1, 50, voucherKey), "", inference.CodeWrongPayee, free, 0, 2},
		{"signed by another key", "kjv", voucher(1, 0, 6, 150, otherKey), "", inference.CodeBadSignature, paidA, 5, 1},
		{"a nonce the chain counted", "kjv", voucher(1, 0, 5, 150, voucherKey), "", inference.CodeStaleNonce, paidA, 5, 1},
		{"above the deposit", "kjv", voucher(1, 0, 6, 1001, voucherKey), "", inference.CodeExceedsDeposit, paidA, 5, 1},
		{"a new lane above what is left", "kjv", voucher(1, 1, 1, 901, voucherKey), "", inference.CodeExceedsDeposit, paidA, 5, 1},
		{"a settling channel", "kjv", voucher(3, 0, 1, 50, voucherKey), "", inference.CodeSettling, paidA, 5, 3},
		{"a collected channel", "kjv", voucher(4, 0, 1, 50, voucherKey), "", inference.CodeClosed, paidA, 5, 4},
	} {
		status, e := post(c.model, c.voucher, c.channel)
		p := e.Payment
		if status != 402 || e.Error == nil || e.Error.Code != c.code || e.Error.Type != inference.TypePayment || p == nil ||
			p.Payee != c.payee || p.PricePerToken != c.price || p.MaxCost != 10*c.price || p.Channel != c.ch ||
			p.Header != inference.HeaderVoucher || p.Hint == "" {
			t.Errorf("%s: %d %+v %+v", c.name, status, e.Error, p)
		}
	}
	// A provider's own 402 reaches the client with its payment.
	go func() {
		tk := <-polls[paidB]
		if _, ok := hub.claim(tk.ID, paidB); ok {
			tk.events <- inference.Event{Error: inference.PaymentError(inference.CodeUnderpaid, "short"),
				Payment: &inference.Payment{Payee: paidB, PricePerToken: 4, MaxCost: 40, Channel: 6, Spent: 7, Required: 47}}
		}
	}()
	be.channels[6] = &paych.Channel{ID: 6, Payee: paidB, VoucherKey: paych.KeyOf(voucherKey), Deposit: 1000}
	status, e := post("kjv", voucher(6, 0, 1, 40, voucherKey), "")
	if status != 402 || e.Error.Code != inference.CodeUnderpaid || e.Payment == nil || e.Payment.Required != 47 {
		t.Fatalf("the provider's 402: %d %+v %+v", status, e.Error, e.Payment)
	}
}
