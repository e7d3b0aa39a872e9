package paywallet_test

import (
	"errors"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

func openPayer(t testing.TB, dir string) *paywallet.Payer {
	t.Helper()
	p, err := paywallet.OpenPayer(dir, chaintest.ChainID, voucherKey("alice"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPayerVouchers(t *testing.T) {
	chain := newSimChain(t, "bob")
	id := chain.open(t, "alice", types.MYC(10))
	dir := t.TempDir()
	p := openPayer(t, dir)
	if _, err := p.Make(paywallet.VoucherRequest{Channel: id, Add: 1}); !errors.Is(err, paywallet.ErrUntracked) {
		t.Fatalf("untracked: %v", err)
	}
	if err := p.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	// Vouchers of a lane count up: nonces by one, amounts cumulative.
	v1, err := p.Make(paywallet.VoucherRequest{Channel: id, Add: types.MYC(1)})
	if err != nil || v1.Nonce != 1 || v1.Amount != types.MYC(1) || v1.Lane != 0 {
		t.Fatalf("first voucher %+v %v", v1, err)
	}
	v2, err := p.Make(paywallet.VoucherRequest{Channel: id, Add: types.MYC(2)})
	if err != nil || v2.Nonce != 2 || v2.Amount != types.MYC(3) {
		t.Fatalf("second voucher %+v %v", v2, err)
	}
	v3, err := p.Make(paywallet.VoucherRequest{Channel: id, Amount: types.MYC(4), MinSettleHeight: 9, Expiry: 99})
	if err != nil || v3.Nonce != 3 || v3.Amount != types.MYC(4) || v3.MinSettleHeight != 9 || v3.Expiry != 99 {
		t.Fatalf("third voucher %+v %v", v3, err)
	}
	if err := v3.Verify(chaintest.ChainID, paych.KeyOf(voucherKey("alice"))); err != nil {
		t.Fatal(err)
	}
	// Lanes for tasks: stable per task, never one a voucher already uses.
	l1, err := p.Lane(id, "agent-x")
	if err != nil || l1 != 1 {
		t.Fatalf("first task lane %d %v", l1, err)
	}
	l2, _ := p.Lane(id, "agent-y")
	again, _ := p.Lane(id, "agent-x")
	if l2 != 2 || again != 1 {
		t.Fatalf("lanes %d %d", l2, again)
	}
	if _, err := p.Lane(id, ""); err == nil {
		t.Fatal("an empty task label")
	}
	w, err := p.Pay(id, "agent-y", types.MYC(2))
	if err != nil || w.Lane != 2 || w.Nonce != 1 || w.Amount != types.MYC(2) {
		t.Fatalf("pay %+v %v", w, err)
	}
	if got := p.Promised(id); got != types.MYC(6) {
		t.Fatalf("promised %s", got)
	}

	for _, tc := range []struct {
		name string
		req  paywallet.VoucherRequest
		err  error
	}{
		{"over the deposit across lanes", paywallet.VoucherRequest{Channel: id, Lane: 1, Amount: types.MYC(5)}, paywallet.ErrOverDeposit},
		{"over the deposit on a lane", paywallet.VoucherRequest{Channel: id, Add: types.MYC(5)}, paywallet.ErrOverDeposit},
		{"a lower amount", paywallet.VoucherRequest{Channel: id, Amount: types.MYC(3)}, paywallet.ErrLowerAmount},
		{"a nonce used", paywallet.VoucherRequest{Channel: id, Nonce: 3, Amount: types.MYC(5)}, paywallet.ErrNonceReused},
		{"both amounts", paywallet.VoucherRequest{Channel: id, Amount: 5, Add: 1}, paywallet.ErrNothingToPay},
		{"no amount", paywallet.VoucherRequest{Channel: id}, paywallet.ErrNothingToPay},
		{"an overflow", paywallet.VoucherRequest{Channel: id, Add: types.MaxAmount}, paych.ErrOverflow},
	} {
		if _, err := p.Make(tc.req); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	// Unchecked, for tests of the chain (on a second channel): the
	// voucher is made, and a lower nonce is not kept as the lane's last.
	id2 := chain.open(t, "alice", types.MYC(1))
	if err := p.Track(*chain.channel(id2)); err != nil {
		t.Fatal(err)
	}
	greedy, err := p.Make(paywallet.VoucherRequest{Channel: id2, Amount: types.MYC(50), Unchecked: true})
	if err != nil || greedy.Nonce != 1 {
		t.Fatalf("unchecked %+v %v", greedy, err)
	}
	old, err := p.Make(paywallet.VoucherRequest{Channel: id2, Nonce: 1, Amount: types.MYC(1), Unchecked: true})
	if err != nil || old.Nonce != 1 || old.Amount != types.MYC(1) {
		t.Fatalf("unchecked old nonce %+v %v", old, err)
	}
	if last, _ := p.Last(id2, 0); last != greedy {
		t.Fatalf("last of lane 0 %+v", last)
	}
	last0, _ := p.Last(id, 0)

	// Reopened (after a crash: the first wallet was never closed), the
	// wallet goes on where it was.
	q := openPayer(t, dir)
	if last, _ := q.Last(id, 0); last != last0 {
		t.Fatalf("reopened: last %+v, want %+v", last, last0)
	}
	if last, _ := q.Last(id2, 0); last != greedy {
		t.Fatalf("reopened: last %+v, want %+v", last, greedy)
	}
	if l, _ := q.Lane(id, "agent-y"); l != 2 {
		t.Fatalf("reopened: agent-y's lane %d", l)
	}
	if c, ok := q.Channel(id); !ok || c.Deposit != types.MYC(10) {
		t.Fatalf("reopened: channel %+v", c)
	}
	next, err := q.Make(paywallet.VoucherRequest{Channel: id, Lane: 2, Add: 1})
	if err != nil || next.Nonce != 2 {
		t.Fatalf("reopened: next of lane 2 %+v %v", next, err)
	}
	// A settling channel takes no new vouchers.
	if err := chain.apply(keeper.HandleSettle, "alice", paych.MsgChannel{Channel: id}.Encode()); err != nil {
		t.Fatal(err)
	}
	if err := q.Track(*chain.channel(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Make(paywallet.VoucherRequest{Channel: id, Add: 1}); !errors.Is(err, paych.ErrSettling) {
		t.Fatalf("settling: %v", err)
	}
	// Another key's channel, another chain, another role: refused.
	other := *chain.channel(id)
	other.VoucherKey = paych.KeyOf(voucherKey("carol"))
	if err := q.Track(other); !errors.Is(err, paywallet.ErrWrongKey) {
		t.Fatalf("another key's channel: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := paywallet.OpenPayer(dir, "another-chain", voucherKey("alice")); err == nil {
		t.Fatal("opened for another chain")
	}
	if _, err := paywallet.OpenPayer(dir, chaintest.ChainID, voucherKey("carol")); err == nil {
		t.Fatal("opened with another key")
	}
	if _, err := paywallet.OpenPayee(dir, chaintest.ChainID, chaintest.Addr("bob"), paywallet.PayeeOptions{}); err == nil {
		t.Fatal("a payer's wallet opened as a payee's")
	}
	if _, err := q.Make(paywallet.VoucherRequest{Channel: id, Lane: 5, Add: 1}); err == nil {
		t.Fatal("a closed wallet made a voucher")
	}
}
