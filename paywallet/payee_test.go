package paywallet_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// openPayee opens bob's wallet in dir; t may be nil in a child process.
func openPayee(t testing.TB, dir string) *paywallet.Payee {
	p, err := paywallet.OpenPayee(dir, chaintest.ChainID, chaintest.Addr("bob"), paywallet.PayeeOptions{ExpiryMargin: 10})
	if err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	return p
}

func openPayeeErr(dir string) (*paywallet.Payee, error) {
	return paywallet.OpenPayee(dir, chaintest.ChainID, chaintest.Addr("bob"), paywallet.PayeeOptions{ExpiryMargin: 10})
}

func signedBy(payer string, v paych.Voucher) paych.Voucher {
	v.Sign(chaintest.ChainID, voucherKey(payer))
	return v
}

// The payee's offline rules, each with its error, each leaving the best
// voucher of the lane as it was.
func TestPayeeChecks(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(10))
	p := openPayee(t, t.TempDir())
	v := func(lane, nonce uint64, amt types.Amount) paych.Voucher {
		return signedBy("alice", paych.Voucher{Channel: id, Lane: lane, Nonce: nonce, Amount: amt})
	}
	if _, err := p.Accept(v(0, 1, 1), 0); !errors.Is(err, paych.ErrUnknownChannel) {
		t.Fatalf("an untracked channel: %v", err)
	}
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	if pay, err := p.Accept(v(0, 1, types.MYC(2)), types.MYC(2)); err != nil || pay != types.MYC(2) {
		t.Fatalf("first voucher: %s %v", pay, err)
	}
	if pay, err := p.Accept(v(1, 1, types.MYC(3)), types.MYC(1)); err != nil || pay != types.MYC(3) {
		t.Fatalf("lane 1: %s %v", pay, err)
	}
	foreign := paych.Voucher{Channel: id, Lane: 0, Nonce: 5, Amount: types.MYC(3)}
	foreign.Sign("another-chain", voucherKey("alice"))
	moved := v(0, 5, types.MYC(3))
	moved.Lane = 2
	p.SetHeight(5)
	expiring := signedBy("alice", paych.Voucher{Channel: id, Lane: 0, Nonce: 6, Amount: types.MYC(3), Expiry: 12})
	for _, tc := range []struct {
		name  string
		v     paych.Voucher
		price types.Amount
		err   error
	}{
		{"signed by another key", signedBy("carol", paych.Voucher{Channel: id, Nonce: 9, Amount: types.MYC(3)}), 0, paych.ErrBadSignature},
		{"signed for another chain", foreign, 0, paych.ErrBadSignature},
		{"moved to another lane", moved, 0, paych.ErrBadSignature},
		{"for a channel not held", signedBy("alice", paych.Voucher{Channel: id + 1, Nonce: 9, Amount: 1}), 0, paych.ErrUnknownChannel},
		{"the same nonce", v(0, 1, types.MYC(4)), 0, paych.ErrStaleNonce},
		{"a lower nonce", v(1, 0, types.MYC(4)), 0, paych.ErrStaleNonce},
		{"a lower amount", v(0, 2, types.MYC(1)), 0, paywallet.ErrUnderpaid},
		{"less than the price", v(0, 2, types.MYC(3)), types.MYC(2), paywallet.ErrUnderpaid},
		{"over the deposit across lanes", v(0, 2, types.MYC(8)), 0, paych.ErrExceedsDeposit},
		{"a new lane over the deposit", v(5, 1, types.MYC(6)), 0, paych.ErrExceedsDeposit},
		{"expiring too soon", expiring, 0, paych.ErrVoucherExpired},
	} {
		if _, err := p.Accept(tc.v, tc.price); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
		if _, err := p.Check(tc.v, tc.price); !errors.Is(err, tc.err) {
			t.Errorf("%s (Check): %v, want %v", tc.name, err, tc.err)
		}
	}
	if best := p.Best(id); len(best) != 2 || best[0].Nonce != 1 || best[1].Amount != types.MYC(3) {
		t.Fatalf("best %+v", best)
	}
	// Check changes nothing; Accept of the same voucher then pays.
	good := v(0, 7, types.MYC(5))
	if pay, err := p.Check(good, types.MYC(3)); err != nil || pay != types.MYC(3) {
		t.Fatalf("check: %s %v", pay, err)
	}
	if pay, err := p.Accept(good, types.MYC(3)); err != nil || pay != types.MYC(3) {
		t.Fatalf("accept after check: %s %v", pay, err)
	}
	// What the chain redeemed counts even when this wallet never saw the
	// voucher (another instance redeemed it).
	if err := chain.apply(keeper.HandleRedeem, "bob", paych.MsgRedeem{Voucher: v(3, 4, types.MYC(1))}.Encode()); err != nil {
		t.Fatal(err)
	}
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Accept(v(3, 4, types.MYC(1)), 0); !errors.Is(err, paych.ErrStaleNonce) {
		t.Fatalf("a nonce the chain counted: %v", err)
	}
	if _, err := p.Accept(v(3, 5, types.MYC(3)), 0); !errors.Is(err, paych.ErrExceedsDeposit) {
		t.Fatalf("5 + 3 + 3 of 10: %v", err)
	}
	if pay, err := p.Accept(v(3, 5, types.MYC(1)), 0); err != nil || pay != 0 {
		t.Fatalf("a higher nonce, the same amount: %s %v", pay, err)
	}
	// Settling: no new vouchers.
	if err := chain.apply(keeper.HandleSettle, "alice", paych.MsgChannel{Channel: id}.Encode()); err != nil {
		t.Fatal(err)
	}
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Accept(v(0, 8, types.MYC(5)), 0); !errors.Is(err, paych.ErrSettling) {
		t.Fatalf("settling: %v", err)
	}
	other := *chain.channel(id)
	other.Payee = chaintest.Addr("carol")
	if err := p.Track(other); !errors.Is(err, paywallet.ErrWrongPayee) {
		t.Fatalf("another payee's channel: %v", err)
	}
}

// An accepted voucher survives a crash: a wallet reopened without the
// first being closed has every acknowledged voucher, a torn record at the
// end of the journal is cut off, and the wallet goes on after it.
func TestPayeeCrashSafety(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(100))
	dir := t.TempDir()
	p := openPayee(t, dir)
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	var last paych.Voucher
	for n := uint64(1); n <= 20; n++ {
		last = signedBy("alice", paych.Voucher{Channel: id, Lane: n % 3, Nonce: n, Amount: types.Amount(n)})
		if _, err := p.Accept(last, 0); err != nil {
			t.Fatal(err)
		}
	}
	want := p.Best(id)
	// "Crash": never Close p; open the directory again.
	q := openPayee(t, dir)
	if got := q.Best(id); !equalVouchers(got, want) {
		t.Fatalf("after a crash: %+v, want %+v", got, want)
	}
	if c, ok := q.Channel(id); !ok || c.Deposit != types.MYC(100) {
		t.Fatalf("after a crash: channel %+v", c)
	}

	// A torn write: half a record at the end.
	path := filepath.Join(dir, "journal")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := []byte{0x7d, 1, 2, 3, 4, 3, 0xde, 0xad}
	if _, err := f.Write(torn); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	r := openPayee(t, dir)
	if got := r.Best(id); !equalVouchers(got, want) {
		t.Fatalf("after a torn write: %+v, want %+v", got, want)
	}
	if st2, _ := os.Stat(path); st2.Size() != st.Size()-int64(len(torn)) {
		t.Fatalf("the torn tail was not cut: %d bytes, then %d", st.Size(), st2.Size())
	}
	next := signedBy("alice", paych.Voucher{Channel: id, Lane: 0, Nonce: 21, Amount: 50})
	if _, err := r.Accept(next, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	late := signedBy("alice", paych.Voucher{Channel: id, Lane: 0, Nonce: 22, Amount: 51})
	if _, err := r.Accept(late, 0); !errors.Is(err, paywallet.ErrWalletClosed) {
		t.Fatalf("accepted by a closed wallet: %v", err)
	}
	s := openPayee(t, dir)
	if b := s.Best(id); b[0] != next {
		t.Fatalf("the voucher after the torn tail was lost: %+v", b[0])
	}
	// A corrupt record (a flipped bit) ends the journal the same way.
	s.Close()
	b, _ := os.ReadFile(path)
	b[len(b)-3] ^= 0x10
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	u := openPayee(t, dir)
	if got := u.Best(id); !equalVouchers(got, want) {
		t.Fatalf("after a flipped bit in the last record: %+v, want %+v", got, want)
	}
	// Not a journal at all: a clear error, nothing overwritten.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "journal"), []byte("hello"), 0o600)
	if _, err := paywallet.OpenPayee(bad, chaintest.ChainID, chaintest.Addr("bob"), paywallet.PayeeOptions{}); err == nil {
		t.Fatal("opened a file that is not a journal")
	}
}

func equalVouchers(a, b []paych.Voucher) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Concurrent Accepts share fsyncs: the first writer waits (by a test
// hook) until every other has appended its voucher, and the second group
// then writes them all with one fsync.
func TestGroupCommit(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(1000))
	dir := t.TempDir()
	p := openPayee(t, dir)
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	const writers = 16
	base := p.Appended()
	syncs := p.Syncs()
	var once sync.Once
	p.SetBeforeWrite(func() {
		once.Do(func() {
			for p.Appended() < base+writers {
				runtimeYield()
			}
		})
	})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(lane uint64) {
			defer wg.Done()
			_, err := p.Accept(signedBy("alice", paych.Voucher{Channel: id, Lane: lane, Nonce: 1, Amount: types.MYC(1)}), 0)
			errs <- err
		}(uint64(i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Syncs() - syncs; got != 2 {
		t.Fatalf("%d accepts took %d fsyncs, want 2 (the first alone, then the rest together)", writers, got)
	}
	if got := len(openPayee(t, dir).Best(id)); got != writers {
		t.Fatalf("reopened: %d lanes, want %d", got, writers)
	}
}

// Many goroutines racing on one lane: each voucher is accepted or refused
// as stale, never both counted; the increments accepted add up to the
// lane's best amount, so nothing is paid for twice.
func TestConcurrentAcceptsOnOneLane(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(1000))
	p := openPayee(t, t.TempDir())
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	const n = 200
	vs := make([]paych.Voucher, n)
	for i := range vs {
		vs[i] = signedBy("alice", paych.Voucher{Channel: id, Nonce: uint64(i + 1), Amount: types.Amount(1000 * (i + 1))})
	}
	var mu sync.Mutex
	var total types.Amount
	accepted := 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				pay, err := p.Accept(vs[i], 0)
				if err != nil && !errors.Is(err, paych.ErrStaleNonce) {
					t.Error(err)
					return
				}
				if err == nil {
					mu.Lock()
					total += pay
					accepted++
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
	best := p.Best(id)
	if len(best) != 1 || total != best[0].Amount || best[0].Nonce != n {
		t.Fatalf("accepted %d paying %s in all; best %+v", accepted, total, best)
	}
}

// The journal is rewritten once it holds many more records than live
// state, and the rewrite keeps everything.
func TestCompaction(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(1000))
	dir := t.TempDir()
	p := openPayee(t, dir)
	p.SetCompactAt(50)
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	for n := uint64(1); n <= 200; n++ {
		if _, err := p.Accept(signedBy("alice", paych.Voucher{Channel: id, Lane: n % 2, Nonce: n, Amount: types.Amount(n)}), 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.FileRecords(); got > 60 {
		t.Fatalf("%d records in the journal after 200 accepts on two lanes", got)
	}
	want := p.Best(id)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := openPayee(t, dir).Best(id); !equalVouchers(got, want) || got[0].Nonce != 200 || got[1].Nonce != 199 {
		t.Fatalf("after rewrites: %+v, want %+v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "journal.tmp")); !os.IsNotExist(err) {
		t.Fatalf("a rewrite left its temporary file: %v", err)
	}
}
