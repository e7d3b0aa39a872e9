package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// benchmarkGas is the work the benchmark meters: enough to take a
// noticeable fraction of a second on a fast core.
const benchmarkGas = 2_000_000_000

// Benchmark measures the executor's speed on a kernel module, in compute
// units (million metered instructions) per second. The kernel must run
// out of gas or finish; either way its metered gas over the time it took
// is the score.
func Benchmark(ctx context.Context, ex Executor, kernel []byte, input []byte) (uint64, error) {
	// One warm-up run compiles the module.
	if _, err := ex.Run(ctx, kernel, input, Limits{Gas: 1_000_000, MemoryBytes: 64 << 20, MaxOutputBytes: 1 << 20, Timeout: time.Minute}); err != nil {
		return 0, err
	}
	start := time.Now()
	out, err := ex.Run(ctx, kernel, input, Limits{Gas: benchmarkGas, MemoryBytes: 64 << 20, MaxOutputBytes: 1 << 20, Timeout: time.Minute})
	if err != nil {
		return 0, err
	}
	took := time.Since(start)
	if out.GasUsed == 0 || took <= 0 {
		return 0, fmt.Errorf("benchmark kernel used no gas (%s)", out.Failure)
	}
	score := uint64(float64(out.GasUsed) / took.Seconds() / 1e6)
	return max(score, 1), nil
}

// scoreFile is a measured score kept for the next start.
type scoreFile struct {
	Executor string `json:"executor"`
	CPU      string `json:"cpu"`
	Cores    uint32 `json:"cores"`
	Score    uint64 `json:"score"`
}

// CachedBenchmark returns the score measured before on this machine with
// this executor version, kept in path, or measures it and keeps it.
func CachedBenchmark(ctx context.Context, ex Executor, kernel, input []byte, profile compute.Profile, path string) (uint64, error) {
	want := scoreFile{Executor: wasm.Version, CPU: profile.CPUModel, Cores: profile.Cores}
	if b, err := os.ReadFile(path); err == nil {
		var got scoreFile
		if json.Unmarshal(b, &got) == nil && got.Score > 0 {
			want.Score = got.Score
			if got == want {
				return got.Score, nil
			}
		}
	}
	score, err := Benchmark(ctx, ex, kernel, input)
	if err != nil {
		return 0, err
	}
	want.Score = score
	if b, err := json.Marshal(want); err == nil {
		if os.MkdirAll(filepath.Dir(path), 0o700) == nil {
			_ = os.WriteFile(path, b, 0o600) // a cache: losing it only costs a measurement
		}
	}
	return score, nil
}
