//go:build goexperiment.simd && amd64

package cpu

import (
	"bufio"
	"bytes"
	"math"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"simd/archsimd"

	"github.com/mycelnet/mycel/internal/crosstest"
	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// TestExp32Vector compares the vector Exp32 of each path with
// detmath.Exp32 bit for bit (NaN payloads included) on every 509th
// float32 bit pattern and on the special values.
func TestExp32Vector(t *testing.T) {
	var xs []float32
	for b := uint64(0); b < 1<<32; b += 509 {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	xs = append(xs, specials...)
	xs = append(xs, detmath.Exp32Hi, detmath.Exp32Lo, 88.72283, -87.33655, -103.97208, -103.97209, math.Float32frombits(0x7fa00001), math.Float32frombits(0xffc01234))
	want := make([]float32, len(xs))
	for i, x := range xs {
		want[i] = detmath.Exp32(x)
	}
	paths := map[string]func([]float32){}
	if archsimd.X86.AVX512() {
		paths["avx512"] = exp32AVX512
	}
	if archsimd.X86.AVX2() {
		paths["avx2"] = exp32AVX2
	}
	for name, f := range paths {
		got := append([]float32(nil), xs...)
		f(got)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: Exp32(%v = %#x) = %#x, scalar %#x", name, xs[i], math.Float32bits(xs[i]), math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
}

// TestReduce8 checks the vector reduction against backend.ReduceLanes on
// values chosen so that any other order of additions shows.
func TestReduce8(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	g := newGen(12)
	pool := []float32{1e8, -1e8, 1, -1, 0.5, 3e38, -3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 1e-45, 7, 1e-3}
	for iter := 0; iter < 20000; iter++ {
		var lanes [8][16]float32
		var want [8]float32
		for a := range lanes {
			for l := range lanes[a] {
				if g.r.IntN(4) == 0 {
					lanes[a][l] = float32(g.r.NormFloat64())
				} else {
					lanes[a][l] = pool[g.r.IntN(len(pool))]
				}
			}
			c := lanes[a]
			want[a] = backend.ReduceLanes(&c)
		}
		v := func(a int) archsimd.Float32x16 { return archsimd.LoadFloat32x16(&lanes[a]) }
		var out [16]float32
		reduce8(v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7)).Store(&out)
		for a := range want {
			if !sameBits(out[tileLane[a]], want[a]) {
				t.Fatalf("accumulator %d %v: reduce8 %v, tree %v", a, lanes[a], out[tileLane[a]], want[a])
			}
		}
	}
}

// TestAVX2PathHasNoAVX512 disassembles the AVX2 path's functions in this
// test binary with GNU objdump (Go's objdump does not decode VEX) and
// fails on any EVEX-encoded (AVX-512) instruction, which would fault on a
// processor with AVX2 only; tests run on an AVX-512 machine would not
// notice otherwise.
func TestAVX2PathHasNoAVX512(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		crosstest.NeedTool(t, "GNU objdump is not installed (apt-get install -y binutils)")
	}
	// go test strips the binary it runs; build one with symbols.
	bin := crosstest.Build(t, "amd64", true)
	out, err := exec.Command(objdump, "-d", "--no-addresses", bin).Output()
	if err != nil {
		t.Skipf("objdump: %v", err)
	}
	avx2Func := regexp.MustCompile(`^<github\.com/mycelnet/mycel/runtime/backend/cpu\.(tile256x\w+|\w*AVX2\w*|exp32x8|f16x8|q8Dot8|q8a8|q8c8|q8d8|reduce256|bc8)>:$`)
	// Raw bytes, then the instruction.
	insn := regexp.MustCompile(`^\s+((?:[0-9a-f]{2} )+)\s*(.*)$`)
	evexReg := regexp.MustCompile(`%zmm|%k[0-7]|%[xy]mm(1[6-9]|2[0-9]|3[01])\b|\{evex\}`)
	funcs, insns := 0, 0
	in := false
	var fn string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		s := sc.Text()
		if strings.HasPrefix(s, "<") {
			in = avx2Func.MatchString(s)
			if in {
				fn = s
				funcs++
			}
			continue
		}
		if !in {
			continue
		}
		m := insn.FindStringSubmatch(s)
		if m == nil || m[2] == "" {
			continue // a continuation line of raw bytes
		}
		insns++
		// In 64-bit mode a leading 0x62 byte is an EVEX prefix.
		if strings.HasPrefix(m[1], "62 ") || evexReg.MatchString(m[2]) {
			t.Errorf("AVX-512 instruction in the AVX2 path: %s\n\tin %s", strings.TrimSpace(s), fn)
		}
	}
	if funcs < 10 || insns < 1000 {
		t.Fatalf("objdump found only %d functions, %d instructions", funcs, insns)
	}
	t.Logf("%d functions, %d instructions, no EVEX", funcs, insns)
}
