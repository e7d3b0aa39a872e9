package wasm_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	examples "github.com/mycelnet/mycel/examples/wasm"
	"github.com/mycelnet/mycel/examples/wasm/kernel"
	executor "github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// builtWith is the Go toolchain that built the committed modules; with it
// a rebuild is byte-identical.
const builtWith = "go1.26.8"

const sample = "The cat and the hat.\nThe CAT sat; the hat didn't.\n"

const sampleOut = "4 the\n2 cat\n2 hat\n1 and\n1 didn't\n1 sat\n"

func limits() executor.Limits {
	return executor.Limits{Gas: 1 << 32, MemoryPages: 1024, MaxOutputBytes: 1 << 20}
}

func run(t *testing.T, e *executor.Executor, module []byte, input string) string {
	t.Helper()
	r, err := e.Run(context.Background(), module, []byte(input), limits())
	if err != nil || r.Failure != "" {
		t.Fatalf("%v %q (stderr %q)", err, r.Failure, r.Stderr)
	}
	return string(r.Output)
}

func newExecutor(t *testing.T) *executor.Executor {
	t.Helper()
	e, err := executor.New(context.Background(), executor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// The committed modules run under the executor and give what their
// sources say.
func TestCommittedModules(t *testing.T) {
	e := newExecutor(t)
	if got := run(t, e, examples.WordFreq(), sample); got != sampleOut {
		t.Errorf("wordfreq: %q, want %q", got, sampleOut)
	}
	want := strconv.FormatUint(kernel.Run(16), 10) + "\n"
	if got := run(t, e, examples.Kernel(), "16\n"); got != want {
		t.Errorf("kernel: %q, want %q", got, want)
	}
}

// Rebuilding with the command in README.md gives the committed bytes with
// the toolchain that built them, and a module that behaves the same with
// any other.
func TestRebuild(t *testing.T) {
	dir := t.TempDir()
	version, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	sameGo := strings.TrimSpace(string(version)) == builtWith
	e := newExecutor(t)
	for _, c := range []struct {
		pkg, out  string
		committed []byte
		input     string
	}{
		{"./wordfreq", "wordfreq.wasm", examples.WordFreq(), sample},
		{"./kernelprog", "kernel.wasm", examples.Kernel(), "16\n"},
	} {
		path := filepath.Join(dir, c.out)
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s", "-o", path, c.pkg)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWASM=", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", c.pkg, err, out)
		}
		rebuilt, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(rebuilt, c.committed) {
			continue
		}
		if sameGo {
			t.Errorf("%s: rebuilt with %s but differs from the committed %s; rebuild it as README.md says", c.pkg, builtWith, c.out)
			continue
		}
		t.Logf("%s: %s builds different bytes than %s; checking behaviour only", c.pkg, strings.TrimSpace(string(version)), builtWith)
		if got, want := run(t, e, rebuilt, c.input), run(t, e, c.committed, c.input); got != want {
			t.Errorf("%s: rebuilt module prints %q, committed %q", c.pkg, got, want)
		}
	}
}
