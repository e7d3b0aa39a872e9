// Package crosstest runs a package's tests in the other builds that must
// give the same bits: with GOEXPERIMENT=simd (the vector kernels), and for
// arm64 under qemu-aarch64-static (a compiler that fuses multiply-adds
// unless told not to). Tests call it from the package under test, whose
// directory is the working directory.
//
// Where a tool a test needs is missing the test skips, unless
// MYCEL_REQUIRE_TOOLS is set (as .ci/run sets it): there a skip would hide
// a check, so it fails instead.
package crosstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// SIMDBuild reports whether this binary was built with GOEXPERIMENT=simd.
const SIMDBuild = simdBuild

// SIMD runs the tests matching pattern of the current package in the
// GOEXPERIMENT=simd build. The first run compiles the standard library
// for the experiment (about a minute); later ones take seconds.
//
// The only ways it does not run are by design, not gaps: inside the simd
// build it launches (which would otherwise launch itself again), on a
// machine that has no simd build (not amd64), and with -short, which asks
// to leave out the rebuild. CI runs the default build on amd64 without
// -short, so there it always runs.
func SIMD(t *testing.T, pattern string) {
	t.Helper()
	if SIMDBuild {
		t.Skip("this binary is the simd build that the default build's run of this test launched")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("simd/archsimd exists only on amd64")
	}
	if testing.Short() {
		t.Skip("-short leaves out rebuilding the package with GOEXPERIMENT=simd")
	}
	run(t, "GOEXPERIMENT=simd", Build(t, "amd64", true), pattern)
}

// Arm64 cross-compiles the current package's tests for arm64 and runs
// those matching pattern under qemu-aarch64-static.
//
// As with SIMD, it stands down only by design: on arm64 itself (where the
// package's tests already run natively), inside the simd build (the
// default build's run already launched the arm64 one), and with -short.
func Arm64(t *testing.T, pattern string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short leaves out cross-compiling the package for arm64")
	}
	if runtime.GOARCH == "arm64" {
		t.Skip("this binary runs on arm64: the package's tests are the arm64 check")
	}
	if SIMDBuild {
		t.Skip("the default build's run of this test launches the arm64 build")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		NeedTool(t, "qemu-aarch64-static is not installed (apt-get install -y qemu-user-static)")
	}
	run(t, "arm64 under qemu", Build(t, "arm64", false), pattern, qemu)
}

// Build compiles the current package's tests for linux/goarch, with or
// without GOEXPERIMENT=simd, into a temporary directory, and returns the
// binary (which, unlike go test's own, keeps its symbols).
func Build(t *testing.T, goarch string, simd bool) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), goarch+".test")
	cmd := exec.Command(goTool(t), "test", "-c", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0", "GOEXPERIMENT="+goexperiment(simd))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=%s GOEXPERIMENT=%s go test -c: %v\n%s", goarch, goexperiment(simd), err, out)
	}
	return bin
}

// run runs a test binary (through an emulator, if given) on the tests
// matching pattern, in the package's directory.
func run(t *testing.T, what, bin, pattern string, emulator ...string) {
	t.Helper()
	args := append(emulator, bin, "-test.run", pattern, "-test.v")
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: tests %s: %v\n%s", what, pattern, err, out)
	}
	t.Logf("%s: tests %s passed", what, pattern)
}

// NeedTool skips the test, saying msg (what is missing and how to
// install it), or fails it where MYCEL_REQUIRE_TOOLS is set.
func NeedTool(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("MYCEL_REQUIRE_TOOLS") != "" {
		t.Fatal(msg + " (MYCEL_REQUIRE_TOOLS is set, so this check may not be skipped)")
	}
	t.Skip(msg)
}

// goTool returns the go command that built this test.
func goTool(t *testing.T) string {
	t.Helper()
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	NeedTool(t, "no go command")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goexperiment returns GOEXPERIMENT with simd added or removed.
func goexperiment(simd bool) string {
	var parts []string
	for _, p := range strings.Split(os.Getenv("GOEXPERIMENT"), ",") {
		if p != "" && p != "simd" && p != "nosimd" {
			parts = append(parts, p)
		}
	}
	if simd {
		parts = append(parts, "simd")
	}
	return strings.Join(parts, ",")
}
