package paywallet_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// The watcher finds the channels that pay its payee, redeems the best
// voucher of each lane as soon as a payer settles (well before the settle
// height), redeems vouchers whose expiry comes near, and the payee ends
// with exactly the best vouchers it accepted.
func TestWatcher(t *testing.T) {
	ctx := context.Background()
	chain := newSimChain(t, "bob")
	ch1 := chain.open(t, "alice", types.MYC(10))
	ch2 := chain.open(t, "carol", types.MYC(5))
	bob := openPayee(t, t.TempDir())
	var logs []string
	w := &paywallet.Watcher{Payee: bob, Chain: chain, Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	if err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if cs := bob.Channels(); len(cs) != 2 {
		t.Fatalf("the watcher tracks %d channels", len(cs))
	}
	alice, err := paywallet.OpenPayer(t.TempDir(), chaintest.ChainID, voucherKey("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Track(*chain.channel(ch1)); err != nil {
		t.Fatal(err)
	}
	// Alice pays per request on two lanes; bob accepts each voucher.
	var sum types.Amount
	for i := 0; i < 30; i++ {
		task := []string{"chat", "embed"}[i%2]
		v, err := alice.Pay(ch1, task, types.Amount(100_000+i))
		if err != nil {
			t.Fatal(err)
		}
		pay, err := bob.Accept(v, 100_000)
		if err != nil {
			t.Fatal(err)
		}
		sum += pay
	}
	if err := w.Poll(ctx); err != nil || chain.redeems != 0 {
		t.Fatalf("redeemed %d vouchers of an open channel: %v", chain.redeems, err)
	}
	before := chain.balance("bob")
	if err := chain.apply(keeper.HandleSettle, "alice", paych.MsgChannel{Channel: ch1}.Encode()); err != nil {
		t.Fatal(err)
	}
	settleAt := chain.channel(ch1).SettlingAt
	if err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	h, _ := chain.Height(ctx)
	if chain.redeems != 2 || h >= settleAt {
		t.Fatalf("%d redeems by height %d (settles at %d)", chain.redeems, h, settleAt)
	}
	if got := chain.balance("bob") - before; got != sum {
		t.Fatalf("bob got %s; his vouchers add to %s", got, sum)
	}
	if err := w.Poll(ctx); err != nil || chain.redeems != 2 {
		t.Fatalf("a second round redeemed again: %d %v", chain.redeems, err)
	}
	if c, _ := bob.Channel(ch1); c.State() != paych.StateSettling || len(c.Lanes) != 2 {
		t.Fatalf("the wallet's view after redeeming: %+v", c)
	}

	// An expiring voucher is redeemed once its expiry is within half the
	// margin (5 blocks here), even on an open channel.
	h, _ = chain.Height(ctx)
	exp := signedBy("carol", paych.Voucher{Channel: ch2, Nonce: 1, Amount: types.MYC(1), Expiry: h + 12})
	if _, err := bob.Accept(exp, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Poll(ctx); err != nil || chain.redeems != 2 {
		t.Fatalf("redeemed %d, 12 blocks before the expiry: %v", chain.redeems, err)
	}
	chain.advance(8)
	if err := w.Poll(ctx); err != nil || chain.redeems != 3 {
		t.Fatalf("redeemed %d, 4 blocks before the expiry: %v", chain.redeems, err)
	}
	// On demand.
	if _, err := bob.Accept(signedBy("carol", paych.Voucher{Channel: ch2, Lane: 1, Nonce: 1, Amount: types.MYC(2)}), 0); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Redeem(ctx, ch2); err != nil || n != 1 {
		t.Fatalf("redeem on demand: %d %v", n, err)
	}
	if n, err := w.Redeem(ctx, ch2); err != nil || n != 0 {
		t.Fatalf("redeem on demand again: %d %v", n, err)
	}
	// Refusals: too late is reported and skipped; anything else is an
	// error.
	if _, err := bob.Accept(signedBy("carol", paych.Voucher{Channel: ch2, Lane: 1, Nonce: 2, Amount: types.MYC(3)}), 0); err != nil {
		t.Fatal(err)
	}
	chain.failRedeem = fmt.Errorf("redeem: %w", paych.ErrSettled)
	if n, err := w.Redeem(ctx, ch2); err != nil || n != 0 || !strings.Contains(logs[len(logs)-1], "came too late") {
		t.Fatalf("too late: %d %v %q", n, err, logs)
	}
	chain.failRedeem = errors.New("node unreachable")
	if _, err := w.Redeem(ctx, ch2); err == nil || !strings.Contains(err.Error(), "node unreachable") {
		t.Fatalf("a failure: %v", err)
	}
	chain.failRedeem = nil

	// The settle height passes; alice collects the rest.
	chain.advance(settleAt)
	if err := chain.apply(keeper.HandleCollect, "alice", paych.MsgChannel{Channel: ch1}.Encode()); err != nil {
		t.Fatal(err)
	}
	if c := chain.channel(ch1); c.Paid != sum || c.Refunded != types.MYC(10)-sum {
		t.Fatalf("collected %+v", c)
	}
	if err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := bob.Channel(ch1); c.State() != paych.StateClosed {
		t.Fatalf("the wallet's view after collect: %+v", c)
	}
}

// Run polls until its context ends.
func TestWatcherRun(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(10))
	bob := openPayee(t, t.TempDir())
	w := &paywallet.Watcher{Payee: bob, Chain: chain, Every: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var runErr error
	go func() { defer wg.Done(); runErr = w.Run(ctx) }()
	for {
		if _, ok := bob.Channel(id); ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := bob.Accept(signedBy("alice", paych.Voucher{Channel: id, Nonce: 1, Amount: types.MYC(1)}), 0); err != nil {
		t.Fatal(err)
	}
	if err := chain.apply(keeper.HandleSettle, "bob", paych.MsgChannel{Channel: id}.Encode()); err != nil {
		t.Fatal(err)
	}
	for chain.channel(id).Paid == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if !errors.Is(runErr, context.Canceled) {
		t.Fatalf("Run returned %v", runErr)
	}
}
