package bench

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/internal/crosstest"
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
	if _, err := exec.Command("/usr/bin/python3", "-c", "import numpy").CombinedOutput(); err != nil {
		crosstest.NeedTool(t, "/usr/bin/python3 with numpy is not installed (apt-get install -y python3-numpy)")
	}
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
