package bench

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/internal/crosstest"
)

// BenchmarkRuntime runs the runtime benchmark at full size, as `mycel
// bench runtime` does.
func BenchmarkRuntime(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Runtime(context.Background(), RuntimeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.PromptPerSec, "prompt-tok/s")
		b.ReportMetric(r.GenPerSec, "gen-tok/s")
		b.ReportMetric(r.Kernels[0].GFLOPS, "sgemm-GFLOP/s")
		b.ReportMetric(r.Kernels[0].OpenBLAS, "openblas-GFLOP/s")
		b.ReportMetric(r.Ratio, "ratio")
		b.ReportMetric(r.MatVecRatio, "matvec-ratio")
	}
}

// The benchmark's own check, on a tiny model and small shapes: every
// figure is filled in, the baseline ran, and the JSON has the ratio.
func TestRuntimeQuick(t *testing.T) {
	needNumpy(t)
	r, err := Runtime(context.Background(), RuntimeOptions{Quick: true, PromptTokens: 8, GenTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.BaselineError != "" {
		t.Fatal(r.BaselineError)
	}
	if r.PromptPerSec <= 0 || r.GenPerSec <= 0 || r.Parameters <= 0 || len(r.Kernels) != 2 || r.Ratio <= 0 || r.MatVecRatio <= 0 {
		t.Fatalf("result %+v", r)
	}
	for _, k := range r.Kernels {
		if k.GFLOPS <= 0 || k.OpenBLAS <= 0 {
			t.Errorf("kernel %+v", k)
		}
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"ratio":`, `"matvec_ratio":`, `"prompt_tokens_per_second":`, `"openblas_gflops":`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("JSON lacks %s: %s", field, out)
		}
	}
}

// needNumpy skips (or, under MYCEL_REQUIRE_TOOLS, fails) a test of a
// benchmark whose baseline is numpy's OpenBLAS, where numpy is missing.
func needNumpy(t *testing.T) {
	t.Helper()
	if _, err := exec.Command("/usr/bin/python3", "-c", "import numpy").CombinedOutput(); err != nil {
		crosstest.NeedTool(t, "/usr/bin/python3 with numpy is not installed (apt-get install -y python3-numpy)")
	}
}
