package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	examples "github.com/mycelnet/mycel/examples/wasm"
	"github.com/mycelnet/mycel/examples/wasm/kernel"
	executor "github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// WasmOptions size the wasm benchmark.
type WasmOptions struct {
	// N is the matrix size of the kernel (examples/wasm/kernel): an N×N
	// uint32 multiply, then ShaRounds SHA-256 passes over the 4·N² bytes
	// of the product. Default 128.
	N int `json:"n"`
	// Runs is how many timed runs each side makes; the figures are the
	// medians. Default 5.
	Runs int `json:"runs"`
	// Progress, if set, receives a line per phase.
	Progress io.Writer `json:"-"`
}

// WasmResult is the benchmark's outcome. Ratio is native time over metered
// WebAssembly time: higher is better, 1.0 is as fast as native.
type WasmResult struct {
	// Checksum is kernel.Run(N), which both sides must agree on.
	Checksum uint64 `json:"checksum"`
	// WasmSeconds is the median time of one metered run under the
	// executor (wazero's compiler, module already compiled): instantiate,
	// the Go runtime's start-up inside the module, the kernel.
	WasmSeconds float64 `json:"wasm_seconds"`
	// NativeSeconds is the median time of kernel.Run(N) compiled by Go
	// for this machine.
	NativeSeconds float64 `json:"native_seconds"`
	// UnmeteredSeconds is the median time of the same module run by bare
	// wazero (compiler, no instrumentation), to show what metering costs.
	UnmeteredSeconds float64 `json:"unmetered_seconds"`
	// CompileSeconds is the first run's extra time: instrumenting and
	// compiling the module, which the executor then caches.
	CompileSeconds float64 `json:"compile_seconds"`
	// Gas is what one run costs; it is the same on every run and every
	// machine.
	Gas uint64 `json:"gas"`
	// GasPerSecond is the metered throughput: Gas / WasmSeconds.
	GasPerSecond float64 `json:"gas_per_second"`
	// MeteringOverhead is WasmSeconds / UnmeteredSeconds.
	MeteringOverhead float64     `json:"metering_overhead"`
	Ratio            float64     `json:"ratio"`
	Options          WasmOptions `json:"options"`
	Settings         string      `json:"settings"`
}

func (o *WasmOptions) defaults() {
	if o.N <= 0 {
		o.N = 128
	}
	if o.Runs <= 0 {
		o.Runs = 5
	}
}

func (o WasmOptions) say(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// wasmLimits give the kernel room: gas far above what N=4096 would need,
// 1 GiB of memory.
func wasmLimits() executor.Limits {
	return executor.Limits{Gas: 1 << 50, MemoryPages: 16384, MaxOutputBytes: 1 << 10}
}

// Wasm runs the kernel as metered WebAssembly under the provider's
// executor and natively, in the same process, and compares them.
func Wasm(ctx context.Context, o WasmOptions) (WasmResult, error) {
	o.defaults()
	res := WasmResult{Options: o}
	module := examples.Kernel()
	input := []byte(strconv.Itoa(o.N) + "\n")

	o.say("native: kernel.Run(%d) x %d", o.N, o.Runs)
	native := make([]float64, o.Runs)
	for i := range native {
		start := time.Now()
		sum := kernel.Run(o.N)
		native[i] = time.Since(start).Seconds()
		res.Checksum = sum
	}
	res.NativeSeconds = median(native)
	want := strconv.FormatUint(res.Checksum, 10) + "\n"

	e, err := executor.New(ctx, executor.Options{})
	if err != nil {
		return res, fmt.Errorf("bench wasm: %w", err)
	}
	defer e.Close(context.WithoutCancel(ctx))
	o.say("metered: %d bytes of WebAssembly x %d, plus a first run that compiles", len(module), o.Runs)
	var first float64
	metered := make([]float64, o.Runs)
	for i := -1; i < o.Runs; i++ {
		start := time.Now()
		r, err := e.Run(ctx, module, input, wasmLimits())
		took := time.Since(start).Seconds()
		if err != nil {
			return res, fmt.Errorf("bench wasm: run: %w", err)
		}
		if r.Failure != "" || string(r.Output) != want {
			return res, fmt.Errorf("bench wasm: the module printed %q (failure %q, stderr %q), native Go %q",
				r.Output, r.Failure, r.Stderr, want)
		}
		if i >= 0 && r.GasUsed != res.Gas {
			return res, fmt.Errorf("bench wasm: gas %d on run %d, %d before", r.GasUsed, i, res.Gas)
		}
		res.Gas = r.GasUsed
		if i < 0 {
			first = took
			continue
		}
		metered[i] = took
	}
	res.WasmSeconds = median(metered)
	res.CompileSeconds = max(0, first-res.WasmSeconds)

	o.say("unmetered: bare wazero x %d", o.Runs)
	res.UnmeteredSeconds, err = unmetered(ctx, module, input, want, o.Runs)
	if err != nil {
		return res, fmt.Errorf("bench wasm: unmetered: %w", err)
	}

	if res.WasmSeconds > 0 {
		res.Ratio = res.NativeSeconds / res.WasmSeconds
		res.GasPerSecond = float64(res.Gas) / res.WasmSeconds
	}
	if res.UnmeteredSeconds > 0 {
		res.MeteringOverhead = res.WasmSeconds / res.UnmeteredSeconds
	}
	res.Settings = fmt.Sprintf("kernel: %dx%d uint32 matmul + %d SHA-256 passes over %d bytes; "+
		"executor %s on wazero's compiler; medians of %d runs; %s %s/%s GOMAXPROCS=%d",
		o.N, o.N, kernel.ShaRounds, 4*o.N*o.N, executor.Version, o.Runs,
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	return res, nil
}

// unmetered runs the module on bare wazero: the cost of WebAssembly
// itself, without the metering.
func unmetered(ctx context.Context, module, input []byte, want string, runs int) (float64, error) {
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(context.WithoutCancel(ctx))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return 0, err
	}
	compiled, err := rt.CompileModule(ctx, module)
	if err != nil {
		return 0, err
	}
	times := make([]float64, runs)
	for i := range times {
		var out bytes.Buffer
		cfg := wazero.NewModuleConfig().WithName("").WithArgs("job").
			WithStdin(bytes.NewReader(input)).WithStdout(&out)
		start := time.Now()
		mod, err := rt.InstantiateModule(ctx, compiled, cfg)
		times[i] = time.Since(start).Seconds()
		if err != nil {
			return 0, err
		}
		_ = mod.Close(ctx)
		if out.String() != want {
			return 0, errors.New("output " + strings.TrimSpace(out.String()) + ", want " + strings.TrimSpace(want))
		}
	}
	return median(times), nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
