package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary's shared fixtures: the guest program, built once, and
// one executor per engine, so that each engine compiles it once.
var fixtures struct {
	buildOnce sync.Once
	dir       string
	jobs      []byte
	buildErr  error

	execOnce sync.Once
	execs    []namedExecutor
	execErr  error
}

type namedExecutor struct {
	name string
	*Executor
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, e := range fixtures.execs {
		_ = e.Close(context.Background())
	}
	if fixtures.dir != "" {
		_ = os.RemoveAll(fixtures.dir)
	}
	os.Exit(code)
}

// buildWasip1 builds Go main packages for GOOS=wasip1 GOARCH=wasm into
// dir, one NAME.wasm per package directory.
func buildWasip1(dir string, pkgs ...string) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s", "-o", dir}
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %v\n%s", pkgs, err, out)
	}
	return nil
}

// jobsModule is testdata/jobs built for wasip1.
func jobsModule(t testing.TB) []byte {
	t.Helper()
	fixtures.buildOnce.Do(func() {
		fixtures.dir, fixtures.buildErr = os.MkdirTemp("", "wasm-test-")
		if fixtures.buildErr != nil {
			return
		}
		if fixtures.buildErr = buildWasip1(fixtures.dir, "./testdata/jobs"); fixtures.buildErr != nil {
			return
		}
		fixtures.jobs, fixtures.buildErr = os.ReadFile(filepath.Join(fixtures.dir, "jobs"))
	})
	if fixtures.buildErr != nil {
		t.Fatal(fixtures.buildErr)
	}
	return fixtures.jobs
}

// executors are the compiler's and the interpreter's.
func executors(t testing.TB) []namedExecutor {
	t.Helper()
	fixtures.execOnce.Do(func() {
		for _, interp := range []bool{false, true} {
			e, err := New(context.Background(), Options{Interpreter: interp})
			if err != nil {
				fixtures.execErr = err
				return
			}
			name := "compiler"
			if interp {
				name = "interpreter"
			}
			fixtures.execs = append(fixtures.execs, namedExecutor{name, e})
		}
	})
	if fixtures.execErr != nil {
		t.Fatal(fixtures.execErr)
	}
	return fixtures.execs
}

func defaultLimits() Limits {
	return Limits{Gas: 200_000_000, MemoryPages: 1024, MaxOutputBytes: 1 << 20}
}

type jobCase struct {
	name    string
	input   string
	lim     Limits
	failure string // prefix; "" for success
	check   func(t *testing.T, r Result)
}

func wantOutput(want string) func(t *testing.T, r Result) {
	return func(t *testing.T, r Result) {
		t.Helper()
		if string(r.Output) != want {
			t.Fatalf("output %q, want %q", r.Output, want)
		}
	}
}

func jobCases() []jobCase {
	lim := defaultLimits()
	small := func(f func(*Limits)) Limits { l := lim; f(&l); return l }
	// Go's min and max return a NaN operand as it is (a bit copy, not a
	// float instruction), so those two keep the signalling payload.
	c64 := "7ff8000000000000\n"
	nanOut := strings.Repeat(c64, 6) + strings.Repeat("7ff4000000000001\n", 2) + strings.Repeat(c64, 4) +
		strings.Repeat("7fc00000\n", 5)
	return []jobCase{
		{name: "upper", input: "upper\nhello, wasm\n", lim: lim, check: wantOutput("HELLO, WASM\n")},
		{name: "sha256", input: "sha256\nabc", lim: lim, check: wantOutput(fmt.Sprintf("%x\n", sha256.Sum256([]byte("abc"))))},
		{name: "nan", input: "nan\n0 1 +Inf", lim: lim, check: wantOutput(nanOut)},
		{name: "recurse", input: "recurse\n200", lim: lim, check: wantOutput("200\n")},
		{name: "world", input: "world\n", lim: lim, check: func(t *testing.T, r Result) {
			for _, want := range []string{
				"args [job] env 0\n",
				"now 2024-01-01T00:00:00.",
				"slept at least 2s: true\n",
				"read /etc/passwd: true\n",
				"read .: true\n",
			} {
				if !strings.Contains(string(r.Output), want) {
					t.Errorf("output lacks %q:\n%s", want, r.Output)
				}
			}
		}},
		{name: "spin", input: "spin\n", lim: small(func(l *Limits) { l.Gas = 5_000_000 }), failure: FailureOutOfGas,
			check: func(t *testing.T, r Result) {
				if r.GasUsed != 5_000_000 {
					t.Fatalf("gas used %d, want the limit", r.GasUsed)
				}
			}},
		{name: "bomb", input: "bomb\n", lim: small(func(l *Limits) { l.MemoryPages = 512 }), failure: FailureMemoryLimit},
		{name: "bigout", input: "bigout\n", lim: small(func(l *Limits) { l.MaxOutputBytes = 10_000 }), failure: FailureOutputTooLarge,
			check: func(t *testing.T, r Result) {
				if len(r.Output) != 10_000 || r.Output[1023] != '\n' {
					t.Fatalf("output of %d bytes, want the first 10000", len(r.Output))
				}
			}},
		{name: "exit3", input: "exit3\n", lim: lim, failure: FailureExit + ": 3", check: func(t *testing.T, r Result) {
			if r.ExitCode != 3 || string(r.Output) != "exiting with 3\n" {
				t.Fatalf("exit code %d, output %q", r.ExitCode, r.Output)
			}
		}},
		{name: "deep recursion", input: "recurse\n1000000", lim: lim, failure: FailureTrap + ": call stack exhausted"},
		{name: "panic", input: "panic\n", lim: lim, failure: FailureExit + ": 2", check: func(t *testing.T, r Result) {
			if !bytes.Contains(r.Stderr, []byte("assignment to entry in nil map")) {
				t.Fatalf("stderr %q", r.Stderr)
			}
		}},
		{name: "out of gas at start", input: "upper\nx", lim: small(func(l *Limits) { l.Gas = 1000 }), failure: FailureOutOfGas},
		{name: "memory below the program's start", input: "upper\nx", lim: small(func(l *Limits) { l.MemoryPages = 1 }), failure: FailureMemoryLimit},
	}
}

// Each job gives the same Result twice on the compiler and twice on the
// interpreter, and the executor keeps working after each hostile one.
func TestJobsDeterministic(t *testing.T) {
	module := jobsModule(t)
	execs := executors(t)
	ctx := context.Background()
	for _, c := range jobCases() {
		t.Run(c.name, func(t *testing.T) {
			var results []Result
			for _, e := range execs {
				for i := 0; i < 2; i++ {
					r, err := e.Run(ctx, module, []byte(c.input), c.lim)
					if err != nil {
						t.Fatalf("%s: %v", e.name, err)
					}
					results = append(results, r)
				}
			}
			first := results[0]
			for i, r := range results[1:] {
				if !bytes.Equal(r.Output, first.Output) || r.GasUsed != first.GasUsed ||
					r.Failure != first.Failure || r.ExitCode != first.ExitCode || !bytes.Equal(r.Stderr, first.Stderr) {
					t.Fatalf("run %d differs from run 0:\n%+v\n%+v", i+1, summary(r), summary(first))
				}
			}
			if !strings.HasPrefix(first.Failure, c.failure) || (c.failure == "" && first.Failure != "") {
				t.Fatalf("failure %q, want %q (stderr %q)", first.Failure, c.failure, first.Stderr)
			}
			if c.check != nil {
				c.check(t, first)
			}
			t.Logf("gas %d, failure %q", first.GasUsed, first.Failure)

			// A good job afterwards.
			for _, e := range execs {
				r, err := e.Run(ctx, module, []byte("upper\nstill here"), defaultLimits())
				if err != nil || r.Failure != "" || string(r.Output) != "STILL HERE" {
					t.Fatalf("%s after %s: %v %q %q", e.name, c.name, err, r.Failure, r.Output)
				}
			}
		})
	}
}

func summary(r Result) string {
	out := r.Output
	if len(out) > 80 {
		out = out[:80]
	}
	return fmt.Sprintf("gas=%d failure=%q exit=%d output=%q", r.GasUsed, r.Failure, r.ExitCode, out)
}

// GasUsed is exact: a budget of exactly GasUsed succeeds, one less runs
// out, and GasUsed does not depend on the budget.
func TestGasExact(t *testing.T) {
	module := jobsModule(t)
	e := executors(t)[0]
	ctx := context.Background()
	input := []byte("sha256\nthe quick brown fox")
	r, err := e.Run(ctx, module, input, defaultLimits())
	if err != nil || r.Failure != "" {
		t.Fatal(err, r.Failure)
	}
	lim := defaultLimits()
	lim.Gas = r.GasUsed
	exact, err := e.Run(ctx, module, input, lim)
	if err != nil || exact.Failure != "" || exact.GasUsed != r.GasUsed || !bytes.Equal(exact.Output, r.Output) {
		t.Fatalf("with exactly %d gas: %v %+v", lim.Gas, err, summary(exact))
	}
	lim.Gas--
	short, err := e.Run(ctx, module, input, lim)
	if err != nil || short.Failure != FailureOutOfGas || short.GasUsed != lim.Gas {
		t.Fatalf("with %d gas: %v %+v", lim.Gas, err, summary(short))
	}
}

// Different inputs give different random streams; the same input the same.
func TestRandomFollowsInput(t *testing.T) {
	module := jobsModule(t)
	e := executors(t)[0]
	ctx := context.Background()
	line := func(input string) string {
		r, err := e.Run(ctx, module, []byte(input), defaultLimits())
		if err != nil || r.Failure != "" {
			t.Fatal(err, r.Failure)
		}
		for _, l := range strings.Split(string(r.Output), "\n") {
			if strings.HasPrefix(l, "crypto/rand") {
				return l
			}
		}
		t.Fatalf("no random line in %q", r.Output)
		return ""
	}
	a, b, a2 := line("world\n"), line("world\nother input"), line("world\n")
	if a == b || a != a2 {
		t.Fatalf("random lines %q %q %q", a, b, a2)
	}
}

func TestConcurrentRuns(t *testing.T) {
	module := jobsModule(t)
	e := executors(t)[0]
	ctx := context.Background()
	const n = 8
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.Run(ctx, module, []byte("sha256\nconcurrent"), defaultLimits())
		}()
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || results[i].Failure != "" || results[i].GasUsed != results[0].GasUsed ||
			!bytes.Equal(results[i].Output, results[0].Output) {
			t.Fatalf("run %d: %v %s", i, errs[i], summary(results[i]))
		}
	}
}

// The wall-clock safety net stops a job that metering would let run far
// longer. The outcome does not depend on speed: the job never ends.
func TestTimeout(t *testing.T) {
	module := jobsModule(t)
	e := executors(t)[0]
	lim := defaultLimits()
	lim.Gas = 1 << 62
	lim.Timeout = 50 * time.Millisecond
	r, err := e.Run(context.Background(), module, []byte("spin\n"), lim)
	if err != nil || r.Failure != FailureTimeout {
		t.Fatalf("%v %s", err, summary(r))
	}
}

// A caller's cancellation is an error, not a job result.
func TestCancelled(t *testing.T) {
	module := jobsModule(t)
	e := executors(t)[0]
	ctx, cancel := context.WithCancel(context.Background())
	lim := defaultLimits()
	lim.Gas = 1 << 62
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if r, err := e.Run(ctx, module, []byte("spin\n"), lim); err == nil {
		t.Fatalf("no error; result %s", summary(r))
	}
}

func TestInvalidModules(t *testing.T) {
	e := executors(t)[0]
	for _, m := range [][]byte{nil, []byte("garbage bytes"), {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 0xff}} {
		r, err := e.Run(context.Background(), m, nil, defaultLimits())
		if err != nil || !strings.HasPrefix(r.Failure, FailureInvalidModule+": ") || r.GasUsed != 0 {
			t.Fatalf("%q: %v %s", m, err, summary(r))
		}
	}
}

func TestClosed(t *testing.T) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background(), countdown(1).build(), nil, defaultLimits()); err == nil {
		t.Fatal("Run on a closed executor succeeded")
	}
}

// The cache keeps at most maxCachedModules modules and still runs
// evicted ones (by compiling them again).
func TestCacheEviction(t *testing.T) {
	e, err := New(context.Background(), Options{Interpreter: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	for i := int32(0); i < maxCachedModules+4; i++ {
		r, err := e.Run(context.Background(), countdown(i+1).build(), nil, defaultLimits())
		if err != nil || r.Failure != "" || r.GasUsed != uint64(2+5*(i+1)) {
			t.Fatalf("module %d: %v %s", i, err, summary(r))
		}
	}
	e.mu.Lock()
	n := len(e.modules)
	e.mu.Unlock()
	if n != maxCachedModules {
		t.Fatalf("%d modules cached", n)
	}
	r, err := e.Run(context.Background(), countdown(1).build(), nil, defaultLimits())
	if err != nil || r.GasUsed != 7 {
		t.Fatalf("evicted module: %v %s", err, summary(r))
	}
}

func TestCostTable(t *testing.T) {
	if s := CostTable(); !strings.Contains(s, Version) || !strings.Contains(s, "memory.grow") {
		t.Fatalf("cost table:\n%s", s)
	}
}
