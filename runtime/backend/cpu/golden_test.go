package cpu

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"hash"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/internal/crosstest"
	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from this build's portable path")

const goldenFile = "testdata/golden.txt"

// goldenRand draws the golden inputs: ChaCha8 with a fixed seed, raw
// 64-bit outputs only, turned into numbers by the code below (not by
// math/rand's own conversions, which a Go release may change).
type goldenRand struct{ r *rand.ChaCha8 }

func newGoldenRand() goldenRand {
	var seed [32]byte
	copy(seed[:], "mycel-rt/1 kernel golden")
	return goldenRand{rand.NewChaCha8(seed)}
}

// uniform returns a float32 in [-1, 1): a 24-bit integer times 2^-23.
func (g goldenRand) uniform() float32 {
	return float32(int32(g.r.Uint64()>>40)-1<<23) * 0x1p-23
}

func (g goldenRand) vec(n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(g.uniform() * scale)
	}
	return v
}

// specials puts the awkward values at positions drawn from the stream.
func (g goldenRand) specials(v []float32) []float32 {
	for _, s := range specials {
		v[g.r.Uint64()%uint64(len(v))] = s
	}
	return v
}

func (g goldenRand) weight(t backend.DType, rows, cols int) *backend.Weight {
	w := &backend.Weight{Type: t, Rows: rows, Cols: cols, Data: make([]byte, rows*t.RowBytes(cols))}
	switch t {
	case backend.F32:
		for i := 0; i < rows*cols; i++ {
			binary.LittleEndian.PutUint32(w.Data[4*i:], math.Float32bits(g.uniform()))
		}
	case backend.F16:
		for i := 0; i < rows*cols; i++ {
			h := uint16(g.r.Uint64())
			if h&0x7c00 == 0x7c00 {
				h &^= 0x4000 // finite
			}
			binary.LittleEndian.PutUint16(w.Data[2*i:], h)
		}
	case backend.Q8_0:
		for b := 0; b < rows*cols/32; b++ {
			blk := w.Data[b*34:]
			u := g.r.Uint64()
			binary.LittleEndian.PutUint16(blk, uint16(0x1c00+u%0x1800)|uint16(u>>63)<<15)
			for i := 0; i < 32; i++ {
				blk[2+i] = byte(int8(int(g.r.Uint64()%255) - 127))
			}
		}
	}
	return w
}

// goldenHasher hashes float32 results: each as its little-endian bits,
// every NaN as 0x7fc00000 (NaN sign and payload are not part of the
// arithmetic).
type goldenHasher struct{ h hash.Hash }

func (g goldenHasher) section(name string) { g.h.Write([]byte(name)) }

func (g goldenHasher) floats(v []float32) {
	var b [4]byte
	for _, f := range v {
		bits := math.Float32bits(f)
		if f != f {
			bits = 0x7fc00000
		}
		binary.LittleEndian.PutUint32(b[:], bits)
		g.h.Write(b[:])
	}
}

func (g goldenHasher) float64s(v ...float64) {
	var b [8]byte
	for _, f := range v {
		bits := math.Float64bits(f)
		if f != f {
			bits = 0x7ff8000000000000
		}
		binary.LittleEndian.PutUint64(b[:], bits)
		g.h.Write(b[:])
	}
}

// goldenHash runs a fixed set of kernel calls on b and hashes every
// output. It is small enough to run under qemu in a second or two.
func goldenHash(b *CPU) string {
	g := newGoldenRand()
	h := goldenHasher{sha256.New()}

	for _, c := range []struct {
		t             backend.DType
		rows, cols, n int
	}{
		{backend.F32, 37, 75, 1}, {backend.F32, 37, 75, 2}, {backend.F32, 64, 256, 7}, {backend.F32, 9, 2500, 3},
		{backend.F16, 19, 45, 3}, {backend.F16, 33, 128, 1},
		{backend.Q8_0, 35, 96, 1}, {backend.Q8_0, 35, 96, 4}, {backend.Q8_0, 17, 512, 2},
	} {
		w := g.weight(c.t, c.rows, c.cols)
		x := g.vec(c.n*c.cols, 2)
		out := make([]float32, c.n*c.rows)
		b.MatMul(out, w, x, c.n)
		h.section("matmul " + c.t.String())
		h.floats(out)
		row := make([]float32, c.cols)
		b.Row(row, w, c.rows/2)
		h.section("row")
		h.floats(row)
	}

	x := g.specials(g.vec(3*77, 4))
	wn := g.vec(77, 1)
	out := make([]float32, len(x))
	b.RMSNorm(out, x, wn, 1e-5)
	h.section("rmsnorm")
	h.floats(out)

	gate := g.specials(g.vec(301, 12))
	up := g.vec(301, 1)
	out = make([]float32, 301)
	b.SwiGLU(out, gate, up)
	h.section("swiglu")
	h.floats(out)

	for _, c := range []struct {
		heads, headDim, pos int
		base                float64
	}{{3, 64, 0, 10000}, {3, 64, 1, 10000}, {2, 128, 17, 10000}, {2, 128, 4095, 10000}, {1, 80, 99999, 500000}, {1, 128, 131071, 1e6}} {
		x := g.vec(c.heads*c.headDim, 1)
		b.RoPE(x, c.pos, c.headDim, c.base)
		h.section("rope")
		h.floats(x)
	}

	for _, c := range []struct{ nPos, nHead, nKVHead, headDim int }{{1, 6, 2, 40}, {13, 6, 2, 40}, {70, 4, 4, 64}, {33, 8, 2, 128}} {
		kvDim := c.nKVHead * c.headDim
		q := g.vec(c.nHead*c.headDim, 3)
		k := g.vec(c.nPos*kvDim, 3)
		v := g.vec(c.nPos*kvDim, 1)
		out := make([]float32, len(q))
		b.Attention(out, q, k, v, c.nPos, c.nHead, c.nKVHead, c.headDim)
		h.section("attention")
		h.floats(out)
	}

	a := g.specials(g.vec(123, 1e3))
	c := g.specials(g.vec(123, 1e3))
	out = make([]float32, 123)
	b.Add(out, a, c)
	h.section("add")
	h.floats(out)

	sm := g.vec(67, 30)
	b.k.softmax(sm)
	h.section("softmax")
	h.floats(sm)

	// The elementary functions themselves.
	h.section("exp32")
	e := make([]float32, 0, 4096)
	for i := 0; i < 4096; i++ {
		e = append(e, detmath.Exp32(math.Float32frombits(uint32(g.r.Uint64()))))
	}
	h.floats(e)
	h.section("detmath")
	for i := 0; i < 256; i++ {
		u := float64(g.uniform())
		h.float64s(detmath.Exp(u*700), detmath.Log(math.Abs(u)*1e10), detmath.Pow(10000, u), detmath.Pow(math.Abs(u)*50, u*40),
			detmath.Sin(u*2e5), detmath.Cos(u*2e5), detmath.Sin(u*1e300), detmath.Cos(u*3))
	}
	return hex.EncodeToString(h.h.Sum(nil))
}

// TestGolden requires every code path and thread count to produce the
// hash in testdata/golden.txt. The same file holds for the default
// build, the GOEXPERIMENT=simd build and arm64 (the two tests below run
// those builds).
func TestGolden(t *testing.T) {
	if *update {
		h := goldenHash(newCPU(1, &portable))
		if err := os.WriteFile(goldenFile, []byte(h+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %s", goldenFile, h)
	}
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(data))
	for _, b := range backends() {
		if got := goldenHash(b); got != want {
			t.Errorf("%s (%s/%s): golden hash %s, want %s", label(b), runtime.GOOS, runtime.GOARCH, got, want)
		}
	}
	t.Logf("%s/%s: %d paths × thread counts match %s", runtime.GOOS, runtime.GOARCH, len(backends()), want)
}

// TestSIMDBuild runs this package's tests in the GOEXPERIMENT=simd build
// (the AVX-512, AVX2 and portable paths this processor supports), the
// golden hash among them.
func TestSIMDBuild(t *testing.T) { crosstest.SIMD(t, ".") }

// TestArm64Build runs this package's tests, TestGolden among them, for
// arm64 under qemu: the portable path compiled by a compiler that fuses
// multiply-adds unless told not to.
func TestArm64Build(t *testing.T) { crosstest.Arm64(t, ".") }
