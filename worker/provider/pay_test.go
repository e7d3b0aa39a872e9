package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// fakeEngine generates one token per event, up to max_tokens; fail
// makes it fail after its output, cancel cancels the request after it.
type fakeEngine struct {
	fail   error
	cancel context.CancelFunc
}

var fakeModel = inference.ModelInfo{ID: "fake", Hash: types.Hash{7}, Context: 20, Engine: "fake/1"}

func (e *fakeEngine) Models() []inference.ModelInfo { return []inference.ModelInfo{fakeModel} }

func (e *fakeEngine) Run(ctx context.Context, req inference.Request, emit func(inference.Event) error) (inference.Final, error) {
	n := req.MaxTokens
	for i := 0; i < n; i++ {
		if err := emit(inference.Event{Text: "a"}); err != nil {
			return inference.Final{}, err
		}
	}
	if e.cancel != nil {
		e.cancel()
		return inference.Final{}, ctx.Err()
	}
	if e.fail != nil {
		return inference.Final{}, e.fail
	}
	return inference.Final{Finish: "length", CompletionTokens: n, Receipt: inference.Receipt{Model: req.Model}}, nil
}

// A paid task, as runTask answers it on both paths (polls and the direct
// endpoint): refused with a 402 and its payment without a voucher that
// covers it; charged its tokens when it completes; charged nothing when
// the engine fails; charged its maximum when the client abandons a stream
// after output went out.
func TestPaidTask(t *testing.T) {
	key := chaintest.Key("provider")
	payee := chaintest.Addr("provider")
	payer := chaintest.Key("alice")
	wallet, err := paywallet.OpenPayee(t.TempDir(), "test-chain", payee, paywallet.PayeeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer wallet.Close()
	if err := wallet.Track(paych.Channel{ID: 1, Payee: payee, VoucherKey: paych.KeyOf(payer), Deposit: 1000}); err != nil {
		t.Fatal(err)
	}
	pay := &Payments{PricePerToken: 2, Wallet: wallet}
	nonce := uint64(0)
	voucher := func(amt types.Amount) string {
		nonce++
		v := paych.Voucher{Channel: 1, Nonce: nonce, Amount: amt}
		v.Sign("test-chain", payer)
		return v.String()
	}
	run := func(e Engine, ctx context.Context, maxTokens int, stream bool, v string) (inference.Event, int) {
		t.Helper()
		var out bytes.Buffer
		task := &inference.Task{ID: "t", Request: inference.Request{Model: fakeModel.Hash, Prompt: "p", MaxTokens: maxTokens}, Stream: stream, Voucher: v}
		if err := runTask(ctx, key, e, pay, task, &out, nil); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(&out)
		var last inference.Event
		texts := 0
		for dec.More() {
			var ev inference.Event
			if err := dec.Decode(&ev); err != nil {
				t.Fatal(err)
			}
			texts += len(ev.Text)
			last = ev
		}
		return last, texts
	}
	lane := func() paywallet.LaneBalance { return wallet.Balance(1, 0) }

	// No voucher: a 402 naming the payee, the price and the most it costs.
	last, texts := run(&fakeEngine{}, context.Background(), 5, false, "")
	if e, p := last.Error, last.Payment; e == nil || e.Status != 402 || e.Code != inference.CodePaymentRequired || texts != 0 ||
		p == nil || p.Payee != payee || p.PricePerToken != 2 || p.MaxCost != 10 || p.Required != 10 {
		t.Fatalf("no voucher: %+v %+v", last.Error, last.Payment)
	}
	// Short: 9 of a 10 maximum.
	last, _ = run(&fakeEngine{}, context.Background(), 5, false, voucher(9))
	if e, p := last.Error, last.Payment; e == nil || e.Code != inference.CodeUnderpaid || p.Required != 10 || p.Channel != 1 {
		t.Fatalf("short: %+v %+v", last.Error, last.Payment)
	}
	// Paid: 5 tokens, charged 10.
	last, texts = run(&fakeEngine{}, context.Background(), 5, false, voucher(10))
	if f := last.Final; f == nil || texts != 5 || f.Payment == nil || f.Payment.Charged != 10 || f.Payment.Spent != 10 || f.Payment.Covered != 10 ||
		f.Payment.Tokens != 5 || f.Receipt.Signature == nil {
		t.Fatalf("paid: %+v %+v", last.Final, last.Final.Payment)
	}
	// The engine fails: nothing charged, the lane as it was.
	last, _ = run(&fakeEngine{fail: errors.New("boom")}, context.Background(), 3, true, voucher(16))
	if last.Error == nil || lane().Spent != 10 || lane().Covered != 16 {
		t.Fatalf("failed: %+v, lane %+v", last.Error, lane())
	}
	// A stream abandoned after its output went out: charged its maximum.
	ctx, cancel := context.WithCancel(context.Background())
	run(&fakeEngine{cancel: cancel}, ctx, 3, true, voucher(16))
	if lane().Spent != 16 {
		t.Fatalf("abandoned: lane %+v", lane())
	}
	// A free provider (no payments) ignores vouchers.
	var out bytes.Buffer
	if err := runTask(context.Background(), key, &fakeEngine{}, nil, &inference.Task{Request: inference.Request{Model: fakeModel.Hash, Prompt: "p", MaxTokens: 2}}, &out, nil); err != nil ||
		bytes.Contains(out.Bytes(), []byte(`"payment"`)) || !bytes.Contains(out.Bytes(), []byte(`"final"`)) {
		t.Fatalf("free: %v %s", err, out.String())
	}
	// Announcements carry the price.
	if ms := pay.announce((&fakeEngine{}).Models()); ms[0].PricePerToken != 2 || fakeModel.PricePerToken != 0 {
		t.Fatalf("announced %+v", ms)
	}
}
