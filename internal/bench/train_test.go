package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkTrain runs the training benchmark at full size, as `mycel
// bench train` does.
func BenchmarkTrain(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Train(context.Background(), TrainOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.TokensPerSec, "tok/s")
		b.ReportMetric(r.GFLOPS, "GFLOP/s")
		b.ReportMetric(r.OpenBLASGFLOPS, "openblas-GFLOP/s")
		b.ReportMetric(r.Ratio, "ratio")
	}
}

// The benchmark's own check on a tiny model: every figure is filled in,
// the baseline ran, and the JSON carries them.
func TestTrainQuick(t *testing.T) {
	needNumpy(t)
	r, err := Train(context.Background(), TrainOptions{Quick: true, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.BaselineError != "" {
		t.Fatal(r.BaselineError)
	}
	if r.TokensPerSec <= 0 || r.GFLOPS <= 0 || r.OpenBLASGFLOPS <= 0 || r.Ratio <= 0 || r.Parameters <= 0 {
		t.Fatalf("result %+v", r)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"tokens_per_second":`, `"gflops":`, `"openblas_gflops":`, `"ratio":`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("JSON lacks %s: %s", field, out)
		}
	}
}
