package client_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// fakeGateway sells model "m" (context 50) at 2 umyc a token from payee,
// keeping a lane's spent amount as a provider would, and answers each
// request with tokens generated tokens; lose, when set, forgets the
// return of the next request's unused part (a provider's crash). Like a
// provider, it refuses a voucher that would lower its lane and shows the
// lane's best voucher in the 402.
type fakeGateway struct {
	t      *testing.T
	payee  types.Address
	key    paych.PublicKey
	mu     sync.Mutex
	spent  map[uint64]types.Amount
	nonce  map[uint64]uint64
	best   map[uint64]paych.Voucher
	tokens int
	lose   bool
	stream bool
	seen   []paych.Voucher
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/models" {
		json.NewEncoder(w).Encode(inference.ModelList{Object: "list", Data: []inference.ModelObject{{ID: "m", Mycel: inference.ModelDetail{
			Context: 50, PricePerToken: 2, Offers: []inference.Offer{{Provider: g.payee, PricePerToken: 2}}}}}})
		return
	}
	var req struct {
		MaxTokens int `json:"max_tokens"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	v, err := paych.ParseVoucher(r.Header.Get(inference.HeaderVoucher))
	if err != nil || v.Verify("c", g.key) != nil {
		w.WriteHeader(402)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen = append(g.seen, v)
	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = 50
	}
	cost := types.Amount(2 * maxTokens)
	spent := g.spent[v.Lane]
	pay := &inference.Payment{Payee: g.payee, PricePerToken: 2, MaxCost: cost, Channel: v.Channel, Lane: v.Lane, Nonce: v.Nonce, Covered: v.Amount, Spent: spent}
	if best, ok := g.best[v.Lane]; v.Nonce <= g.nonce[v.Lane] || v.Amount < spent+cost || (ok && v.Amount < best.Amount) {
		pay.Required = spent + cost
		if ok {
			pay.Voucher = best.String()
		}
		w.WriteHeader(402)
		json.NewEncoder(w).Encode(inference.ErrorResponse{Error: inference.PaymentError(inference.CodeUnderpaid, "short"), Payment: pay})
		return
	}
	g.nonce[v.Lane], g.best[v.Lane] = v.Nonce, v
	used := types.Amount(2 * min(g.tokens, maxTokens))
	g.spent[v.Lane] = spent + used
	if g.lose {
		g.spent[v.Lane], g.lose = spent+cost, false
	}
	pay.Spent, pay.Tokens, pay.Charged = g.spent[v.Lane], min(g.tokens, maxTokens), used
	if g.stream {
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"choices": []any{}, "mycel_payment": pay})
		fmt.Fprintf(w, "data: {\"choices\":[{\"text\":\"x\"}]}\n\ndata: %s\n\ndata: [DONE]\n\n", b)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "text_completion", "mycel_payment": pay})
}

// The transport pays each request's maximum over what its lane used, as
// the answers report it: the unused part counts toward the next request;
// streams are read for their payment; a payee that lost a return is paid
// it once more, within the lane's earlier vouchers; a wallet with too
// small a deposit fails the request before anything is sent.
func TestPayingTransport(t *testing.T) {
	g, srv, key := startFakeGateway(t)
	payee := g.payee
	payer, err := paywallet.OpenPayer(t.TempDir(), "c", key)
	if err != nil {
		t.Fatal(err)
	}
	defer payer.Close()
	if err := payer.Track(paych.Channel{ID: 1, Payee: payee, VoucherKey: paych.KeyOf(key), Deposit: 100}); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: client.NewPayingTransport(payer, 1)}
	post := func(body string) (int, string) {
		t.Helper()
		resp, err := hc.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	amounts := func() []uint64 {
		var out []uint64
		for _, v := range g.seen {
			out = append(out, uint64(v.Amount))
		}
		g.seen = nil
		return out
	}
	// max 10 tokens (20 umyc), 3 used (6) each time: 20, then 6+20, 12+20.
	for range 3 {
		if status, _ := post(`{"model":"m","prompt":"p","max_tokens":10}`); status != 200 {
			t.Fatalf("status %d", status)
		}
	}
	if got := fmt.Sprint(amounts()); got != "[20 26 32]" {
		t.Fatalf("voucher amounts %s", got)
	}
	// A stream: the same, read from its events.
	g.stream = true
	if status, body := post(`{"model":"m","prompt":"p","max_tokens":10,"stream":true}`); status != 200 || !strings.Contains(body, "[DONE]") {
		t.Fatalf("stream: %d %s", status, body)
	}
	g.stream = false
	post(`{"model":"m","prompt":"p","max_tokens":10}`)
	if got := fmt.Sprint(amounts()); got != "[38 44]" {
		t.Fatalf("after a stream: %s", got)
	}
	// The payee loses a return (it counts 30+20=50 spent where 30+6=36
	// was used): the next request's voucher (36+20=56) is refused, then
	// paid with the difference (50+20=70).
	g.lose = true
	post(`{"model":"m","prompt":"p","max_tokens":10}`)
	if status, _ := post(`{"model":"m","prompt":"p","max_tokens":10}`); status != 200 {
		t.Fatalf("after a lost return: %d", status)
	}
	if got := fmt.Sprint(amounts()); got != "[50 56 70]" {
		t.Fatalf("after a lost return: %s", got)
	}
	// No max_tokens: the model's context, 50 tokens, 100 umyc: more than
	// the deposit allows after what the lane promised.
	resp, err := hc.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"m","prompt":"p"}`))
	if err == nil {
		resp.Body.Close()
		t.Fatal("a request over the deposit was sent")
	}
	if !strings.Contains(err.Error(), "deposit") || len(g.seen) != 0 {
		t.Fatalf("over the deposit: %v, %d sent", err, len(g.seen))
	}
}

// startFakeGateway serves a fakeGateway whose vouchers key signs.
func startFakeGateway(t *testing.T) (*fakeGateway, *httptest.Server, ed25519.PrivateKey) {
	_, key, _ := ed25519.GenerateKey(nil)
	g := &fakeGateway{t: t, payee: types.Address{9}, key: paych.KeyOf(key), spent: map[uint64]types.Amount{}, nonce: map[uint64]uint64{},
		best: map[uint64]paych.Voucher{}, tokens: 3}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv, key
}

// A payer that crashed before its deferred vouchers were written (its
// wallet as it was after the first request) makes a voucher below what
// the payee holds; the payee's 402 shows its best voucher, the wallet
// adopts it, and the request is paid with the next nonce, from where
// the payee is: no nonce reused, no token paid twice.
func TestPayingTransportAfterPayerCrash(t *testing.T) {
	g, srv, key := startFakeGateway(t)
	payee := g.payee
	dir, copyDir := t.TempDir(), t.TempDir()
	open := func(dir string) *paywallet.Payer {
		payer, err := paywallet.OpenPayer(dir, "c", key)
		if err != nil {
			t.Fatal(err)
		}
		if err := payer.Track(paych.Channel{ID: 1, Payee: payee, VoucherKey: paych.KeyOf(key), Deposit: 1000}); err != nil {
			t.Fatal(err)
		}
		return payer
	}
	payer := open(dir)
	post := func(hc *http.Client) int {
		t.Helper()
		resp, err := hc.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"m","prompt":"p","max_tokens":10}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	hc := &http.Client{Transport: client.NewPayingTransport(payer, 1)}
	if post(hc) != 200 {
		t.Fatal("first request")
	}
	// The wallet as a crash right after the first request might leave it.
	if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if post(hc) != 200 {
			t.Fatal("request before the crash")
		}
	}
	payer.Close()
	before := g.best[0]
	// max 10 tokens (20), 3 used (6) each: five requests spent 30.
	if g.spent[0] != 30 || before.Amount != 44 {
		t.Fatalf("before the crash: spent %s, best %+v", g.spent[0], before)
	}
	g.seen = nil
	restored := open(copyDir)
	defer restored.Close()
	if last, _ := restored.Last(1, 0); last.Amount >= before.Amount {
		t.Fatalf("the restored wallet remembers %+v", last)
	}
	if post(&http.Client{Transport: client.NewPayingTransport(restored, 1)}) != 200 {
		t.Fatal("after the crash")
	}
	// One voucher refused (below the payee's 44), then one for 30+20.
	if len(g.seen) != 2 || g.seen[1].Amount != 50 || g.seen[0].Nonce <= before.Nonce || g.seen[1].Nonce <= g.seen[0].Nonce {
		t.Fatalf("after the crash: vouchers %+v (the payee held %+v)", g.seen, before)
	}
	if g.spent[0] != 36 {
		t.Fatalf("after the crash: spent %s", g.spent[0])
	}
}
