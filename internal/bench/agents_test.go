package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkAgents runs the agents benchmark as `mycel bench agents` does
// and reports each query kind's times, the index build and the calls.
func BenchmarkAgents(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Agents(context.Background(), AgentsOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.BuildSeconds, "build-s")
		for _, q := range r.Queries {
			b.ReportMetric(1e6*q.IndexSeconds, q.Kind+"-index-µs")
			b.ReportMetric(1e3*q.ScanSeconds, q.Kind+"-scan-ms")
		}
		if m := r.Messaging; m != nil {
			b.ReportMetric(1e3*m.RawSeconds, "raw-post-ms")
			b.ReportMetric(1e3*m.DirectSeconds, "direct-ms")
			b.ReportMetric(1e3*m.MailboxSeconds, "mailbox-ms")
		}
		b.ReportMetric(r.Ratio, "ratio")
	}
}

// The benchmark's own check on a small run: the index and the scan gave
// the same agents for every query (Agents fails otherwise), every figure
// is filled and the JSON carries them.
func TestAgentsQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet")
	}
	r, err := Agents(context.Background(), AgentsOptions{Agents: 7000, Queries: 6, Reps: 3, Calls: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Blocks != 2 || r.RegisterSeconds <= 0 || r.BuildSeconds <= 0 || len(r.Queries) != 3 || r.Ratio <= 0 {
		t.Fatalf("result %+v", r)
	}
	for _, q := range r.Queries {
		if q.Matched <= 0 || q.IndexSeconds <= 0 || q.ScanSeconds <= 0 || len(q.Queries) != 6 {
			t.Errorf("%s: %+v", q.Kind, q)
		}
	}
	if m := r.Messaging; m == nil || m.RawSeconds <= 0 || m.DirectSeconds <= 0 || m.MailboxSeconds <= 0 || m.RequestBytes <= 256 || m.AnswerBytes <= 256 {
		t.Fatalf("messaging %+v", m)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"ratio":`, `"build_seconds":`, `"index_seconds":`, `"scan_seconds":`, `"direct_seconds":`, `"mailbox_seconds":`, `"raw_http_seconds":`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("JSON lacks %s", field)
		}
	}
}
