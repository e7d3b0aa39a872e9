package devnet

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// Paid inference in one process (docs/gateway.md, "Paying for
// inference"): the built-in provider charges per generated token; a
// request without a voucher, or with a bad one, gets a 402 that says
// what to pay and why; the official OpenAI client pays through
// client.PayingTransport, streamed and not, concurrently; every lane's
// vouchers cover exactly what its answers charged plus at most one
// request's unused maximum; the watcher redeems when alice settles.
func TestPaidInference(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	const price = 3
	net, err := Start(ctx, Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: 100 * time.Millisecond, Logger: quiet(), Provider: true, ProviderPricePerToken: price, ChannelSettleBlocks: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Stop()
	base := net.Nodes[0].APIURL()
	c := client.New(base)
	alice, err := keyring.Open(node.KeyringDir(home)).Get("alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := keyring.Open(node.KeyringDir(home)).Get("bob")

	// The model is listed with its price, once the provider polls.
	var list inference.ModelList
	for deadline := time.Now().Add(60 * time.Second); len(list.Data) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the provider never announced its model")
		}
		time.Sleep(100 * time.Millisecond)
		list = getJSON[inference.ModelList](t, base+"/v1/models")
	}
	d := list.Data[0].Mycel
	if d.PricePerToken != price || len(d.Offers) != 1 || d.Offers[0].Provider != net.Provider || d.Offers[0].PricePerToken != price {
		t.Fatalf("model detail %+v", d)
	}

	post := func(body, voucher string) (int, inference.ErrorResponse) {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/completions", strings.NewReader(body))
		if voucher != "" {
			req.Header.Set(inference.HeaderVoucher, voucher)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e inference.ErrorResponse
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	const body = `{"model":"` + models.KJVName + `","prompt":"And God said","max_tokens":4,"temperature":0}`
	status, e := post(body, "")
	if status != 402 || e.Error.Code != inference.CodePaymentRequired || e.Payment == nil || e.Payment.Payee != net.Provider ||
		e.Payment.PricePerToken != price || e.Payment.MaxCost != 4*price || e.Payment.Required != 4*price ||
		!strings.Contains(e.Payment.Hint, "mycel channel open --to "+net.Provider.String()) {
		t.Fatalf("no voucher: %d %+v %+v", status, e.Error, e.Payment)
	}

	// Alice opens a channel to the provider and pays with vouchers.
	res, err := c.OpenChannel(ctx, alice.Private, paych.MsgOpen{Payee: net.Provider, VoucherKey: paych.KeyOf(alice.Private), Amount: 10_000}, client.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.WaitTx(ctx, res.Hash)
	if err != nil || !tr.OK() {
		t.Fatalf("open: %+v %v", tr, err)
	}
	idStr, _ := client.Event(tr, "channel_opened", "id")
	id, _ := strconv.ParseUint(idStr, 10, 64)
	chainID, _ := c.ChainID(ctx)
	payer, err := paywallet.OpenPayer(t.TempDir(), chainID, alice.Private)
	if err != nil {
		t.Fatal(err)
	}
	defer payer.Close()
	ch, err := c.Channel(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := payer.Track(*ch); err != nil {
		t.Fatal(err)
	}

	// Vouchers that do not hold: each a 402 with its code, none kept.
	forged := paych.Voucher{Channel: id, Lane: 7, Nonce: 1, Amount: 100}
	forged.Sign(chainID, bob.Private)
	first, err := payer.Make(paywallet.VoucherRequest{Channel: id, Lane: 7, Amount: 100})
	if err != nil {
		t.Fatal(err)
	}
	moved := first
	moved.Lane = 8
	// These two stay out of the payer's wallet, which would refuse them.
	greedy := paych.Voucher{Channel: id, Lane: 9, Nonce: 1, Amount: 20_000}
	greedy.Sign(chainID, alice.Private)
	short := paych.Voucher{Channel: id, Lane: 10, Nonce: 1, Amount: 11}
	short.Sign(chainID, alice.Private)
	other := first
	other.Channel = id + 1
	for _, tc := range []struct {
		name, voucher, code string
	}{
		{"garbage", "not-a-voucher", inference.CodeInvalidVoucher},
		{"signed by another key", forged.String(), inference.CodeBadSignature},
		{"moved to another lane", moved.String(), inference.CodeBadSignature},
		{"above the deposit", greedy.String(), inference.CodeExceedsDeposit},
		{"short of the request's maximum", short.String(), inference.CodeUnderpaid},
		{"of a channel that does not exist", other.String(), inference.CodeUnknownChannel},
	} {
		status, e := post(body, tc.voucher)
		if status != 402 || e.Error == nil || e.Error.Code != tc.code || e.Payment == nil || e.Payment.Header != inference.HeaderVoucher {
			t.Errorf("%s: %d %+v %+v", tc.name, status, e.Error, e.Payment)
		}
	}
	// The first voucher is good: it pays. Sent again it is a replay.
	if status, e := post(body, first.String()); status != 200 {
		t.Fatalf("a good voucher: %d %+v", status, e.Error)
	}
	if status, e := post(body, first.String()); status != 402 || e.Error.Code != inference.CodeStaleNonce ||
		e.Payment.Covered != 100 || e.Payment.Spent == 0 || e.Payment.Required != e.Payment.Spent+4*price || e.Payment.Voucher != first.String() {
		t.Fatalf("a replayed voucher: %d %+v %+v", status, e.Error, e.Payment)
	}
	// A voucher below the lane's best (a payer that forgot its last
	// vouchers in a crash): the 402 shows the provider's best, to adopt.
	lower := paych.Voucher{Channel: id, Lane: 7, Nonce: 5, Amount: 99}
	lower.Sign(chainID, alice.Private)
	if status, e := post(body, lower.String()); status != 402 || e.Error.Code != inference.CodeUnderpaid || e.Payment.Voucher != first.String() {
		t.Fatalf("a voucher below the lane's best: %d %+v %+v", status, e.Error, e.Payment)
	}

	// The official client pays through the transport, three at a time.
	transport := client.NewPayingTransport(payer, id)
	oc := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0),
		option.WithHTTPClient(&http.Client{Transport: transport}))
	var mu sync.Mutex
	charged := map[uint64]types.Amount{}
	record := func(raw string) {
		var a struct {
			Payment *inference.Payment `json:"mycel_payment"`
		}
		if err := json.Unmarshal([]byte(raw), &a); err != nil || a.Payment == nil || a.Payment.Charged != types.Amount(a.Payment.Tokens)*price {
			t.Errorf("answer's payment: %v %s", err, raw)
			return
		}
		mu.Lock()
		charged[a.Payment.Lane] += a.Payment.Charged
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Go(func() {
			for i := 0; i < 4; i++ {
				seed := int64(10*w + i)
				switch i % 2 {
				case 0:
					chat, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: models.KJVName, MaxTokens: openai.Int(3 + seed%3),
						Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("In the beginning")}, Seed: openai.Int(seed)})
					if err != nil {
						t.Error(err)
						return
					}
					record(chat.RawJSON())
				case 1:
					s := oc.Completions.NewStreaming(ctx, openai.CompletionNewParams{Model: openai.CompletionNewParamsModel(models.KJVName),
						Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("And the LORD")}, MaxTokens: openai.Int(5), Seed: openai.Int(seed)})
					var last string
					for s.Next() {
						if raw := s.Current().RawJSON(); strings.Contains(raw, "mycel_payment") {
							last = raw
						}
					}
					if err := s.Err(); err != nil {
						t.Error(err)
						return
					}
					record(last)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Each lane the transport used: the payee counts exactly what the
	// answers charged as spent, and the vouchers cover that plus less than
	// one request's most (5 tokens).
	if len(charged) == 0 || len(charged) > 3 {
		t.Fatalf("lanes used: %v", charged)
	}
	for lane, sum := range charged {
		b := net.wallet.Balance(id, lane)
		last, _ := payer.Last(id, lane)
		if b.Spent != sum || b.Covered != last.Amount || b.Covered-b.Spent > 5*price {
			t.Errorf("lane %d: payee %+v, charged %s, last voucher %s", lane, b, sum, last.Amount)
		}
	}

	// Alice settles; the provider's watcher redeems every lane's best
	// voucher within the challenge period; alice collects the rest.
	if _, err := c.SettleChannel(ctx, alice.Private, id, client.TxOptions{}); err != nil {
		t.Fatal(err)
	}
	var want types.Amount
	for _, l := range []uint64{7} {
		v, _ := payer.Last(id, l)
		want += v.Amount
	}
	for lane := range charged {
		v, _ := payer.Last(id, lane)
		want += v.Amount
	}
	var got *paych.Channel
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if got, err = c.Channel(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got.Paid == want {
			break
		}
		if time.Now().After(deadline) || got.Collected != 0 {
			t.Fatalf("the watcher redeemed %s of %s: %+v", got.Paid, want, got)
		}
	}
	if _, err := c.WaitBlock(ctx, got.SettlingAt); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CollectChannel(ctx, alice.Private, id, client.TxOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); got.Collected == 0; time.Sleep(100 * time.Millisecond) {
		if got, err = c.Channel(ctx, id); err != nil || time.Now().After(deadline) {
			t.Fatalf("collect: %+v %v", got, err)
		}
	}
	if got.Paid != want || got.Refunded != 10_000-want {
		t.Fatalf("collected: paid %s refunded %s, want %s and %s", got.Paid, got.Refunded, want, 10_000-want)
	}
	// After collect, a voucher is refused before it reaches the provider.
	late, err := payer.Make(paywallet.VoucherRequest{Channel: id, Lane: 7, Add: 20, Unchecked: true})
	if err != nil {
		t.Fatal(err)
	}
	if status, e := post(body, late.String()); status != 402 || e.Error.Code != inference.CodeClosed {
		t.Fatalf("after collect: %d %+v", status, e.Error)
	}
}

func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	var v T
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
