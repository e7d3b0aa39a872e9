package paywallet_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// Paying per request (docs/gateway.md, "Paying for inference"): each
// request reserves its maximum out of its lane's credit, the unused part
// goes back and counts toward the next request, so the payer pays for
// what was used plus, at any time, one request's float; a voucher short
// of the credit needed is refused and not kept.
func TestReserveAccounting(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", 1000)
	dir := t.TempDir()
	p := openPayee(t, dir)
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	v := func(nonce uint64, amt types.Amount) paych.Voucher {
		return signedBy("alice", paych.Voucher{Channel: id, Lane: 3, Nonce: nonce, Amount: amt})
	}
	want := func(step string, got, want paywallet.LaneBalance) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: lane %+v, want %+v", step, got, want)
		}
	}
	// Request 1 may cost 60 and uses 24: 36 of credit is left.
	r, err := p.Reserve(v(1, 60), 60)
	if err != nil || r.Adds != 60 {
		t.Fatalf("first reserve: %v %+v", err, r)
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	want("reserved", p.Balance(id, 3), paywallet.LaneBalance{Nonce: 1, Covered: 60, Spent: 60})
	want("settled", r.Settle(24), paywallet.LaneBalance{Nonce: 1, Covered: 60, Spent: 24})
	want("settled twice", r.Settle(0), paywallet.LaneBalance{Nonce: 1, Covered: 60, Spent: 24})
	// Request 2 may cost 60 too: the voucher adds only the 24 the credit
	// lacks. One adding less is refused, and not kept.
	if _, err := p.Reserve(v(2, 83), 60); !errors.Is(err, paywallet.ErrUnderpaid) {
		t.Fatalf("a voucher one short: %v", err)
	}
	want("refused", p.Balance(id, 3), paywallet.LaneBalance{Nonce: 1, Covered: 60, Spent: 24})
	r, err = p.Reserve(v(3, 84), 60)
	if err != nil || r.Adds != 24 {
		t.Fatalf("second reserve: %v %+v", err, r)
	}
	// A voucher with a new nonce that adds nothing is enough while the
	// credit covers the request; the old nonce is not.
	r.Settle(10) // spent 34, credit 50
	if _, err := p.Reserve(v(3, 84), 40); !errors.Is(err, paych.ErrStaleNonce) {
		t.Fatalf("the same voucher again: %v", err)
	}
	r, err = p.Reserve(v(4, 84), 50)
	if err != nil || r.Adds != 0 {
		t.Fatalf("a reserve from the credit alone: %v %+v", err, r)
	}
	r.Settle(50)
	want("all used", p.Balance(id, 3), paywallet.LaneBalance{Nonce: 4, Covered: 84, Spent: 84})
	// Over the deposit is refused as it is by Accept.
	if _, err := p.Reserve(v(5, 1001), 10); !errors.Is(err, paych.ErrExceedsDeposit) {
		t.Fatalf("over the deposit: %v", err)
	}
	// Reopened, the wallet has the same lane: the spent amount is durable.
	r, err = p.Reserve(v(6, 100), 16)
	if err != nil {
		t.Fatal(err)
	}
	r.Settle(6) // spent 90
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openPayee(t, dir)
	defer p.Close()
	want("reopened", p.Balance(id, 3), paywallet.LaneBalance{Nonce: 6, Covered: 100, Spent: 90})
	// The watcher redeems the lane's best voucher: what was paid is what
	// was used plus the float of the last request.
	w := &paywallet.Watcher{Payee: p, Chain: chain}
	if n, err := w.Redeem(context.Background(), id); err != nil || n != 1 {
		t.Fatalf("redeem: %d %v", n, err)
	}
	if c := chain.channel(id); c.Paid != 100 {
		t.Fatalf("paid %s, want 100", c.Paid)
	}
	want("redeemed", p.Balance(id, 3), paywallet.LaneBalance{Nonce: 6, Covered: 100, Spent: 90})
}

// A crash between a request's end and the next group commit loses at
// most the return of what it did not use: the lane looks more spent,
// never less, and a reservation that was not yet waited for may be lost
// with its voucher (it was never acknowledged).
func TestReserveCrash(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", 1000)
	dir := t.TempDir()
	p := openPayee(t, dir)
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	r, err := p.Reserve(signedBy("alice", paych.Voucher{Channel: id, Nonce: 1, Amount: 50}), 50)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	// Hold the return back from the file, as a crash would.
	block := make(chan struct{})
	p.SetBeforeWrite(func() { <-block })
	r.Settle(20)
	// The wallet as the file holds it now: reopened without closing.
	q := openPayee(t, dir)
	if b := q.Balance(id, 0); b.Covered != 50 || b.Spent != 50 {
		t.Fatalf("before the return is durable: %+v", b)
	}
	q.Close()
	close(block)
	p.SetBeforeWrite(nil)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	q = openPayee(t, dir)
	defer q.Close()
	if b := q.Balance(id, 0); b.Covered != 50 || b.Spent != 20 {
		t.Fatalf("after: %+v", b)
	}
}

// Concurrent requests on several lanes: every reservation is within its
// lane's vouchers, and the spent amounts add up to what was used.
func TestReserveConcurrent(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(1))
	p := openPayee(t, t.TempDir())
	defer p.Close()
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	const lanes, requests, cost = 8, 50, 10
	var wg sync.WaitGroup
	errs := make(chan error, lanes)
	for lane := uint64(0); lane < lanes; lane++ {
		wg.Go(func() {
			var used types.Amount
			for i := uint64(1); i <= requests; i++ {
				// The payer covers what was used plus this request's most.
				r, err := p.Reserve(signedBy("alice", paych.Voucher{Channel: id, Lane: lane, Nonce: i, Amount: used + cost}), cost)
				if err == nil {
					err = r.Wait()
				}
				if err != nil {
					errs <- err
					return
				}
				u := types.Amount(i % cost)
				used += u
				r.Settle(u)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for lane := uint64(0); lane < lanes; lane++ {
		var used types.Amount
		for i := uint64(1); i <= requests; i++ {
			used += types.Amount(i % cost)
		}
		if b := p.Balance(id, lane); b.Spent != used || b.Covered != used-types.Amount(requests%cost)+cost {
			t.Fatalf("lane %d: %+v, used %s", lane, b, used)
		}
	}
}

// RedeemAbove: on an open channel the watcher redeems a lane once its
// best voucher is that much above what the chain counted, not before.
func TestWatcherRedeemAbove(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", 1000)
	p := openPayee(t, t.TempDir())
	defer p.Close()
	w := &paywallet.Watcher{Payee: p, Chain: chain, RedeemAbove: 100}
	if err := w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, amt := range []types.Amount{60, 99, 150, 200, 249, 250} {
		if _, err := p.Accept(signedBy("alice", paych.Voucher{Channel: id, Nonce: uint64(i + 1), Amount: amt}), 0); err != nil {
			t.Fatal(err)
		}
		if err := w.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := map[types.Amount]types.Amount{60: 0, 99: 0, 150: 150, 200: 150, 249: 150, 250: 250}[amt]
		if got := chain.channel(id).Paid; got != want {
			t.Fatalf("best voucher %s: paid %s, want %s", amt, got, want)
		}
	}
}

// A compaction keeps each lane's spent amount beside its best voucher.
func TestReserveCompaction(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(1))
	dir := t.TempDir()
	p := openPayee(t, dir)
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	p.SetCompactAt(8)
	var spent types.Amount
	for i := uint64(1); i <= 40; i++ {
		r, err := p.Reserve(signedBy("alice", paych.Voucher{Channel: id, Lane: i % 2, Nonce: i/2 + 1, Amount: 10 * types.Amount(i)}), 10)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Wait(); err != nil {
			t.Fatal(err)
		}
		spent = r.Settle(3).Spent
	}
	if n := p.FileRecords(); n > 30 { // 122 without compaction
		t.Fatalf("the journal was not compacted: %d records", n)
	}
	want0, want1 := p.Balance(id, 0), p.Balance(id, 1)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	q := openPayee(t, dir)
	defer q.Close()
	if got0, got1 := q.Balance(id, 0), q.Balance(id, 1); got0 != want0 || got1 != want1 || got1.Spent != spent || spent != 20*3 {
		t.Fatalf("reopened: %+v %+v, want %+v %+v (spent %s)", got0, got1, want0, want1, spent)
	}
}
