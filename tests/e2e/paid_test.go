package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// 1,000 paid requests through the gateway with the official OpenAI
// client (docs/gateway.md, "Paying for inference"): the devnet's
// provider charges 3 umyc per generated token; alice opens a channel to
// it and pays through client.PayingTransport, four requests at a time,
// streamed and not; the provider redeems lanes as they grow; alice
// settles and the provider's watcher redeems the rest within the
// challenge period (20 blocks of 200 ms); alice collects. Alice's and
// the provider's balances match the vouchers to the unit, every fee
// counted from the transactions' results.
func TestPaidGateway(t *testing.T) {
	home, c, rpc, d := devnetWithProvider(t, "--provider-price-per-token", "3umyc", "--provider-redeem-above", "1000umyc")
	ctx := t.Context()
	const price, maxTokens, requests, workers = 3, 2, 1000, 4
	var prov struct{ Address types.Address }
	runJSON(t, &prov, "keys", "show", "provider", "--home", home)
	waitOffer(t, c, prov.Address, price)

	start, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	aliceBefore, provBefore := balanceOf(t, c, "alice", home), balanceOf(t, c, "provider", home)
	var opened struct{ ID string }
	runJSON(t, &opened, "channel", "open", "--home", home, "--to", "provider", "--amount", "1myc", "--from", "alice", "--fee", "1myc")
	id, _ := strconv.ParseUint(opened.ID, 10, 64)
	payer := openPayer(t, c, home, "alice")
	transport := client.NewPayingTransport(payer, id)
	oc := openai.NewClient(option.WithBaseURL(c.URL()+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0),
		option.WithHTTPClient(&http.Client{Transport: transport}))

	var mu sync.Mutex
	var charged types.Amount
	tokens := 0
	paid := func(raw string) error {
		var a struct {
			Payment *inference.Payment `json:"mycel_payment"`
		}
		if err := json.Unmarshal([]byte(raw), &a); err != nil || a.Payment == nil || a.Payment.Channel != id || a.Payment.Payee != prov.Address ||
			a.Payment.Charged != types.Amount(a.Payment.Tokens)*price || a.Payment.Tokens > maxTokens {
			return fmt.Errorf("an answer's payment: %v %s", err, raw)
		}
		mu.Lock()
		charged += a.Payment.Charged
		tokens += a.Payment.Tokens
		mu.Unlock()
		return nil
	}
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := w; i < requests; i += workers {
				if err := paidRequest(ctx, oc, i, maxTokens, paid); err != nil {
					errs <- fmt.Errorf("request %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d paid requests in %v: %d tokens, %s charged", requests, time.Since(began).Round(time.Millisecond), tokens, charged)

	// The vouchers: each lane's last. They cover what was charged plus,
	// per lane, less than one request's maximum.
	ch, err := c.Channel(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var promised types.Amount
	lanes := 0
	for lane := uint64(0); lane < workers+1; lane++ {
		if v, ok := payer.Last(id, lane); ok {
			promised += v.Amount
			lanes++
		}
	}
	if lanes == 0 || lanes > workers || promised < charged || promised-charged > types.Amount(lanes*maxTokens*price) {
		t.Fatalf("%d lanes promise %s for %s charged", lanes, promised, charged)
	}
	// The provider redeemed lanes as they passed 1000umyc, on its own.
	if ch.Paid == 0 {
		t.Fatalf("the provider redeemed nothing while serving: %+v", ch)
	}

	// Alice settles; the watcher redeems every lane's best voucher within
	// the challenge period; alice collects the rest.
	var settled struct {
		SettlingAt int64 `json:"settling_at"`
	}
	runJSON(t, &settled, "channel", "settle", opened.ID, "--home", home, "--from", "alice", "--fee", "1myc")
	ch = waitPaid(t, c, id, promised)
	waitHeight(t, c, settled.SettlingAt, 60*time.Second)
	var collected struct {
		Paid, Refunded types.Amount
	}
	runJSON(t, &collected, "channel", "collect", opened.ID, "--home", home, "--from", "alice", "--fee", "1myc")
	if collected.Paid != promised || collected.Refunded != types.MYC(1)-promised {
		t.Fatalf("collect: %+v, want %s paid", collected, promised)
	}
	end, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Alice: three transactions of 1myc each and the vouchers.
	if got := aliceBefore - balanceOf(t, c, "alice", home); got != types.MYC(3)+promised {
		t.Fatalf("alice is down %s, want 3myc of fees and %s of vouchers", got, promised)
	}
	// The provider: the vouchers, less the fees of its redeems and lease
	// renewals, plus its epoch rewards, as the blocks' results say.
	f := flows(t, rpc, prov.Address, start.Height+1, end.Height)
	if f.redeemed != promised {
		t.Fatalf("the provider's redeems paid %s, the vouchers %s", f.redeemed, promised)
	}
	if got := balanceOf(t, c, "provider", home) - provBefore; got != promised+f.rewards-f.fees {
		t.Fatalf("the provider is up %s, want %s of vouchers + %s of rewards - %s of fees (%d redeems)", got, promised, f.rewards, f.fees, f.redeems)
	}
	t.Logf("channel %d: %d lanes, %s paid in %d redeems (%s of fees), %s refunded", id, lanes, promised, f.redeems, f.redeemFees, collected.Refunded)
	d.kill(syscall.SIGINT)
}

// kill -9 a paid provider between vouchers, three times: a separate
// `mycel provider run --price-per-token` process answers paid requests;
// killed and restarted, it serves on (the client pays again what the
// provider's lane lost, if anything), and after the last restart, with no
// request since, its watcher redeems every lane's best acknowledged
// voucher (the one whose request it answered) when alice settles.
func TestPaidProviderKillNine(t *testing.T) {
	home, c, _, d := devnetWithProvider(t)
	ctx := t.Context()
	var k struct{ Address types.Address }
	runJSON(t, &k, "keys", "add", "prov2", "--home", home)
	run(t, false, "--home", home, "tx", "send", "prov2", "100myc", "--from", "bob")
	args := []string{"provider", "run", "--home", home, "--from", "prov2", "--slots", "1", "--price-per-token", "2umyc",
		"--serve-model", types.Hash(sha256.Sum256(models.KJV())).String() + "=" + models.KJVName}
	prov := start(t, args...)
	waitOffer(t, c, k.Address, 2)

	aliceBefore := balanceOf(t, c, "alice", home)
	var opened struct{ ID string }
	runJSON(t, &opened, "channel", "open", "--home", home, "--to", "prov2", "--amount", "1myc", "--from", "alice", "--fee", "1myc")
	id, _ := strconv.ParseUint(opened.ID, 10, 64)
	payer := openPayer(t, c, home, "alice")
	oc := openai.NewClient(option.WithBaseURL(c.URL()+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0),
		option.WithHTTPClient(&http.Client{Transport: client.NewPayingTransport(payer, id)}))
	acked := func() types.Amount {
		v, _ := payer.Last(id, 0)
		return v.Amount
	}
	for round := 0; round < 3; round++ {
		for i := 0; i < 15; i++ {
			if err := paidRequest(ctx, oc, 100*round+i, 3, func(string) error { return nil }); err != nil {
				t.Fatalf("round %d, request %d: %v\n%s", round, i, err, prov.out.String())
			}
		}
		// Between vouchers: the last request was answered, the next not
		// yet made.
		if err := prov.kill(syscall.SIGKILL); err == nil {
			t.Fatal("the provider exited by itself")
		}
		prov = start(t, args...)
	}
	last := acked()
	if last == 0 {
		t.Fatal("no voucher acknowledged")
	}
	runJSON(t, &struct{}{}, "channel", "settle", opened.ID, "--home", home, "--from", "alice", "--fee", "1myc")
	ch := waitPaid(t, c, id, last)
	if len(ch.Lanes) != 1 || ch.Lanes[0].Redeemed != last {
		t.Fatalf("lanes %+v, want lane 0 at %s", ch.Lanes, last)
	}
	waitHeight(t, c, ch.SettlingAt, 60*time.Second)
	run(t, false, "channel", "collect", opened.ID, "--home", home, "--from", "alice", "--fee", "1myc")
	if got := aliceBefore - balanceOf(t, c, "alice", home); got != types.MYC(3)+last {
		t.Fatalf("alice is down %s, want 3myc of fees and the %s voucher", got, last)
	}
	if !strings.Contains(prov.out.String(), "redeemed voucher") {
		t.Fatalf("the restarted provider's output shows no redeem:\n%s", prov.out.String())
	}
	prov.kill(syscall.SIGINT)
	d.kill(syscall.SIGINT)
}

// paidRequest makes request i: a chat or a completion, streamed every
// fifth time, and hands the answer (or the stream's last chunk) to check.
func paidRequest(ctx context.Context, oc openai.Client, i, maxTokens int, check func(raw string) error) error {
	seed := openai.Int(int64(i))
	switch {
	case i%5 == 4:
		s := oc.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: models.KJVName, MaxTokens: openai.Int(int64(maxTokens)),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("And God said")}, Seed: seed})
		var last string
		for s.Next() {
			if raw := s.Current().RawJSON(); strings.Contains(raw, "mycel_payment") {
				last = raw
			}
		}
		if err := s.Err(); err != nil {
			return err
		}
		return check(last)
	case i%2 == 0:
		chat, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: models.KJVName, MaxTokens: openai.Int(int64(maxTokens)),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("In the beginning")}, Seed: seed})
		if err != nil {
			return err
		}
		return check(chat.RawJSON())
	default:
		comp, err := oc.Completions.New(ctx, openai.CompletionNewParams{Model: openai.CompletionNewParamsModel(models.KJVName),
			Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("And the LORD")}, MaxTokens: openai.Int(int64(maxTokens)), Seed: seed})
		if err != nil {
			return err
		}
		return check(comp.RawJSON())
	}
}

// waitOffer waits until /v1/models lists a provider's offer of the model
// at price.
func waitOffer(t *testing.T, c *client.Client, provider types.Address, price types.Amount) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(c.URL() + "/v1/models")
		if err != nil {
			continue
		}
		var list inference.ModelList
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		for _, m := range list.Data {
			for _, o := range m.Mycel.Offers {
				if err == nil && o.Provider == provider && o.PricePerToken == price {
					return
				}
			}
		}
	}
	t.Fatalf("provider %s never offered the model at %s", provider, price)
}

// openPayer opens the payer's wallet of a key, where mycel channel open
// put the channel.
func openPayer(t *testing.T, c *client.Client, home, name string) *paywallet.Payer {
	t.Helper()
	key, err := keyring.Open(filepath.Join(home, "keyring")).Get(name)
	if err != nil {
		t.Fatal(err)
	}
	chainID, err := c.ChainID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, err := paywallet.OpenPayer(filepath.Join(home, "paywallet", chainID, "payer-"+key.Address.String()), chainID, key.Private)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func balanceOf(t *testing.T, c *client.Client, name, home string) types.Amount {
	t.Helper()
	var b struct{ Balance types.Amount }
	runJSON(t, &b, "query", "balance", name, "--home", home)
	return b.Balance
}

// waitPaid waits until a channel has paid want (the watcher's redeems)
// and returns it.
func waitPaid(t *testing.T, c *client.Client, id uint64, want types.Amount) *paych.Channel {
	t.Helper()
	var ch *paych.Channel
	var err error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ch, err = c.Channel(t.Context(), id); err == nil && ch.Paid == want {
			return ch
		}
	}
	t.Fatalf("channel %d: %+v (%v), want %s paid", id, ch, err, want)
	return nil
}

// accountFlows are what moved an account's balance in a range of blocks,
// besides transfers: its transactions' fees, what its redeems paid it,
// and its epoch rewards.
type accountFlows struct {
	fees, redeemFees, redeemed, rewards types.Amount
	redeems                             int
}

// flows reads an account's flows from CometBFT's block results.
func flows(t *testing.T, rpc int, a types.Address, from, to int64) accountFlows {
	t.Helper()
	type event struct {
		Type       string
		Attributes []struct{ Key, Value string }
	}
	attr := func(e event, k string) string {
		for _, at := range e.Attributes {
			if at.Key == k {
				return at.Value
			}
		}
		return ""
	}
	amount := func(s string) types.Amount {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return types.Amount(n)
	}
	var f accountFlows
	for h := from; h <= to; h++ {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/block_results?height=%d", rpc, h))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Result struct {
				Txs []struct {
					Events []event
				} `json:"txs_results"`
				Finalize []event `json:"finalize_block_events"`
			}
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		for _, tx := range r.Result.Txs {
			var fee types.Amount
			mine := false
			for _, e := range tx.Events {
				if e.Type == "tx" && attr(e, "signer") == a.String() {
					mine, fee = true, amount(attr(e, "fee"))
					f.fees += fee
				}
			}
			for _, e := range tx.Events {
				if mine && e.Type == "voucher_redeemed" {
					f.redeemed += amount(attr(e, "paid"))
					f.redeemFees += fee
					f.redeems++
				}
			}
		}
		for _, e := range r.Result.Finalize {
			if e.Type == "provider_reward" && attr(e, "provider") == a.String() {
				f.rewards += amount(attr(e, "amount"))
			}
		}
	}
	return f
}
