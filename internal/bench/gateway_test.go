package bench

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkGateway runs the gateway benchmark as `mycel bench gateway`
// does.
func BenchmarkGateway(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Gateway(context.Background(), GatewayOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(1000*r.DirectSeconds, "direct-ms")
		b.ReportMetric(1000*r.GatewaySeconds, "gateway-ms")
		b.ReportMetric(100*r.Overhead, "overhead-%")
		b.ReportMetric(r.Ratio, "ratio")
	}
}

// The benchmark's own check: both paths ran and every figure is filled,
// for mycel-kjv and for a generated model the provider serves beside it.
func TestGatewayQuick(t *testing.T) {
	for _, tc := range []struct{ model, name string }{{"", "mycel-kjv"}, {"quick", "bench-quick"}} {
		r, err := Gateway(context.Background(), GatewayOptions{Runs: 2, GenTokens: 4, Model: tc.model})
		if err != nil {
			t.Fatalf("model %q: %v", tc.model, err)
		}
		if r.Model != tc.name || r.Parameters <= 0 || r.DirectSeconds <= 0 || r.GatewaySeconds <= 0 || r.Ratio <= 0 {
			t.Fatalf("model %q: result %+v", tc.model, r)
		}
	}
	if _, err := Gateway(context.Background(), GatewayOptions{Model: "7b"}); err == nil || !strings.Contains(err.Error(), `model "7b"`) {
		t.Fatalf("an unknown model: %v", err)
	}
}
