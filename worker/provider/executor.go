package provider

import (
	"context"
	"time"

	"github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// Limits bound one run.
type Limits struct {
	Gas            uint64
	MemoryBytes    uint64
	MaxOutputBytes uint64
	Timeout        time.Duration
}

// Outcome is what a run produced. A job that failed on its own (out of
// gas, a trap, a bad module) has a Failure; the provider is still paid for
// its metered gas.
type Outcome struct {
	Output  []byte
	Stderr  []byte
	GasUsed uint64
	Failure string
}

// Executor runs one kind of job. Run returns an error only when the
// executor itself failed; the job's own failures are in the Outcome.
type Executor interface {
	Run(ctx context.Context, program, input []byte, lim Limits) (Outcome, error)
}

// WasmExecutor runs WebAssembly jobs with deterministic metering.
type WasmExecutor struct{ E *wasm.Executor }

var _ Executor = WasmExecutor{}

// Run implements Executor.
func (w WasmExecutor) Run(ctx context.Context, program, input []byte, lim Limits) (Outcome, error) {
	pages := lim.MemoryBytes / 65536
	if pages == 0 || pages > wasm.MaxMemoryPages {
		pages = wasm.MaxMemoryPages
	}
	r, err := w.E.Run(ctx, program, input, wasm.Limits{
		Gas: lim.Gas, MemoryPages: uint32(pages), MaxOutputBytes: int64(lim.MaxOutputBytes), Timeout: lim.Timeout,
	})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Output: r.Output, Stderr: r.Stderr, GasUsed: r.GasUsed, Failure: r.Failure}, nil
}
