package bench

import (
	"context"
	"testing"
)

// BenchmarkLedger runs the ledger benchmark at a small size; `mycel bench
// ledger` runs it at full size. It reports both sides and their ratio.
func BenchmarkLedger(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Ledger(context.Background(), LedgerOptions{Txs: 4000, Accounts: 100})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.Mycel.PerSecond, "mycel-tx/s")
		b.ReportMetric(r.KVStore.PerSecond, "kvstore-tx/s")
		b.ReportMetric(r.Ratio, "ratio")
	}
}

// The benchmark's own check: every transfer it counts really happened.
func TestLedgerSmall(t *testing.T) {
	r, err := Ledger(context.Background(), LedgerOptions{Txs: 600, Accounts: 30})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mycel.Txs != 600 || r.KVStore.Txs != 600 || r.Ratio <= 0 {
		t.Fatalf("result %+v", r)
	}
}
