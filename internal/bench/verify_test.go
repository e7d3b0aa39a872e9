package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkVerify runs the verification benchmark as `mycel bench
// verify` does and reports each mode's figures.
func BenchmarkVerify(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Verify(context.Background(), VerifyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range []string{"redundant", "optimistic"} {
			rep := r.Modes[m]
			b.ReportMetric(rep.Overhead, m+"-overhead")
			b.ReportMetric(rep.BlocksToFinal, m+"-blocks")
			b.ReportMetric(rep.DetectionRate, m+"-detection")
			b.ReportMetric(float64(rep.HonestSlashed), m+"-honest-slashed")
		}
		b.ReportMetric(r.Ratio, "ratio")
	}
}

// The benchmark's own check on a small run: both modes ran, caught
// lies, slashed no honest provider, and the JSON carries the figures.
func TestVerifyQuick(t *testing.T) {
	r, err := Verify(context.Background(), VerifyOptions{Jobs: 200, Honest: 12})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"redundant", "optimistic"} {
		rep := r.Modes[m]
		if rep == nil || rep.Jobs != 200 || rep.Lies == 0 || rep.Caught == 0 || rep.Overhead <= 0 || rep.BlocksToFinal <= 0 || rep.ExpectedDetectionRate <= 0 {
			t.Fatalf("%s: %+v", m, rep)
		}
		if rep.HonestSlashed != 0 || rep.HonestFaults != 0 {
			t.Errorf("%s: honest providers slashed %d times", m, rep.HonestSlashed)
		}
	}
	if r.Ratio <= 0 {
		t.Errorf("ratio %g", r.Ratio)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"ratio":`, `"redundant":`, `"optimistic":`, `"overhead":`, `"blocks_to_final":`, `"detection_rate":`, `"expected_detection_rate":`, `"honest_slashed":`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("JSON lacks %s", field)
		}
	}
}
