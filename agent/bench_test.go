package agent

import (
	"testing"
)

// Messages a second between two agents, each a signed, sealed request and
// its signed, sealed answer, over loopback HTTP through the real API
// handler: straight to the callee's own host, and through a node's
// mailbox (the callee long-polling it). Run with go test ./agent -bench .
func BenchmarkCallDirect(b *testing.B) { benchCall(b, 1) }

func BenchmarkCallMailbox(b *testing.B) { benchCall(b, 2) }

func benchCall(b *testing.B, to uint64) {
	w := newWorld(b)
	b.ReportAllocs()
	// Callers wait on the network most of the time: sixteen in flight.
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ans, err := w.user.Call(w.ctx, to, Call{Text: "ping"})
			if err != nil || ans.Err() != nil {
				b.Errorf("%v %v", err, ans)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
