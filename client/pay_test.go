package client_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
// return of the next request's unused part (a provider's crash).
type fakeGateway struct {
	t      *testing.T
	payee  types.Address
	key    paych.PublicKey
	mu     sync.Mutex
	spent  map[uint64]types.Amount
	nonce  map[uint64]uint64
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
	if v.Nonce <= g.nonce[v.Lane] || v.Amount < spent+cost {
		pay.Required = spent + cost
		w.WriteHeader(402)
		json.NewEncoder(w).Encode(inference.ErrorResponse{Error: inference.PaymentError(inference.CodeUnderpaid, "short"), Payment: pay})
		return
	}
	g.nonce[v.Lane] = v.Nonce
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
	_, key, _ := ed25519.GenerateKey(nil)
	payee := types.Address{9}
	g := &fakeGateway{t: t, payee: payee, key: paych.KeyOf(key), spent: map[uint64]types.Amount{}, nonce: map[uint64]uint64{}, tokens: 3}
	srv := httptest.NewServer(g)
	defer srv.Close()
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
