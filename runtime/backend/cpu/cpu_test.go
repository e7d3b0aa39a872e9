package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// The scalar references: every Backend method written out from
// runtime/doc.go with the package backend reference functions.

func refRowF32(w *backend.Weight, r int) []float32 {
	out := make([]float32, w.Cols)
	rb := w.Type.RowBytes(w.Cols)
	row := w.Data[r*rb : (r+1)*rb]
	switch w.Type {
	case backend.F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
		}
	case backend.F16:
		for i := range out {
			out[i] = backend.F16ToF32(binary.LittleEndian.Uint16(row[2*i:]))
		}
	case backend.Q8_0:
		for i := range out {
			blk := row[i/32*34:]
			out[i] = float32(backend.F16ToF32(binary.LittleEndian.Uint16(blk)) * float32(int8(blk[2+i%32])))
		}
	}
	return out
}

func refMatMul(w *backend.Weight, x []float32, n int) []float32 {
	out := make([]float32, n*w.Rows)
	rb := w.Type.RowBytes(w.Cols)
	for t := 0; t < n; t++ {
		xt := x[t*w.Cols : (t+1)*w.Cols]
		if w.Type == backend.Q8_0 {
			q := make([]int8, w.Cols)
			d := make([]float32, w.Cols/32)
			backend.QuantizeQ8(xt, q, d)
			for r := 0; r < w.Rows; r++ {
				out[t*w.Rows+r] = backend.DotQ8(w.Data[r*rb:(r+1)*rb], q, d)
			}
			continue
		}
		for r := 0; r < w.Rows; r++ {
			// Exact conversion, then Dot.
			out[t*w.Rows+r] = backend.Dot(refRowF32(w, r), xt)
		}
	}
	return out
}

func refRMSNorm(x, w []float32, eps float32) []float32 {
	out := make([]float32, len(x))
	d := len(w)
	for v := 0; v < len(x)/d; v++ {
		xv := x[v*d : (v+1)*d]
		m := backend.Dot(xv, xv) / float32(d)
		r := detmath.Sqrt32(m + eps)
		inv := 1 / r
		for i := range xv {
			out[v*d+i] = float32(float32(xv[i]*inv) * w[i])
		}
	}
	return out
}

func refSwiGLU(g, u []float32) []float32 {
	out := make([]float32, len(g))
	for i := range g {
		silu := g[i] / (1 + detmath.Exp32(-g[i]))
		out[i] = float32(silu * u[i])
	}
	return out
}

func refRoPE(x []float32, pos, headDim int, base float64) []float32 {
	out := append([]float32(nil), x...)
	for h := 0; h < len(x); h += headDim {
		for i := 0; i < headDim/2; i++ {
			f := detmath.Pow(base, float64(-2*i)/float64(headDim))
			angle := float64(float64(pos) * f)
			c, s := float32(detmath.Cos(angle)), float32(detmath.Sin(angle))
			x0, x1 := x[h+2*i], x[h+2*i+1]
			out[h+2*i] = float32(x0*c) - float32(x1*s)
			out[h+2*i+1] = float32(x0*s) + float32(x1*c)
		}
	}
	return out
}

func refAttention(q, k, v []float32, nPos, nHead, nKVHead, headDim int) []float32 {
	out := make([]float32, nHead*headDim)
	kvDim := nKVHead * headDim
	scale := float32(1 / math.Sqrt(float64(headDim)))
	for h := 0; h < nHead; h++ {
		kv := h / (nHead / nKVHead)
		qh := q[h*headDim : (h+1)*headDim]
		p := make([]float32, nPos)
		for t := 0; t < nPos; t++ {
			kt := k[t*kvDim+kv*headDim : t*kvDim+(kv+1)*headDim]
			p[t] = float32(backend.Dot(qh, kt) * scale)
		}
		backend.Softmax(p)
		for d := 0; d < headDim; d++ {
			var acc float32
			for t := 0; t < nPos; t++ {
				acc = acc + float32(p[t]*v[t*kvDim+kv*headDim+d])
			}
			out[h*headDim+d] = acc
		}
	}
	return out
}

// Inputs.

type gen struct{ r *rand.Rand }

func newGen(seed byte) gen { return gen{rand.New(rand.NewChaCha8([32]byte{seed}))} }

// vec returns n normal values times scale.
func (g gen) vec(n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(g.r.NormFloat64()) * scale
	}
	return v
}

// specials are the awkward values sprinkled into elementwise inputs.
var specials = []float32{
	0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 1e-40, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), 88.7, -88.7, 100, -104, 3e38, -3e38, 1e-20,
}

func (g gen) withSpecials(v []float32) []float32 {
	for _, s := range specials {
		v[g.r.IntN(len(v))] = s
	}
	return v
}

func (g gen) weight(t backend.DType, rows, cols int) *backend.Weight {
	w := &backend.Weight{Type: t, Rows: rows, Cols: cols, Data: make([]byte, rows*t.RowBytes(cols))}
	switch t {
	case backend.F32:
		for i := 0; i < rows*cols; i++ {
			binary.LittleEndian.PutUint32(w.Data[4*i:], math.Float32bits(float32(g.r.NormFloat64()*0.5)))
		}
	case backend.F16:
		for i := 0; i < rows*cols; i++ {
			h := uint16(g.r.Uint32())
			if h&0x7c00 == 0x7c00 { // keep it finite
				h &^= 0x4000
			}
			binary.LittleEndian.PutUint16(w.Data[2*i:], h)
		}
	case backend.Q8_0:
		for b := 0; b < rows*cols/32; b++ {
			blk := w.Data[b*34:]
			h := uint16(0x1c00+g.r.IntN(0x1800)) | uint16(g.r.IntN(2))<<15
			binary.LittleEndian.PutUint16(blk, h)
			for i := 0; i < 32; i++ {
				blk[2+i] = byte(int8(g.r.IntN(255) - 127))
			}
		}
	}
	return w
}

// Comparison: bit for bit, except that every NaN equals every NaN.

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

func requireSame(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: [%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// backends returns every code path this build can run here, each with
// 1, 2, 3 and 8 threads.
func backends() []*CPU {
	var bs []*CPU
	for _, k := range availableKernels() {
		for _, th := range []int{1, 2, 3, 8} {
			bs = append(bs, newCPU(th, k))
		}
	}
	return bs
}

func label(b *CPU) string { return fmt.Sprintf("%s/%d", b.Name(), b.Threads()) }

func TestNew(t *testing.T) {
	b := New(0)
	if b.Threads() < 1 {
		t.Errorf("Threads = %d", b.Threads())
	}
	if b.Name() != "cpu/"+availableKernels()[0].name {
		t.Errorf("Name = %q", b.Name())
	}
	t.Logf("fastest path here: %s", b.Name())
}

func TestMatMul(t *testing.T) {
	g := newGen(1)
	type shape struct{ rows, cols, n int }
	shapes := []shape{
		{1, 1, 1}, {1, 15, 1}, {3, 16, 2}, {5, 17, 3}, {7, 31, 1}, {4, 33, 4}, {13, 64, 5},
		{37, 75, 2}, {48, 100, 7}, {100, 333, 3}, {17, 1000, 1}, {50, 257, 9}, {2, 4097, 2},
		{130, 96, 1}, {5, 0, 2}, {0, 8, 3},
		// k cut into pieces with saved accumulators (vector paths), row
		// blocks with a remainder, and more x vectors than one cache block.
		{61, 2600, 7}, {30, 1300, 60},
	}
	for _, typ := range []backend.DType{backend.F32, backend.F16, backend.Q8_0} {
		for _, s := range shapes {
			cols := s.cols
			if typ == backend.Q8_0 {
				cols = (cols + 31) / 32 * 32
			}
			w := g.weight(typ, s.rows, cols)
			x := g.vec(s.n*cols, 1)
			want := refMatMul(w, x, s.n)
			for _, b := range backends() {
				got := make([]float32, s.n*s.rows)
				for i := range got {
					got[i] = float32(math.NaN()) // every output must be written
				}
				b.MatMul(got, w, x, s.n)
				requireSame(t, fmt.Sprintf("%s %v %d×%d n=%d", label(b), typ, s.rows, cols, s.n), got, want)
			}
		}
	}
}

// TestMatMulFloat64 checks the products against float64 arithmetic: a
// dot product of k terms is within (k/16 + 6)·2^-24·Σ|w·x|.
func TestMatMulFloat64(t *testing.T) {
	g := newGen(2)
	rows, cols, n := 21, 700, 3
	for _, typ := range []backend.DType{backend.F32, backend.F16} {
		w := g.weight(typ, rows, cols)
		x := g.vec(n*cols, 1)
		out := make([]float32, n*rows)
		New(1).MatMul(out, w, x, n)
		for tt := 0; tt < n; tt++ {
			for r := 0; r < rows; r++ {
				wr := refRowF32(w, r)
				var exact, mag float64
				for i, v := range wr {
					exact += float64(v) * float64(x[tt*cols+i])
					mag += math.Abs(float64(v) * float64(x[tt*cols+i]))
				}
				if d := math.Abs(float64(out[tt*rows+r]) - exact); d > float64(cols/16+6)*0x1p-24*mag {
					t.Errorf("%v [%d,%d] = %v, float64 %v", typ, tt, r, out[tt*rows+r], exact)
				}
			}
		}
	}
	// Q8_0: the activation quantization dominates: within half a step
	// per element, d_x/2 · Σ|w|.
	w := g.weight(backend.Q8_0, rows, 256)
	x := g.vec(256, 1)
	out := make([]float32, rows)
	New(1).MatMul(out, w, x, 1)
	for r := 0; r < rows; r++ {
		wr := refRowF32(w, r)
		var exact, bound float64
		for b := 0; b < 8; b++ {
			var amax float64
			for i := b * 32; i < b*32+32; i++ {
				amax = math.Max(amax, math.Abs(float64(x[i])))
			}
			for i := b * 32; i < b*32+32; i++ {
				exact += float64(wr[i]) * float64(x[i])
				bound += math.Abs(float64(wr[i])) * (amax/127/2 + 1e-6*math.Abs(float64(x[i])))
			}
		}
		if d := math.Abs(float64(out[r]) - exact); d > bound {
			t.Errorf("Q8_0 row %d = %v, float64 %v, bound %v", r, out[r], exact, bound)
		}
	}
}

func TestMatMulSpecials(t *testing.T) {
	g := newGen(3)
	for _, typ := range []backend.DType{backend.F32, backend.F16, backend.Q8_0} {
		w := g.weight(typ, 9, 64)
		x := g.withSpecials(g.vec(3*64, 1))
		want := refMatMul(w, x, 3)
		for _, b := range backends() {
			got := make([]float32, 27)
			b.MatMul(got, w, x, 3)
			requireSame(t, fmt.Sprintf("%s %v with specials", label(b), typ), got, want)
		}
	}
	// Non-finite weights.
	w := g.weight(backend.F32, 4, 40)
	for i, v := range []float32{float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1)), 1e-45} {
		binary.LittleEndian.PutUint32(w.Data[4*(i*41):], math.Float32bits(v))
	}
	x := g.vec(2*40, 1)
	want := refMatMul(w, x, 2)
	for _, b := range backends() {
		got := make([]float32, 8)
		b.MatMul(got, w, x, 2)
		requireSame(t, label(b)+" non-finite weights", got, want)
	}
}

func TestMatMulUnaligned(t *testing.T) {
	// F32 data that is not 4-byte aligned is decoded, not viewed.
	g := newGen(4)
	w := g.weight(backend.F32, 5, 19)
	buf := make([]byte, len(w.Data)+1)
	copy(buf[1:], w.Data)
	wu := &backend.Weight{Type: backend.F32, Rows: 5, Cols: 19, Data: buf[1:]}
	x := g.vec(2*19, 1)
	want := refMatMul(w, x, 2)
	for _, b := range backends() {
		got := make([]float32, 10)
		b.MatMul(got, wu, x, 2)
		requireSame(t, label(b)+" unaligned", got, want)
	}
}

func TestRow(t *testing.T) {
	g := newGen(5)
	for _, typ := range []backend.DType{backend.F32, backend.F16, backend.Q8_0} {
		w := g.weight(typ, 7, 96)
		for _, b := range backends() {
			for r := 0; r < 7; r++ {
				got := make([]float32, 96)
				b.Row(got, w, r)
				requireSame(t, fmt.Sprintf("%s %v row %d", label(b), typ, r), got, refRowF32(w, r))
			}
		}
	}
	// F16 conversion of every half, through Row.
	w := &backend.Weight{Type: backend.F16, Rows: 1, Cols: 1 << 16, Data: make([]byte, 2<<16)}
	for h := 0; h < 1<<16; h++ {
		binary.LittleEndian.PutUint16(w.Data[2*h:], uint16(h))
	}
	for _, b := range backends() {
		got := make([]float32, 1<<16)
		b.Row(got, w, 0)
		for h, v := range got {
			if want := backend.F16ToF32(uint16(h)); math.Float32bits(v) != math.Float32bits(want) {
				t.Fatalf("%s: half %#x = %#x, want %#x", label(b), h, math.Float32bits(v), math.Float32bits(want))
			}
		}
	}
}

func TestRMSNorm(t *testing.T) {
	g := newGen(6)
	for _, c := range []struct{ n, d int }{{1, 1}, {1, 15}, {2, 16}, {3, 77}, {1, 4096}, {40, 1000}} {
		x := g.vec(c.n*c.d, 3)
		w := g.vec(c.d, 1)
		if c.d > 20 {
			x = g.withSpecials(x)
		}
		want := refRMSNorm(x, w, 1e-5)
		for _, b := range backends() {
			got := make([]float32, len(x))
			b.RMSNorm(got, x, w, 1e-5)
			requireSame(t, fmt.Sprintf("%s RMSNorm %d×%d", label(b), c.n, c.d), got, want)
		}
	}
	// Against float64.
	x, w := g.vec(333, 2), g.vec(333, 1)
	got := make([]float32, 333)
	New(1).RMSNorm(got, x, w, 1e-6)
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	inv := 1 / math.Sqrt(ss/333+1e-6)
	for i := range x {
		want := float64(x[i]) * inv * float64(w[i])
		if math.Abs(float64(got[i])-want) > 1e-6*math.Abs(want)+1e-30 {
			t.Fatalf("RMSNorm[%d] = %v, float64 %v", i, got[i], want)
		}
	}
}

func TestSwiGLU(t *testing.T) {
	g := newGen(7)
	for _, n := range []int{1, 7, 8, 15, 16, 17, 100, 5000} {
		gate := g.withSpecials(g.vec(n+len(specials), 4))[:n]
		up := g.vec(n, 1)
		want := refSwiGLU(gate, up)
		for _, b := range backends() {
			got := make([]float32, n)
			b.SwiGLU(got, gate, up)
			requireSame(t, fmt.Sprintf("%s SwiGLU %d", label(b), n), got, want)
		}
	}
	// Against float64.
	gate, up := g.vec(1000, 5), g.vec(1000, 1)
	got := make([]float32, 1000)
	New(1).SwiGLU(got, gate, up)
	for i := range got {
		gg := float64(gate[i])
		want := gg / (1 + math.Exp(-gg)) * float64(up[i])
		if math.Abs(float64(got[i])-want) > 4*0x1p-24*math.Abs(want)+1e-40 {
			t.Fatalf("SwiGLU[%d] = %v, float64 %v", i, got[i], want)
		}
	}
}

func TestRoPE(t *testing.T) {
	g := newGen(8)
	for _, c := range []struct {
		heads, headDim, pos int
		base                float64
	}{
		{1, 2, 0, 10000}, {3, 64, 1, 10000}, {2, 128, 4095, 10000}, {4, 80, 99999, 500000},
		{1, 128, 131071, 1e6}, {2, 6, 7, 10000},
	} {
		x := g.vec(c.heads*c.headDim, 1)
		want := refRoPE(x, c.pos, c.headDim, c.base)
		for _, b := range backends() {
			got := append([]float32(nil), x...)
			b.RoPE(got, c.pos, c.headDim, c.base)
			requireSame(t, fmt.Sprintf("%s RoPE %d×%d pos %d", label(b), c.heads, c.headDim, c.pos), got, want)
		}
		// Against float64 (math.Pow, Cos, Sin): within a few float32
		// roundings of the pair's length (the angle itself is computed in
		// float64, so large positions cost nothing).
		got := append([]float32(nil), x...)
		New(1).RoPE(got, c.pos, c.headDim, c.base)
		for i := 0; i < len(x); i += 2 {
			j := i % c.headDim / 2
			angle := float64(c.pos) * math.Pow(c.base, -float64(2*j)/float64(c.headDim))
			cs, sn := math.Cos(angle), math.Sin(angle)
			x0, x1 := float64(x[i]), float64(x[i+1])
			w0, w1 := x0*cs-x1*sn, x0*sn+x1*cs
			tol := 4 * 0x1p-24 * math.Hypot(x0, x1)
			if math.Abs(float64(got[i])-w0) > tol || math.Abs(float64(got[i+1])-w1) > tol {
				t.Fatalf("RoPE pos %d pair %d: (%v, %v), float64 (%v, %v)", c.pos, j, got[i], got[i+1], w0, w1)
			}
		}
	}
}

func TestAttention(t *testing.T) {
	g := newGen(9)
	for _, c := range []struct{ nPos, nHead, nKVHead, headDim int }{
		{1, 1, 1, 1}, {1, 2, 1, 16}, {5, 4, 2, 17}, {13, 6, 2, 40}, {70, 8, 8, 64}, {300, 8, 2, 64},
		{33, 4, 1, 128}, {0, 2, 1, 8}, {20, 3, 3, 100},
	} {
		kvDim := c.nKVHead * c.headDim
		q := g.vec(c.nHead*c.headDim, 1)
		k := g.vec(c.nPos*kvDim+7, 1) // caches may be longer than nPos
		v := g.vec(c.nPos*kvDim+7, 1)
		want := refAttention(q, k, v, c.nPos, c.nHead, c.nKVHead, c.headDim)
		for _, b := range backends() {
			got := make([]float32, len(q))
			b.Attention(got, q, k, v, c.nPos, c.nHead, c.nKVHead, c.headDim)
			requireSame(t, fmt.Sprintf("%s Attention %+v", label(b), c), got, want)
		}
		if c.nPos == 0 {
			continue
		}
		// Against float64.
		got := make([]float32, len(q))
		New(1).Attention(got, q, k, v, c.nPos, c.nHead, c.nKVHead, c.headDim)
		for h := 0; h < c.nHead; h++ {
			kv := h / (c.nHead / c.nKVHead) * c.headDim
			s := make([]float64, c.nPos)
			m := math.Inf(-1)
			for tt := range s {
				for d := 0; d < c.headDim; d++ {
					s[tt] += float64(q[h*c.headDim+d]) * float64(k[tt*kvDim+kv+d])
				}
				s[tt] /= math.Sqrt(float64(c.headDim))
				m = math.Max(m, s[tt])
			}
			var sum float64
			for tt := range s {
				s[tt] = math.Exp(s[tt] - m)
				sum += s[tt]
			}
			for d := 0; d < c.headDim; d++ {
				var want, mag float64
				for tt := range s {
					want += s[tt] / sum * float64(v[tt*kvDim+kv+d])
					mag += s[tt] / sum * math.Abs(float64(v[tt*kvDim+kv+d]))
				}
				if math.Abs(float64(got[h*c.headDim+d])-want) > 1e-5*mag+1e-30 {
					t.Fatalf("Attention %+v head %d [%d] = %v, float64 %v", c, h, d, got[h*c.headDim+d], want)
				}
			}
		}
	}
}

func TestAdd(t *testing.T) {
	g := newGen(10)
	for _, n := range []int{0, 1, 9, 16, 33, 40000} {
		a := g.vec(n, 1)
		b := g.vec(n, 1)
		if n > 20 {
			a, b = g.withSpecials(a), g.withSpecials(b)
		}
		want := make([]float32, n)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		for _, be := range backends() {
			got := make([]float32, n)
			be.Add(got, a, b)
			requireSame(t, fmt.Sprintf("%s Add %d", label(be), n), got, want)
		}
	}
}

// TestThreadCounts runs calls big enough to be split between goroutines
// with 1, 2, 3 and 8 threads and requires identical bits.
func TestThreadCounts(t *testing.T) {
	g := newGen(13)
	type call struct {
		name string
		run  func(b *CPU) []float32
	}
	var calls []call
	for _, typ := range []backend.DType{backend.F32, backend.F16, backend.Q8_0} {
		w := g.weight(typ, 197, 320)
		x := g.vec(5*320, 1)
		calls = append(calls, call{"MatMul " + typ.String(), func(b *CPU) []float32 {
			out := make([]float32, 5*197)
			b.MatMul(out, w, x, 5)
			return out
		}})
	}
	q, k, v := g.vec(16*64, 1), g.vec(200*4*64, 1), g.vec(200*4*64, 1)
	calls = append(calls, call{"Attention", func(b *CPU) []float32 {
		out := make([]float32, 16*64)
		b.Attention(out, q, k, v, 200, 16, 4, 64)
		return out
	}})
	xs, ws := g.vec(50*1024, 2), g.vec(1024, 1)
	calls = append(calls, call{"RMSNorm", func(b *CPU) []float32 {
		out := make([]float32, len(xs))
		b.RMSNorm(out, xs, ws, 1e-6)
		return out
	}})
	gate, up := g.vec(9000, 3), g.vec(9000, 1)
	calls = append(calls, call{"SwiGLU", func(b *CPU) []float32 {
		out := make([]float32, 9000)
		b.SwiGLU(out, gate, up)
		return out
	}})
	for _, c := range calls {
		for _, k := range availableKernels() {
			want := c.run(newCPU(1, k))
			for _, th := range []int{2, 3, 8} {
				requireSame(t, fmt.Sprintf("%s %s with %d threads", c.name, k.name, th), c.run(newCPU(th, k)), want)
			}
		}
	}
}

// The kernels a path uses inside Attention, against the reference
// functions directly.
func TestKernelSoftmax(t *testing.T) {
	g := newGen(11)
	for _, k := range availableKernels() {
		for _, n := range []int{1, 2, 8, 15, 16, 17, 31, 32, 100, 1025} {
			for _, special := range []bool{false, true} {
				x := g.vec(n, 8)
				if special && n > 2 {
					x[g.r.IntN(n)] = float32(math.Inf(-1))
					x[g.r.IntN(n)] = float32(math.Copysign(0, -1))
					x[g.r.IntN(n)] = -200
				}
				want := append([]float32(nil), x...)
				backend.Softmax(want)
				got := append([]float32(nil), x...)
				k.softmax(got)
				requireSame(t, fmt.Sprintf("%s softmax %d", k.name, n), got, want)
			}
		}
		// NaN and +Inf: all NaN, as in the reference.
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
			x := g.vec(40, 1)
			x[17] = bad
			want := append([]float32(nil), x...)
			backend.Softmax(want)
			k.softmax(x)
			requireSame(t, k.name+" softmax non-finite", x, want)
		}
	}
}

func TestPanics(t *testing.T) {
	b := New(1)
	w := &backend.Weight{Type: backend.F32, Rows: 2, Cols: 3, Data: make([]byte, 24)}
	for name, f := range map[string]func(){
		"MatMul short x":   func() { b.MatMul(make([]float32, 2), w, make([]float32, 2), 1) },
		"MatMul short out": func() { b.MatMul(make([]float32, 1), w, make([]float32, 3), 1) },
		"MatMul bad weight": func() {
			b.MatMul(make([]float32, 2), &backend.Weight{Type: backend.F32, Rows: 2, Cols: 3}, make([]float32, 3), 1)
		},
		"Row out of range": func() { b.Row(make([]float32, 3), w, 2) },
		"RMSNorm":          func() { b.RMSNorm(make([]float32, 5), make([]float32, 5), make([]float32, 2), 1e-5) },
		"SwiGLU":           func() { b.SwiGLU(make([]float32, 3), make([]float32, 3), make([]float32, 2)) },
		"RoPE odd":         func() { b.RoPE(make([]float32, 6), 1, 3, 10000) },
		"Attention heads":  func() { b.Attention(make([]float32, 12), make([]float32, 12), nil, nil, 0, 3, 2, 4) },
		"Attention short kv": func() {
			b.Attention(make([]float32, 8), make([]float32, 8), make([]float32, 7), make([]float32, 8), 2, 2, 1, 4)
		},
		"Add": func() { b.Add(make([]float32, 3), make([]float32, 3), make([]float32, 4)) },
		"MatMul Q8_0 48 cols": func() {
			b.MatMul(make([]float32, 1), &backend.Weight{Type: backend.Q8_0, Rows: 1, Cols: 48, Data: make([]byte, 51)}, make([]float32, 48), 1)
		},
		"MatMul negative n":    func() { b.MatMul(nil, w, nil, -1) },
		"Row wrong out length": func() { b.Row(make([]float32, 2), w, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
