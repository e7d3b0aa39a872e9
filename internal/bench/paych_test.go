package bench

import (
	"context"
	"testing"
)

// BenchmarkPaych runs the payment channel benchmark as `mycel bench
// paych` does.
func BenchmarkPaych(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Paych(context.Background(), PaychOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.VouchersPerSecond, "vouchers/s")
		b.ReportMetric(r.Ed25519PerSecond, "ed25519/s")
		b.ReportMetric(r.AcceptsPerSecond, "accepts/s")
		b.ReportMetric(100*r.Overhead, "paid-overhead-%")
		b.ReportMetric(r.Ratio, "ratio")
	}
}

// The benchmark's own check: every part ran and every figure is filled.
func TestPaychQuick(t *testing.T) {
	r, err := Paych(context.Background(), PaychOptions{Vouchers: 50, Rounds: 2, Accepts: 16, Requests: 2, GenTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.VouchersPerSecond <= 0 || r.Ed25519PerSecond <= 0 || r.Ratio <= 0 || r.AcceptsPerSecond <= 0 || r.GroupSyncs <= 0 ||
		r.UnpaidSeconds <= 0 || r.PaidSeconds <= 0 || r.RedeemFee == 0 || r.RedeemBytes == 0 || r.VoucherBytes == 0 {
		t.Fatalf("result %+v", r)
	}
}
