package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkWasm runs the wasm benchmark at full size, as `mycel bench
// wasm` does, and reports both sides and their ratio.
func BenchmarkWasm(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Wasm(context.Background(), WasmOptions{N: 128, Runs: 5})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.WasmSeconds*1e3, "wasm-ms")
		b.ReportMetric(r.NativeSeconds*1e3, "native-ms")
		b.ReportMetric(r.UnmeteredSeconds*1e3, "unmetered-ms")
		b.ReportMetric(float64(r.Gas), "gas")
		b.ReportMetric(r.GasPerSecond/1e6, "Mgas/s")
		b.ReportMetric(r.Ratio, "ratio")
	}
}

// The benchmark's own check, at a small size: both sides agree, and the
// figures are filled in and marshal.
func TestWasmSmall(t *testing.T) {
	r, err := Wasm(context.Background(), WasmOptions{N: 16, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Checksum == 0 || r.Gas == 0 || r.Ratio <= 0 || r.GasPerSecond <= 0 || r.MeteringOverhead <= 0 {
		t.Fatalf("result %+v", r)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"ratio":`, `"settings":"kernel: 16x16`, `"gas":`, `"gas_per_second":`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("JSON lacks %s: %s", field, out)
		}
	}
}
