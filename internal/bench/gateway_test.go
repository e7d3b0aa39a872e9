package bench

import (
	"context"
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

// The benchmark's own check: both paths ran and every figure is filled.
func TestGatewayQuick(t *testing.T) {
	r, err := Gateway(context.Background(), GatewayOptions{Runs: 2, GenTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.DirectSeconds <= 0 || r.GatewaySeconds <= 0 || r.Ratio <= 0 {
		t.Fatalf("result %+v", r)
	}
}
