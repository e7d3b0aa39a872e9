package wasm

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// Limits bound one run.
type Limits struct {
	Gas            uint64        // metered instruction budget
	MemoryPages    uint32        // max linear memory, 64 KiB pages
	MaxOutputBytes int64         // stdout cap
	Timeout        time.Duration // wall-clock safety net only; metering is what bounds work
}

// Result of a run. Job failures are results, not errors.
type Result struct {
	Output   []byte // stdout (up to MaxOutputBytes)
	Stderr   []byte // first 4 KiB of stderr, for the client to read
	GasUsed  uint64 // deterministic: identical on every machine for the same module, input and limits, on success and on failure
	ExitCode uint32
	Failure  string // "" on success; otherwise a stable reason, one of the Failure* constants, optionally followed by ": detail"
}

// Failure reasons. Each is stable: the same module, input and limits give
// the same reason and detail everywhere, except FailureTimeout.
const (
	FailureInvalidModule  = "invalid_module"   // not WebAssembly, or cannot be instrumented/compiled/instantiated
	FailureOutOfGas       = "out_of_gas"       // GasUsed == Limits.Gas
	FailureMemoryLimit    = "memory_limit"     // the module asked for more memory than MemoryPages (at instantiation or via memory.grow)
	FailureOutputTooLarge = "output_too_large" // stdout passed MaxOutputBytes; Output holds the first MaxOutputBytes
	FailureTrap           = "trap"             // unreachable, division by zero, out-of-bounds, ...
	FailureExit           = "exit_code"        // proc_exit with non-zero code, e.g. "exit_code: 2"
	FailureTimeout        = "timeout"          // the wall-clock safety net fired (non-deterministic: callers treat it as the provider's problem)
)

// MaxMemoryPages is the most memory a run may have: 4 GiB, all a 32-bit
// memory can address.
const MaxMemoryPages = 65536

// maxCachedModules bounds the compiled modules an Executor keeps; a
// compiled Go program takes tens of megabytes.
const maxCachedModules = 16

// Options configure an Executor.
type Options struct {
	// Interpreter selects wazero's interpreter; false selects its
	// compiler where the platform supports it (amd64 and arm64), and the
	// interpreter elsewhere. Both give identical Results.
	Interpreter bool
}

// Executor runs modules. It is safe for concurrent Run calls and caches
// compiled modules by the sha256 of their original bytes.
type Executor struct {
	rt wazero.Runtime

	mu      sync.Mutex
	closed  bool
	modules map[[32]byte]*compiled
	lru     *list.List // of *compiled, most recently used first
}

var _ interface {
	Run(context.Context, []byte, []byte, Limits) (Result, error)
} = (*Executor)(nil)

// compiled is a cache entry: the instrumented module compiled once, or
// the reason it cannot be.
type compiled struct {
	key   [32]byte
	ready chan struct{} // closed once the fields below are set

	module  wazero.CompiledModule
	info    moduleInfo
	invalid string // non-empty: why the module is refused

	// Guarded by Executor.mu.
	refs    int
	elem    *list.Element
	evicted bool
}

// New starts an executor with its own wazero runtime and WASI host module.
func New(ctx context.Context, o Options) (*Executor, error) {
	cfg := wazero.NewRuntimeConfig()
	if o.Interpreter {
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	cfg = cfg.
		// SIMD is off: its float lanes would need NaN canonicalisation
		// too, and the instrumentation refuses v128 anyway.
		WithCoreFeatures(api.CoreFeaturesV2 &^ api.CoreFeatureSIMD).
		// Deadlines are enforced at the metering's checkpoints (see
		// doc.go): wazero's own mechanism makes compiled code call out
		// to Go at every loop iteration, which made metered Go programs
		// four times slower.
		WithCloseOnContextDone(false).
		// The per-run limit (Limits.MemoryPages) is enforced by the
		// instrumentation, so that one compiled module serves every
		// limit; wazero's own limit, applied at compile time, is the
		// 32-bit maximum.
		WithMemoryLimitPages(MaxMemoryPages)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("wasm: instantiate WASI: %w", err)
	}
	_, err := rt.NewHostModuleBuilder(hostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(checkpoint), nil, nil).
		Export(hostCheckpoint).
		Instantiate(ctx)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("wasm: instantiate the %s host module: %w", hostModule, err)
	}
	return &Executor{rt: rt, modules: map[[32]byte]*compiled{}, lru: list.New()}, nil
}

// Close releases the runtime and every compiled module. Runs in progress
// fail.
func (e *Executor) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.modules = nil
	e.mu.Unlock()
	if err := e.rt.Close(ctx); err != nil {
		return fmt.Errorf("wasm: close runtime: %w", err)
	}
	return nil
}

var errClosed = errors.New("wasm: executor closed")

// acquire returns the compiled form of a module, compiling it at most once
// however many runs ask at the same time. The caller releases it.
func (e *Executor) acquire(ctx context.Context, module []byte) (*compiled, error) {
	key := sha256.Sum256(module)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errClosed
	}
	c, ok := e.modules[key]
	if ok {
		c.refs++
		e.lru.MoveToFront(c.elem)
		e.mu.Unlock()
		select {
		case <-c.ready:
			return c, nil
		case <-ctx.Done():
			e.release(context.WithoutCancel(ctx), c)
			return nil, fmt.Errorf("wasm: waiting for compilation: %w", ctx.Err())
		}
	}
	c = &compiled{key: key, ready: make(chan struct{}), refs: 1}
	c.elem = e.lru.PushFront(c)
	e.modules[key] = c
	victims := e.evictLocked()
	e.mu.Unlock()
	for _, v := range victims {
		_ = v.module.Close(ctx)
	}

	instrumented, info, err := instrument(module)
	if err != nil {
		c.invalid = err.Error()
	} else {
		c.info = info
		c.module, err = e.rt.CompileModule(ctx, instrumented)
		if err != nil {
			c.invalid = "compile: " + err.Error()
		}
	}
	close(c.ready)
	return c, nil
}

// evictLocked drops the least recently used entries past the cache size
// and returns those nobody uses any more, to be closed outside the lock.
func (e *Executor) evictLocked() []*compiled {
	var victims []*compiled
	for e.lru.Len() > maxCachedModules {
		c := e.lru.Remove(e.lru.Back()).(*compiled)
		delete(e.modules, c.key)
		c.evicted = true
		if c.refs == 0 && c.module != nil {
			victims = append(victims, c)
		}
	}
	return victims
}

func (e *Executor) release(ctx context.Context, c *compiled) {
	e.mu.Lock()
	c.refs--
	last := c.refs == 0 && c.evicted
	e.mu.Unlock()
	if last {
		<-c.ready
		if c.module != nil {
			_ = c.module.Close(ctx)
		}
	}
}

// Run runs module with input on stdin under lim. Job failures are
// reported in the Result; the error is only for faults of the executor
// itself (closed, or ctx cancelled by the caller).
func (e *Executor) Run(ctx context.Context, module, input []byte, lim Limits) (Result, error) {
	c, err := e.acquire(ctx, module)
	if err != nil {
		return Result{}, err
	}
	defer e.release(context.WithoutCancel(ctx), c)
	if c.invalid != "" {
		return Result{Failure: FailureInvalidModule + ": " + c.invalid}, nil
	}
	pages := min(lim.MemoryPages, MaxMemoryPages)
	if c.info.memoryMin > pages {
		return Result{Failure: fmt.Sprintf("%s: the module needs %d pages at start, the limit is %d",
			FailureMemoryLimit, c.info.memoryMin, pages)}, nil
	}
	budget := min(lim.Gas, math.MaxInt64)

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if lim.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, lim.Timeout)
	}
	defer cancel()

	s := &run{maxOutput: lim.MaxOutputBytes}
	runCtx = context.WithValue(runCtx, runKey{}, s)
	cfg := wazero.NewModuleConfig().
		// Anonymous, so that any number of runs can share the runtime.
		WithName("").
		// _start is called below, once the budget is set.
		WithStartFunctions().
		WithArgs("job").
		WithStdin(stdinReader{s: s, r: bytes.NewReader(input)}).
		WithStdout(stdoutWriter{s: s}).
		WithStderr(stderrWriter{s: s}).
		WithWalltime(s.walltime, sys.ClockResolution(clockTick)).
		WithNanotime(s.nanotime, sys.ClockResolution(clockTick)).
		WithNanosleep(s.nanosleep).
		WithOsyield(func() {}).
		WithRandSource(newRandomSource(s, input))
	mod, err := e.rt.InstantiateModule(runCtx, c.module, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("wasm: instantiate: %w", ctx.Err())
		}
		if e.isClosed() {
			return Result{}, errClosed
		}
		return Result{Failure: FailureInvalidModule + ": instantiate: " + firstLine(err.Error())}, nil
	}
	defer mod.Close(context.WithoutCancel(ctx))

	gas, ok1 := mod.ExportedGlobal(exportGas).(api.MutableGlobal)
	memPages, ok2 := mod.ExportedGlobal(exportMemoryPages).(api.MutableGlobal)
	flags := mod.ExportedGlobal(exportFlags)
	if !ok1 || !ok2 || flags == nil {
		return Result{}, errors.New("wasm: instrumented module lacks its metering globals")
	}
	gas.Set(budget)
	memPages.Set(uint64(pages))
	s.gas = gas

	var callErr error
	if c.info.hasStart {
		_, callErr = mod.ExportedFunction(exportStart).Call(runCtx)
	}
	if callErr == nil {
		_, callErr = mod.ExportedFunction("_start").Call(runCtx)
	}

	if e.isClosed() {
		// Closing the runtime ends a run as if it had exited with 0.
		return Result{}, errClosed
	}
	res := Result{Output: s.stdout, Stderr: s.stderr}
	left := int64(gas.Get())
	if left >= 0 {
		res.GasUsed = budget - uint64(left)
	}
	if s.interrupted {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("wasm: run: %w", ctx.Err())
		}
		res.Failure = FailureTimeout
		return res, nil
	}
	var exit *sys.ExitError
	isExit := errors.As(callErr, &exit)
	switch {
	case s.overflow:
		res.Failure = FailureOutputTooLarge
	case s.outOfGas || left < 0:
		res.GasUsed = lim.Gas
		res.Failure = FailureOutOfGas
	case callErr == nil || (isExit && exit.ExitCode() == 0):
		// Success.
	case flags.Get()&flagCallDepth != 0:
		res.Failure = FailureTrap + ": call stack exhausted"
	case flags.Get()&flagGrowRefused != 0:
		res.Failure = fmt.Sprintf("%s: memory.grow refused at the limit of %d pages", FailureMemoryLimit, pages)
		if isExit {
			res.ExitCode = exit.ExitCode()
		}
	case isExit:
		res.ExitCode = exit.ExitCode()
		res.Failure = fmt.Sprintf("%s: %d", FailureExit, exit.ExitCode())
	default:
		msg := firstLine(callErr.Error())
		trap, ok := strings.CutPrefix(msg, "wasm error: ")
		if !ok {
			// Not a trap of the guest: a fault in wazero or in the
			// host functions.
			return Result{}, fmt.Errorf("wasm: run: %w", callErr)
		}
		res.Failure = FailureTrap + ": " + trap
	}
	return res, nil
}

func (e *Executor) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
