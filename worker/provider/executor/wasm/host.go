package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math"

	"github.com/tetratelabs/wazero/api"
)

// StderrCap is how much of a job's stderr a Result keeps.
const StderrCap = 4096

// virtualEpoch is the wall-clock time a job sees first:
// 2024-01-01T00:00:00Z, in seconds since the Unix epoch.
const virtualEpoch = 1704067200

// clockTick is how far the virtual clock moves on each reading, so that a
// program that waits for time to pass by polling the clock ends.
const clockTick = 1000 // ns

// randomDomain separates random_get's stream from other uses of the input
// hash.
const randomDomain = "mycel-wasm/1 random_get"

// stopRun is the panic value host code uses to end a run at a
// deterministic point; wazero turns it into an error from the call, and
// the run's flags say why.
type stopRun struct{}

func (stopRun) Error() string { return "run stopped by the host" }

// run is one job's host-side state. The guest is single-threaded and
// calls the host synchronously, so it needs no lock.
type run struct {
	interrupted bool              // a checkpoint found the deadline passed or the run cancelled
	gas         api.MutableGlobal // the guest's gas counter, set before any guest code runs
	outOfGas    bool
	overflow    bool
	maxOutput   int64
	stdout      []byte
	stderr      []byte
	now         int64 // virtual nanoseconds since the start
}

// charge takes gas for host work from the guest's counter; when the
// budget cannot pay, it leaves the counter negative and stops the run.
func (s *run) charge(n uint64) {
	if s.gas == nil || n == 0 {
		return
	}
	left := int64(s.gas.Get())
	if left < 0 || uint64(left) < n {
		s.gas.Set(math.MaxUint64) // -1
		s.outOfGas = true
		panic(stopRun{})
	}
	s.gas.Set(uint64(left - int64(n)))
}

// runKey is the context key under which a run's state reaches the host
// functions.
type runKey struct{}

// checkpoint is the host side of the metering's checkpoints: it ends a
// run whose context is done. Returning to Go here is also what lets the
// Go runtime preempt a goroutine running compiled WebAssembly.
func checkpoint(ctx context.Context, _ api.Module, _ []uint64) {
	if ctx.Err() == nil {
		return
	}
	if s, ok := ctx.Value(runKey{}).(*run); ok {
		s.interrupted = true
	}
	panic(stopRun{})
}

func units(n int, per uint64) uint64 {
	return (uint64(n) + per - 1) / per
}

type stdoutWriter struct{ s *run }

func (w stdoutWriter) Write(p []byte) (int, error) {
	w.s.charge(units(len(p), CostIOBytesPerUnit))
	room := w.s.maxOutput - int64(len(w.s.stdout))
	if room < 0 {
		room = 0
	}
	if int64(len(p)) > room {
		w.s.stdout = append(w.s.stdout, p[:room]...)
		w.s.overflow = true
		panic(stopRun{})
	}
	w.s.stdout = append(w.s.stdout, p...)
	return len(p), nil
}

// stderrWriter keeps the first StderrCap bytes and drops the rest: stderr
// is for the client to read, not part of the result.
type stderrWriter struct{ s *run }

func (w stderrWriter) Write(p []byte) (int, error) {
	w.s.charge(units(len(p), CostIOBytesPerUnit))
	if room := StderrCap - len(w.s.stderr); room > 0 {
		w.s.stderr = append(w.s.stderr, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

type stdinReader struct {
	s *run
	r *bytes.Reader
}

func (r stdinReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.s.charge(units(n, CostIOBytesPerUnit))
	return n, err
}

// randomSource is random_get's stream: SHA-256 in counter mode,
// block i = SHA-256(randomDomain || seed || uint64be(i)), the seed being
// SHA-256 of the job's input. It is fully specified here so that no
// library change can alter it.
type randomSource struct {
	s       *run
	seed    [32]byte
	counter uint64
	block   [32]byte
	used    int
}

func newRandomSource(s *run, input []byte) *randomSource {
	return &randomSource{s: s, seed: sha256.Sum256(input), used: sha256.Size}
}

func (g *randomSource) Read(p []byte) (int, error) {
	g.s.charge(units(len(p), CostRandomBytesPerUnit))
	for i := range p {
		if g.used == len(g.block) {
			h := sha256.New()
			h.Write([]byte(randomDomain))
			h.Write(g.seed[:])
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], g.counter)
			h.Write(c[:])
			h.Sum(g.block[:0])
			g.counter++
			g.used = 0
		}
		p[i] = g.block[g.used]
		g.used++
	}
	return len(p), nil
}

// The virtual clock: both WASI clocks read one timeline that starts at
// virtualEpoch, moves clockTick per reading and jumps over every sleep
// without sleeping.
func (s *run) nanotime() int64 {
	s.now += clockTick
	return s.now
}

func (s *run) walltime() (int64, int32) {
	s.now += clockTick
	return virtualEpoch + s.now/1e9, int32(s.now % 1e9)
}

func (s *run) nanosleep(ns int64) {
	if ns > 0 && s.now <= math.MaxInt64-ns {
		s.now += ns
	}
}
