package paywallet_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// payerChannel is a channel of alice's voucher key to bob.
func payerChannel(deposit types.Amount) paych.Channel {
	return paych.Channel{ID: 1, Payer: chaintest.Addr("alice"), Payee: chaintest.Addr("bob"),
		VoucherKey: paych.KeyOf(voucherKey("alice")), Deposit: deposit}
}

func TestPayerDeferred(t *testing.T) {
	dir := t.TempDir()
	p := openPayer(t, dir)
	if err := p.Track(payerChannel(types.MYC(100))); err != nil {
		t.Fatal(err)
	}
	deferred := func(p *paywallet.Payer, add types.Amount) paych.Voucher {
		t.Helper()
		v, err := p.Make(paywallet.VoucherRequest{Channel: 1, Add: add, Deferred: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i := 1; i <= 10; i++ {
		if v := deferred(p, 1); v.Nonce != uint64(i) || v.Amount != types.Amount(i) {
			t.Fatalf("deferred voucher %d: %+v", i, v)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed cleanly, every voucher is written and the reservation given
	// back: the lane goes on at the next nonce.
	p = openPayer(t, dir)
	defer p.Close()
	if last, _ := p.Last(1, 0); last.Nonce != 10 || last.Amount != 10 {
		t.Fatalf("reopened: last %+v", last)
	}
	if v := deferred(p, 1); v.Nonce != 11 || v.Amount != 11 {
		t.Fatalf("after a clean close: %+v", v)
	}

	// Adopt: a voucher of the wallet's key that carries more (one the
	// wallet forgot) becomes the lane's base, at the lane's next nonce.
	forgotten := signedBy("alice", paych.Voucher{Channel: 1, Lane: 0, Nonce: 7, Amount: 50})
	got, err := p.Adopt(forgotten)
	if err != nil || got.Nonce != 12 || got.Amount != 50 {
		t.Fatalf("adopt a higher amount: %+v %v", got, err)
	}
	if v := deferred(p, 1); v.Nonce != 13 || v.Amount != 51 {
		t.Fatalf("after adopting: %+v", v)
	}
	// A higher nonce: the lane goes on above it.
	got, err = p.Adopt(signedBy("alice", paych.Voucher{Channel: 1, Lane: 0, Nonce: 1000, Amount: 20}))
	if err != nil || got.Nonce != 1001 || got.Amount != 51 {
		t.Fatalf("adopt a higher nonce: %+v %v", got, err)
	}
	// Nothing new: the last voucher, unchanged.
	last, _ := p.Last(1, 0)
	if got, err := p.Adopt(forgotten); err != nil || got != last {
		t.Fatalf("adopt an old voucher: %+v %v", got, err)
	}
	for _, tc := range []struct {
		name string
		v    paych.Voucher
		err  error
	}{
		{"another key's", signedBy("carol", paych.Voucher{Channel: 1, Nonce: 2000, Amount: 60}), paych.ErrBadSignature},
		{"over the deposit", signedBy("alice", paych.Voucher{Channel: 1, Nonce: 2000, Amount: types.MYC(101)}), paywallet.ErrOverDeposit},
		{"an untracked channel's", signedBy("alice", paych.Voucher{Channel: 2, Nonce: 2000, Amount: 60}), paywallet.ErrUntracked},
	} {
		if _, err := p.Adopt(tc.v); !errors.Is(err, tc.err) {
			t.Errorf("adopt %s voucher: %v, want %v", tc.name, err, tc.err)
		}
	}
	if after, _ := p.Last(1, 0); after != last {
		t.Fatalf("refused adoptions changed the lane: %+v, was %+v", after, last)
	}

	// Rewrites of the journal keep the reservations: a wallet opened on
	// it as it stands (as after a crash: p is not closed) goes on above
	// every nonce that went out.
	p.SetCompactAt(8)
	var out paych.Voucher
	for range 600 {
		out = deferred(p, 1)
	}
	crashed := openPayer(t, dir)
	defer crashed.Close()
	if v := deferred(crashed, 1); v.Nonce <= out.Nonce {
		t.Fatalf("after rewrites and a crash: %+v, the last that went out %+v", v, out)
	}
}

const payerCrashEnv = "PAYWALLET_PAYER_CRASH_CHILD"

// payerCrashChild makes deferred vouchers on lane 0, going on from the
// wallet's last, and prints each once Make has returned (as if sent),
// until it is killed.
func payerCrashChild(dir string) {
	p, err := paywallet.OpenPayer(dir, chaintest.ChainID, voucherKey("alice"))
	if err != nil {
		panic(err)
	}
	if err := p.Track(payerChannel(types.MaxAmount / 2)); err != nil {
		panic(err)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		v, err := p.Make(paywallet.VoucherRequest{Channel: 1, Add: 1, Deferred: true})
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(w, "voucher %s\n", v)
		if i%8 == 0 {
			w.Flush()
		}
	}
}

// kill -9 a payer between deferred vouchers: the reopened wallet never
// reuses a nonce that went out, and adopting the last voucher that went
// out (as a payee would show it) brings its amount back.
func TestPayerKillNine(t *testing.T) {
	if dir := os.Getenv(payerCrashEnv); dir != "" {
		payerCrashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	lost := 0
	for round := 0; round < 3; round++ {
		cmd, stdout := startChild(t, "TestPayerKillNine", payerCrashEnv, dir)
		var sent paych.Voucher
		n := 0
		for sc := bufio.NewScanner(stdout); sc.Scan(); {
			text, ok := strings.CutPrefix(sc.Text(), "voucher ")
			if !ok {
				continue // the test framework's own output
			}
			v, err := paych.ParseVoucher(text)
			if err != nil {
				t.Fatal(err)
			}
			if v.Nonce <= sent.Nonce || v.Amount <= sent.Amount {
				t.Fatalf("round %d: voucher %+v after %+v", round, v, sent)
			}
			sent = v
			if n++; n == 2000+500*round {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		waitKilled(t, cmd, round)
		p := openPayer(t, dir)
		// The wallet may hold vouchers past the last one printed (made, not
		// yet printed), or not the last few printed (not yet written).
		if last, _ := p.Last(1, 0); last.Amount < sent.Amount {
			lost += int(sent.Amount - last.Amount)
		}
		next, err := p.Make(paywallet.VoucherRequest{Channel: 1, Add: 1, Deferred: true})
		if err != nil || next.Nonce <= sent.Nonce {
			t.Fatalf("round %d: after the crash the next voucher %+v reuses a nonce sent (last sent %+v): %v", round, next, sent, err)
		}
		got, err := p.Adopt(sent)
		if err != nil || got.Amount != max(sent.Amount, next.Amount) || got.Nonce < next.Nonce {
			t.Fatalf("round %d: adopt %+v: %+v %v", round, sent, got, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("vouchers whose amount a crash made the wallet forget, over three kills: %d", lost)
}
