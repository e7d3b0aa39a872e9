package wasm

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// resultDigest runs every job of jobCases and the NaN program on the
// compiler and hashes their Results: two machines that print the same
// digest gave the same bits.
func resultDigest(t *testing.T) string {
	t.Helper()
	module := jobsModule(t)
	e := executors(t)[0]
	h := sha256.New()
	add := func(name string, r Result) {
		fmt.Fprintf(h, "%s\x00%d\x00%q\x00%d\x00%x\x00", name, r.GasUsed, r.Failure, r.ExitCode, r.Output)
	}
	for _, c := range jobCases() {
		r, err := e.Run(context.Background(), module, []byte(c.input), c.lim)
		if err != nil {
			t.Fatal(err)
		}
		add(c.name, r)
	}
	prog, _ := nanProgram()
	r, err := e.Run(context.Background(), prog.build(), nil, Limits{Gas: 1 << 20, MemoryPages: 1, MaxOutputBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	add("nan program", r)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestResultDigest prints the digest; TestArm64 compares it across
// architectures.
func TestResultDigest(t *testing.T) {
	t.Logf("result digest on %s: %s", runtime.GOARCH, resultDigest(t))
}

// TestArm64 runs this package's tests built for arm64 under
// qemu-aarch64-static (so with wazero's arm64 compiler) and checks that
// they pass and give the same Results, bit for bit, as this machine. It
// takes a minute or two, so it runs only with MYCEL_WASM_ARM64=1, and
// is skipped where qemu-aarch64-static is absent (Debian:
// apt-get install qemu-user-static).
func TestArm64(t *testing.T) {
	if os.Getenv("MYCEL_WASM_ARM64") == "" {
		t.Skip("set MYCEL_WASM_ARM64=1 to run the arm64 comparison")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("compares amd64 with arm64")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static is not installed")
	}
	bin := filepath.Join(t.TempDir(), "wasm.arm64.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c for arm64: %v\n%s", err, out)
	}
	want := resultDigest(t)
	cmd := exec.Command(qemu, bin, "-test.v", "-test.run",
		"^(TestResultDigest|TestExactGas|TestNaNCanonical|TestKitchenSink|TestFatFrames|TestJobsDeterministic|TestGasExact)$")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("arm64 tests: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`result digest on arm64: ([0-9a-f]{64})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no digest in the arm64 output:\n%s", out)
	}
	if string(m[1]) != want {
		t.Fatalf("arm64 digest %s, amd64 %s", m[1], want)
	}
	t.Logf("arm64 under qemu gives the amd64 results: %s", want)
}
