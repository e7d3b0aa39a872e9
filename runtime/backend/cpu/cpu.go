package cpu

//go:generate go run gen_tiles.go

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// CPU runs the kernels on the processor. It is safe for concurrent use.
type CPU struct {
	threads int
	k       *kernels
	// rope keeps the last RoPE frequencies (they depend on the model
	// only; Pow is the costly part of a RoPE call).
	rope atomic.Pointer[ropeFreqs]

	poolOnce sync.Once
	pool     *pool
	poolMu   sync.Mutex // held by the call using the pool
}

type ropeFreqs struct {
	headDim int
	base    float64
	f       []float64
}

var _ backend.Backend = (*CPU)(nil)

// New returns the CPU backend with its fastest code path for this
// processor, using up to threads goroutines per call (threads <= 0:
// runtime.GOMAXPROCS(0)).
func New(threads int) backend.Backend {
	return newCPU(threads, availableKernels()[0])
}

func newCPU(threads int, k *kernels) *CPU {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &CPU{threads: threads, k: k}
}

// Name returns "cpu/" and the code path: portable, avx2 or avx512.
func (c *CPU) Name() string { return "cpu/" + c.k.name }

// Threads returns how many goroutines a call may use.
func (c *CPU) Threads() int { return c.threads }

// kernels is one code path: the inner loops that the CPU methods split
// between threads. All of a path's functions are exact implementations
// of the reference arithmetic.
type kernels struct {
	name string
	// matF32 sets out[t*ldo+r] = Dot(w[r*ldw:][:k], x[t*ldx:][:k]) for
	// r < rows, t < n.
	matF32 func(out []float32, ldo int, w []float32, ldw int, x []float32, ldx int, rows, k, n int)
	// matQ8 sets out[t*ldo+r] = DotQ8(row r of w, xq[t*k:][:k],
	// xd[t*k/32:][:k/32]) for r < rows, t < n; rows are rowBytes apart.
	matQ8 func(out []float32, ldo int, w []byte, rowBytes int, xq []int8, xd []float32, rows, k, n int)
	// f16 converts len(dst) binary16 values from src exactly.
	f16 func(dst []float32, src []byte)
	// softmax is backend.Softmax.
	softmax func(x []float32)
	// swiglu sets out[i] = float32(SiLU(g[i]) * u[i]).
	swiglu func(out, g, u []float32)
	// rmsnorm normalizes one vector: len(x) == len(w) == len(out).
	rmsnorm func(out, x, w []float32, eps float32)
	// add sets out[i] = a[i] + b[i].
	add func(out, a, b []float32)
	// scale sets x[i] = float32(x[i] * s).
	scale func(x []float32, s float32)
	// weightedSum sets out[d] = Σ float32(p[t]*v[t*ldv+d]) over t in
	// increasing order from +0, for d < len(out).
	weightedSum func(out, p, v []float32, ldv int)
}

// parallelMinWork is the work (in multiply-adds) below which a call runs
// on one goroutine: starting goroutines costs microseconds.
const parallelMinWork = 1 << 15

// parallel splits [0, n) into up to c.threads contiguous ranges whose
// bounds are multiples of grain (except at n) and runs f on each, the
// first on the calling goroutine and the others on the CPU's helpers (or
// on new goroutines while another call holds the helpers). The split
// decides only who computes which outputs, never how.
func (c *CPU) parallel(n, grain int, work int, f func(lo, hi int)) {
	t := c.threads
	if work < parallelMinWork {
		t = 1
	}
	chunks := (n + grain - 1) / grain
	t = min(t, chunks)
	if t <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	fs := make([]func(), 0, t)
	for i := 0; i < t; i++ {
		lo, hi := min(n, chunks*i/t*grain), min(n, chunks*(i+1)/t*grain)
		if lo < hi {
			fs = append(fs, func() { f(lo, hi) })
		}
	}
	c.poolOnce.Do(func() {
		c.pool = newPool(c.threads - 1)
		runtime.AddCleanup(c, (*pool).stop, c.pool)
	})
	if c.poolMu.TryLock() {
		defer c.poolMu.Unlock()
		c.pool.run(fs)
		return
	}
	var wg sync.WaitGroup
	for _, g := range fs[1:] {
		wg.Go(g)
	}
	fs[0]()
	wg.Wait()
}

// MatMul sets out[t*w.Rows+r] to row r of w times x[t*w.Cols:][:w.Cols],
// for t < n (backend.Dot; backend.DotQ8 for Q8_0).
func (c *CPU) MatMul(out []float32, w *backend.Weight, x []float32, n int) {
	if err := w.Check(); err != nil {
		panic(err)
	}
	rows, cols := w.Rows, w.Cols
	if n < 0 || len(x) != n*cols || len(out) != n*rows {
		panic(fmt.Sprintf("cpu: MatMul of %d×%d weight with len(x) = %d, len(out) = %d, n = %d", rows, cols, len(x), len(out), n))
	}
	if n == 0 || rows == 0 {
		return
	}
	if cols == 0 {
		clear(out) // empty dot products are +0
		return
	}
	work := rows * cols * n
	switch w.Type {
	case backend.F32:
		wf := float32s(w.Data)
		c.parallel(rows, 48, work, func(lo, hi int) {
			c.k.matF32(out[lo:], rows, wf[lo*cols:], cols, x, cols, hi-lo, cols, n)
		})
	case backend.F16:
		c.parallel(rows, 48, work, func(lo, hi int) {
			// Convert a few rows at a time into float32 (exact), then run
			// the float32 kernel on them.
			chunk := max(4, min(hi-lo, (64<<10)/(4*cols)))
			scratch := make([]float32, chunk*cols)
			for r := lo; r < hi; r += chunk {
				m := min(chunk, hi-r)
				c.k.f16(scratch[:m*cols], w.Data[2*r*cols:2*(r+m)*cols])
				c.k.matF32(out[r:], rows, scratch, cols, x, cols, m, cols, n)
			}
		})
	case backend.Q8_0:
		xq := make([]int8, n*cols)
		xd := make([]float32, n*cols/backend.Q8Block)
		backend.QuantizeQ8(x, xq, xd)
		rb := w.Type.RowBytes(cols)
		c.parallel(rows, 48, work, func(lo, hi int) {
			c.k.matQ8(out[lo:], rows, w.Data[lo*rb:], rb, xq, xd, hi-lo, cols, n)
		})
	}
}

// Row copies row r of w into out, converted to float32: exactly for F32
// and F16, float32(d*float32(q)) for Q8_0.
func (c *CPU) Row(out []float32, w *backend.Weight, r int) {
	if err := w.Check(); err != nil {
		panic(err)
	}
	if r < 0 || r >= w.Rows || len(out) != w.Cols {
		panic(fmt.Sprintf("cpu: Row %d of %d×%d weight into %d", r, w.Rows, w.Cols, len(out)))
	}
	rb := w.Type.RowBytes(w.Cols)
	row := w.Data[r*rb : (r+1)*rb]
	switch w.Type {
	case backend.F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
		}
	case backend.F16:
		c.k.f16(out, row)
	case backend.Q8_0:
		for b := 0; b < w.Cols/backend.Q8Block; b++ {
			blk := row[b*backend.Q8BlockBytes : (b+1)*backend.Q8BlockBytes]
			d := backend.F16ToF32(binary.LittleEndian.Uint16(blk))
			for i := 0; i < backend.Q8Block; i++ {
				out[b*backend.Q8Block+i] = float32(d * float32(int8(blk[2+i])))
			}
		}
	}
}

// RMSNorm normalizes each len(weight) vector of x into out: m =
// Dot(x, x)/float32(n), r = Sqrt32(m + eps), inv = 1/r, out[i] =
// float32(float32(x[i]*inv) * weight[i]).
func (c *CPU) RMSNorm(out, x, weight []float32, eps float32) {
	d := len(weight)
	if d == 0 || len(x)%d != 0 || len(out) != len(x) {
		panic(fmt.Sprintf("cpu: RMSNorm of %d values with %d weights into %d", len(x), d, len(out)))
	}
	c.parallel(len(x)/d, 1, len(x), func(lo, hi int) {
		for v := lo; v < hi; v++ {
			c.k.rmsnorm(out[v*d:(v+1)*d], x[v*d:(v+1)*d], weight, eps)
		}
	})
}

// SwiGLU sets out[i] = float32(SiLU(gate[i]) * up[i]), SiLU(g) =
// g / (1 + Exp32(-g)).
func (c *CPU) SwiGLU(out, gate, up []float32) {
	if len(gate) != len(out) || len(up) != len(out) {
		panic(fmt.Sprintf("cpu: SwiGLU lengths %d, %d, %d", len(out), len(gate), len(up)))
	}
	c.parallel(len(out), 256, 8*len(out), func(lo, hi int) {
		c.k.swiglu(out[lo:hi], gate[lo:hi], up[lo:hi])
	})
}

// RoPE rotates the adjacent pairs (x[2i], x[2i+1]) of each head of x by
// the angles of backend.RoPECosSin (frequencies kept between calls): x0' = float32(x0*c) - float32(x1*s),
// x1' = float32(x0*s) + float32(x1*c).
func (c *CPU) RoPE(x []float32, pos int, headDim int, base float64) {
	if headDim <= 0 || headDim%2 != 0 || len(x)%headDim != 0 {
		panic(fmt.Sprintf("cpu: RoPE of %d values with head dimension %d", len(x), headDim))
	}
	fr := c.rope.Load()
	if fr == nil || fr.headDim != headDim || math.Float64bits(fr.base) != math.Float64bits(base) {
		fr = &ropeFreqs{headDim: headDim, base: base, f: backend.RoPEFreqs(headDim, base)}
		c.rope.Store(fr)
	}
	cs := make([]float32, headDim)
	cos, sin := cs[:headDim/2], cs[headDim/2:]
	backend.RoPEAngles(cos, sin, pos, fr.f)
	for h := 0; h < len(x); h += headDim {
		head := x[h : h+headDim]
		for i := range cos {
			x0, x1 := head[2*i], head[2*i+1]
			head[2*i] = float32(x0*cos[i]) - float32(x1*sin[i])
			head[2*i+1] = float32(x0*sin[i]) + float32(x1*cos[i])
		}
	}
}

// Attention computes one position's attention for every head: scores[t]
// = float32(Dot(q_h, k[t]) * scale) with scale = backend.AttentionScale,
// softmax over t, out_h[d] = Σ float32(p[t]*v[t][d]) in increasing t.
// Head h reads kv head h/(nHead/nKVHead).
func (c *CPU) Attention(out, q, k, v []float32, nPos, nHead, nKVHead, headDim int) {
	if nHead <= 0 || nKVHead <= 0 || nHead%nKVHead != 0 || headDim <= 0 || nPos < 0 {
		panic(fmt.Sprintf("cpu: Attention with %d heads, %d kv heads, head dimension %d, %d positions", nHead, nKVHead, headDim, nPos))
	}
	kvDim := nKVHead * headDim
	if len(q) != nHead*headDim || len(out) != nHead*headDim || len(k) < nPos*kvDim || len(v) < nPos*kvDim {
		panic(fmt.Sprintf("cpu: Attention lengths q %d, out %d, k %d, v %d for %d heads of %d, %d positions of %d", len(q), len(out), len(k), len(v), nHead, headDim, nPos, kvDim))
	}
	group := nHead / nKVHead
	scale := backend.AttentionScale(headDim)
	c.parallel(nHead, 1, 2*nHead*nPos*headDim, func(lo, hi int) {
		scores := make([]float32, nPos)
		for h := lo; h < hi; h++ {
			kv := h / group * headDim
			qh := q[h*headDim : (h+1)*headDim]
			oh := out[h*headDim : (h+1)*headDim]
			if nPos == 0 {
				clear(oh)
				continue
			}
			c.k.matF32(scores, 1, k[kv:], kvDim, qh, headDim, nPos, headDim, 1)
			c.k.scale(scores, scale)
			c.k.softmax(scores)
			c.k.weightedSum(oh, scores, v[kv:], kvDim)
		}
	})
}

// Add sets out[i] = a[i] + b[i].
func (c *CPU) Add(out, a, b []float32) {
	if len(a) != len(out) || len(b) != len(out) {
		panic(fmt.Sprintf("cpu: Add lengths %d, %d, %d", len(out), len(a), len(b)))
	}
	c.parallel(len(out), 1024, len(out), func(lo, hi int) {
		c.k.add(out[lo:hi], a[lo:hi], b[lo:hi])
	})
}

// float32s returns the little-endian float32 values in b: a view of b
// itself when the machine is little-endian and b is 4-byte aligned (the
// usual case: GGUF aligns tensor data to 32 bytes), else a decoded copy.
func float32s(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
	}
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// rmsnormWith is the RMSNorm of one vector given a dot product and the
// final elementwise product: the scalar steps are the same on every path.
func rmsnormWith(dot func(a, b []float32) float32, mulMul func(out, x []float32, inv float32, w []float32), out, x, w []float32, eps float32) {
	m := dot(x, x) / float32(len(x))
	r := detmath.Sqrt32(m + eps)
	inv := 1 / r
	mulMul(out, x, inv, w)
}
