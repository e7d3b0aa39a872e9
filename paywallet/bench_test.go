package paywallet_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// benchPayee holds a channel of alice's with an unbounded deposit.
func benchPayee(b *testing.B) (*paywallet.Payee, []paych.Voucher) {
	p := openPayee(b, b.TempDir())
	b.Cleanup(func() { p.Close() })
	c := paych.Channel{ID: 1, Payer: chaintest.Addr("alice"), Payee: chaintest.Addr("bob"),
		VoucherKey: paych.KeyOf(voucherKey("alice")), Deposit: types.MaxAmount}
	if err := p.Track(c); err != nil {
		b.Fatal(err)
	}
	vs := make([]paych.Voucher, 1024)
	for i := range vs {
		vs[i] = signedBy("alice", paych.Voucher{Channel: 1, Lane: uint64(i % 8), Nonce: uint64(i + 1), Amount: types.Amount(i + 1)})
	}
	return p, vs
}

// BenchmarkCheck: a voucher checked offline, signature and lane rules.
func BenchmarkCheck(b *testing.B) {
	p, vs := benchPayee(b)
	i := 0
	for b.Loop() {
		if _, err := p.Check(vs[i%len(vs)], 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEd25519 is the baseline: the raw ZIP 215 verification of the
// same signed bytes.
func BenchmarkEd25519(b *testing.B) {
	_, vs := benchPayee(b)
	pub := voucherKey("alice").Public().(ed25519.PublicKey)
	msgs := make([][]byte, len(vs))
	for i := range vs {
		msgs[i] = vs[i].SignBytes(chaintest.ChainID)
	}
	i := 0
	for b.Loop() {
		v := &vs[i%len(vs)]
		if !types.VerifySignature(pub, msgs[i%len(vs)], v.Signature[:]) {
			b.Fatal("bad signature")
		}
		i++
	}
}

// BenchmarkAccept: a voucher checked and kept durably, one at a time
// (one fsync each).
func BenchmarkAccept(b *testing.B) {
	p, _ := benchPayee(b)
	n := uint64(0)
	for b.Loop() {
		n++
		if _, err := p.Accept(signedBy("alice", paych.Voucher{Channel: 1, Lane: 99, Nonce: n, Amount: types.Amount(n)}), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMake: the payer's next voucher of a lane, durable before it
// is returned (an fsync each) and deferred (written after, its nonce
// reserved once per 256).
func BenchmarkMake(b *testing.B) {
	for _, deferred := range []bool{false, true} {
		name := "durable"
		if deferred {
			name = "deferred"
		}
		b.Run(name, func(b *testing.B) {
			p := openPayer(b, b.TempDir())
			b.Cleanup(func() { p.Close() })
			if err := p.Track(payerChannel(types.MaxAmount)); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := p.Make(paywallet.VoucherRequest{Channel: 1, Add: 1, Deferred: deferred}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
