package app

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// withSettleBlocks sets the payment channels' challenge period of a
// genesis.
func withSettleBlocks(t *testing.T, gen []byte, blocks int64) []byte {
	var g Genesis
	if err := json.Unmarshal(gen, &g); err != nil {
		t.Fatal(err)
	}
	g.Paych.SettleBlocks = blocks
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func paychMsg(kind uint16, body []byte) tx.Msg { return tx.Msg{Kind: kind, Body: body} }

// A channel through the application: alice opens one to bob and pays
// its fee; a voucher redeemed in a block pays bob at once; hostile
// vouchers are refused by CheckTx, so they cost nothing and move nothing;
// a transfer into the escrow account is refused; settle and collect close
// the channel with the rest back to alice; every invariant, the
// channels' included, holds after every block.
func TestPaymentChannel(t *testing.T) {
	w := newWorld(3, 1)
	n := newNode(t, withSettleBlocks(t, w.genesis(t), 3))
	alice, bob, carol := w.users[0], w.users[1], w.users[2]
	vk := key("alice's voucher key")

	open := paychMsg(paych.KindOpen, paych.MsgOpen{Payee: addr(bob), VoucherKey: paych.KeyOf(vk), Amount: types.MYC(10)}.Encode())
	r := n.block([][]byte{w.sign(alice, open)}).TxResults[0]
	if r.Code != 0 {
		t.Fatalf("open: %s", r.Log)
	}
	if len(r.Events) == 0 || r.Events[len(r.Events)-1].Type != "channel_opened" || r.Events[len(r.Events)-1].Attributes[0].Value != "1" {
		t.Fatalf("events %v", r.Events)
	}
	if got := n.balance(addr(alice)); got != types.MYC(1000-10-1) {
		t.Fatalf("alice has %s after a 10myc deposit and a 1myc fee", got)
	}
	if got := n.balance(paych.Escrow); got != types.MYC(10) {
		t.Fatalf("escrow holds %s", got)
	}
	c, ok := n.app.Channel(1)
	if !ok || c.Payer != addr(alice) || c.Payee != addr(bob) || c.VoucherKey != paych.KeyOf(vk) || c.Deposit != types.MYC(10) {
		t.Fatalf("channel %+v", c)
	}

	voucher := func(lane, nonce uint64, amt types.Amount) paych.Voucher {
		v := paych.Voucher{Channel: 1, Lane: lane, Nonce: nonce, Amount: amt}
		v.Sign(testChain, vk)
		return v
	}
	redeem := func(v paych.Voucher) tx.Msg { return paychMsg(paych.KindRedeem, paych.MsgRedeem{Voucher: v}.Encode()) }
	good := voucher(0, 2, types.MYC(4))
	replayed := good
	replayed.Lane = 1
	foreign := paych.Voucher{Channel: 1, Nonce: 9, Amount: types.MYC(1)}
	foreign.Sign("another-chain", vk)
	for _, tc := range []struct {
		name  string
		who   ed25519.PrivateKey
		msg   tx.Msg
		space string
		code  uint32
	}{
		{"above the deposit", bob, redeem(voucher(0, 1, types.MYC(11))), paych.Codespace, paych.ErrExceedsDeposit.Code},
		{"replayed on another lane", bob, redeem(replayed), paych.Codespace, paych.ErrBadSignature.Code},
		{"signed for another chain", bob, redeem(foreign), paych.Codespace, paych.ErrBadSignature.Code},
		{"redeemed by the payer", alice, redeem(good), paych.Codespace, paych.ErrNotPayee.Code},
		{"a transfer into escrow", carol, send(paych.Escrow, 1), bank.Codespace, bank.ErrBlockedRecipient.Code},
	} {
		// Each with the account's next sequence: CheckTx keeps nothing of
		// a refused transaction.
		seq := w.seq[addr(tc.who)]
		cr, err := n.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: w.sign(tc.who, tc.msg)})
		w.seq[addr(tc.who)] = seq
		if err != nil || cr.Code != tc.code || cr.Codespace != tc.space {
			t.Errorf("%s: %v %s/%d %s", tc.name, err, cr.Codespace, cr.Code, cr.Log)
		}
	}

	bobBefore := n.balance(addr(bob))
	r = n.block([][]byte{w.sign(bob, redeem(good))}).TxResults[0]
	if r.Code != 0 {
		t.Fatalf("redeem: %s", r.Log)
	}
	if got := n.balance(addr(bob)); got != bobBefore+types.MYC(4)-types.MYC(1) {
		t.Fatalf("bob has %s, want %s + 4myc − the 1myc fee", got, bobBefore)
	}
	// The same voucher again, in a block: it fails with its code and only
	// the fee is paid.
	r = n.block([][]byte{w.sign(bob, redeem(good))}).TxResults[0]
	if r.Code != paych.ErrStaleNonce.Code || r.Codespace != paych.Codespace || !strings.Contains(r.Log, "lane 0 of channel 1 is at nonce 2") {
		t.Fatalf("replay: %s/%d %s", r.Codespace, r.Code, r.Log)
	}
	if got := n.balance(paych.Escrow); got != types.MYC(6) {
		t.Fatalf("escrow holds %s after the replay", got)
	}

	settle := paychMsg(paych.KindSettle, paych.MsgChannel{Channel: 1}.Encode())
	collect := paychMsg(paych.KindCollect, paych.MsgChannel{Channel: 1}.Encode())
	r = n.block([][]byte{w.sign(alice, settle)}).TxResults[0]
	if r.Code != 0 {
		t.Fatalf("settle: %s", r.Log)
	}
	c, _ = n.app.Channel(1)
	if c.State() != paych.StateSettling || c.SettlingAt != n.height+3 {
		t.Fatalf("after settle at height %d: %+v", n.height, c)
	}
	// During the challenge period bob redeems a better voucher.
	if r := n.block([][]byte{w.sign(bob, redeem(voucher(0, 3, types.MYC(5))))}).TxResults[0]; r.Code != 0 {
		t.Fatalf("redeem while settling: %s", r.Log)
	}
	if r := n.block([][]byte{w.sign(alice, collect)}).TxResults[0]; r.Code != paych.ErrNotSettled.Code {
		t.Fatalf("an early collect: %d %s", r.Code, r.Log)
	}
	n.block(nil)
	aliceBefore := n.balance(addr(alice))
	if r := n.block([][]byte{w.sign(alice, collect)}).TxResults[0]; r.Code != 0 {
		t.Fatalf("collect: %s", r.Log)
	}
	if got := n.balance(addr(alice)); got != aliceBefore+types.MYC(5)-types.MYC(1) {
		t.Fatalf("alice has %s, want %s + the 5myc left − the fee", got, aliceBefore)
	}
	if got := n.balance(paych.Escrow); got != 0 {
		t.Fatalf("escrow holds %s after collect", got)
	}
	c, _ = n.app.Channel(1)
	if c.State() != paych.StateClosed || c.Paid != types.MYC(5) || c.Refunded != types.MYC(5) {
		t.Fatalf("closed channel %+v", c)
	}
	if r := n.block([][]byte{w.sign(bob, redeem(voucher(0, 4, types.MYC(6))))}).TxResults[0]; r.Code != paych.ErrClosed.Code {
		t.Fatalf("a redeem after collect: %d %s", r.Code, r.Log)
	}

	// Listing, decoding and the fee schedule.
	bobAddr := addr(bob)
	if cs := n.app.Channels(paych.Filter{Payee: &bobAddr}); len(cs) != 1 || cs[0].ID != 1 {
		t.Fatalf("bob's channels: %v", cs)
	}
	if cs := n.app.Channels(paych.Filter{Payer: &bobAddr}); len(cs) != 0 {
		t.Fatalf("bob pays from %v", cs)
	}
	v, err := n.app.DescribeTx(w.sign(bob, redeem(good)))
	if err != nil || v.Msgs[0].Kind != "paych/redeem" || !strings.Contains(string(v.Msgs[0].Body), `"nonce":"2"`) {
		t.Fatalf("describe: %v %+v", err, v)
	}
	p := auth.GetParams(n.db.State())
	for kind, want := range map[uint16]types.Amount{paych.KindOpen: 5000, paych.KindTopUp: 1000, paych.KindRedeem: 2000,
		paych.KindSettle: 1000, paych.KindCollect: 1000} {
		if need, err := p.RequiredFee([]uint16{kind}, 0); err != nil || need != want {
			t.Errorf("fee of %#x: %s %v, want %s", kind, need, err, want)
		}
	}
	if got := n.app.Params().Paych.SettleBlocks; got != 3 {
		t.Fatalf("params show a challenge period of %d", got)
	}
}

// A genesis without the payment channels' rules gets the defaults.
func TestPaychGenesisDefaults(t *testing.T) {
	w := newWorld(1, 1)
	var g map[string]json.RawMessage
	if err := json.Unmarshal(w.genesis(t), &g); err != nil {
		t.Fatal(err)
	}
	delete(g, "paych")
	b, _ := json.Marshal(g)
	n := newNode(t, b)
	if got := n.app.PaychParams(); got != paych.DefaultParams() {
		t.Fatalf("params %+v", got)
	}
}

// Two applications fed the same random history of opens, top-ups,
// redeems (good, stale, forged and greedy vouchers), settles and collects
// agree on every app hash, with every invariant, the channels' included,
// checked after every block.
func TestPaychDeterminism(t *testing.T) {
	w := newWorld(4, 1)
	gen := withSettleBlocks(t, w.genesis(t), 4)
	a, b := newNode(t, gen), newNode(t, gen)
	rng := rand.New(rand.NewPCG(11, 11))
	vk := func(u ed25519.PrivateKey) ed25519.PrivateKey { return key(fmt.Sprint("vk", addr(u))) }
	nonces := map[[2]uint64]uint64{}
	var ok, failed int
	for blk := 0; blk < 80; blk++ {
		var txs [][]byte
		channels := a.app.Channels(paych.Filter{Limit: 1000})
		for i, n := 0, rng.IntN(6); i < n; i++ {
			u := w.users[rng.IntN(len(w.users))]
			var m tx.Msg
			switch op := rng.IntN(10); {
			case op < 2 || len(channels) == 0:
				to := w.users[rng.IntN(len(w.users))]
				m = paychMsg(paych.KindOpen, paych.MsgOpen{Payee: addr(to), VoucherKey: paych.KeyOf(vk(u)), Amount: types.Amount(rng.Uint64N(5_000_000))}.Encode())
			case op < 3:
				m = paychMsg(paych.KindTopUp, paych.MsgTopUp{Channel: channels[rng.IntN(len(channels))].ID, Amount: types.Amount(rng.Uint64N(1_000_000))}.Encode())
			case op < 8:
				c := channels[rng.IntN(len(channels))]
				lane := uint64(rng.IntN(3))
				k := [2]uint64{c.ID, lane}
				nonces[k] += uint64(rng.IntN(2))
				v := paych.Voucher{Channel: c.ID, Lane: lane, Nonce: nonces[k], Amount: types.Amount(rng.Uint64N(uint64(c.Deposit) + 2))}
				signer := u
				for _, p := range w.users {
					if addr(p) == c.Payer && rng.IntN(8) != 0 {
						signer = p
					}
				}
				v.Sign(testChain, vk(signer))
				for _, p := range w.users {
					if addr(p) == c.Payee && rng.IntN(6) != 0 {
						u = p
					}
				}
				m = paychMsg(paych.KindRedeem, paych.MsgRedeem{Voucher: v}.Encode())
			case op < 9:
				m = paychMsg(paych.KindSettle, paych.MsgChannel{Channel: channels[rng.IntN(len(channels))].ID}.Encode())
			default:
				m = paychMsg(paych.KindCollect, paych.MsgChannel{Channel: channels[rng.IntN(len(channels))].ID}.Encode())
			}
			txs = append(txs, w.sign(u, m))
		}
		ra, rb := a.block(txs), b.block(txs)
		if string(ra.AppHash) != string(rb.AppHash) {
			t.Fatalf("block %d: app hashes differ", blk+1)
		}
		for _, r := range ra.TxResults {
			if r.Code == 0 {
				ok++
			} else {
				failed++
			}
		}
	}
	t.Logf("%d transactions succeeded, %d failed", ok, failed)
	if ok < 60 || failed < 30 {
		t.Fatalf("the history is too tame: %d succeeded, %d failed", ok, failed)
	}
	closed := 0
	for _, c := range a.app.Channels(paych.Filter{Limit: 1000}) {
		if c.State() == paych.StateClosed {
			closed++
		}
	}
	if closed == 0 {
		t.Fatal("no channel was collected")
	}
}
