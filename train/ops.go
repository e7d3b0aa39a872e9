package train

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// The layers' forward and backward passes. Matrix products go through
// the runtime's backend (its mycel-rt/1 dot products, which give the same
// bits on every code path and thread count); everything else is plain Go
// that computes each output on one goroutine in a fixed order, so a step
// gives the same bits whatever the number of threads.

// weightOf views x (rows×cols, row-major) as a backend weight without
// copying. The backend reads F32 data as little-endian, which is the
// memory order of every machine mycel builds for (amd64, arm64).
func weightOf(x []float32, rows, cols int) *backend.Weight {
	var data []byte
	if len(x) > 0 {
		data = unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
	}
	return &backend.Weight{Type: backend.F32, Rows: rows, Cols: cols, Data: data[:4*rows*cols]}
}

// mm sets out[i*m+j] = Dot(row i of a, row j of b) for a n×k and b m×k:
// A·Bᵀ. Every product of the trainer is one of these, with transposes
// materialized where needed (they cost O(n·k), the product O(n·m·k)).
func mm(be backend.Backend, out, a []float32, n int, b []float32, m, k int) {
	be.MatMul(out[:n*m], weightOf(b, m, k), a[:n*k], n)
}

// transpose writes the cols×rows transpose of x (rows×cols) into out, in
// tiles that stay in cache.
func transpose(out, x []float32, rows, cols int) {
	const tile = 32
	for r0 := 0; r0 < rows; r0 += tile {
		r1 := min(r0+tile, rows)
		for c0 := 0; c0 < cols; c0 += tile {
			c1 := min(c0+tile, cols)
			for r := r0; r < r1; r++ {
				row := x[r*cols : (r+1)*cols]
				for c := c0; c < c1; c++ {
					out[c*rows+r] = row[c]
				}
			}
		}
	}
}

// parallelFor runs f(worker, i) for i in [0, n) on up to threads
// goroutines. Which worker runs which i varies; callers make each i's
// result independent of that (worker only picks scratch space).
func parallelFor(threads, n int, f func(worker, i int)) {
	threads = max(1, min(threads, n))
	if threads == 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(w, i)
			}
		})
	}
	wg.Wait()
}

// chunks splits [0, n) into pieces of about grain for parallelFor.
func chunks(threads, n, grain int, f func(lo, hi int)) {
	parallelFor(threads, (n+grain-1)/grain, func(_, c int) {
		f(c*grain, min(n, (c+1)*grain))
	})
}

// rmsInv returns 1/sqrt(mean(x²)+eps) exactly as the runtime's RMSNorm
// computes it.
func rmsInv(x []float32, eps float32) float32 {
	m := backend.Dot(x, x) / float32(len(x))
	return 1 / detmath.Sqrt32(m+eps)
}

// rmsnormBack computes, for rows of d values, the gradients of y =
// x·inv·w: dx (overwritten) and dw (accumulated, rows in order).
// With gw = dy⊙w and inv = 1/rms(x): dx = inv·gw − x·inv³·(gw·x)/d.
func rmsnormBack(threads int, dx, dw, dy, x, w []float32, eps float32) {
	d := len(w)
	n := len(x) / d
	chunks(threads, n, 16, func(lo, hi int) {
		gw := make([]float32, d)
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			inv := rmsInv(xr, eps)
			for i := range gw {
				gw[i] = dyr[i] * w[i]
			}
			s := backend.Dot(gw, xr)
			c := float32(float32(inv*inv)*inv) * s / float32(d)
			for i := range dxr {
				dxr[i] = float32(inv*gw[i]) - float32(xr[i]*c)
			}
		}
	})
	// dw sums over rows: split by column so each sum runs in row order.
	chunks(threads, d, 64, func(lo, hi int) {
		for r := 0; r < n; r++ {
			xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
			inv := rmsInv(xr, eps)
			for i := lo; i < hi; i++ {
				dw[i] += float32(float32(dyr[i]*xr[i]) * inv)
			}
		}
	})
}

// swigluBack computes the gradients of a = SiLU(g)·u: with s = σ(g),
// du = da·g·s and dg = da·u·s·(1 + g·(1−s)).
func swigluBack(threads int, dg, du, da, g, u []float32) {
	chunks(threads, len(da), 4096, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gi := g[i]
			s := 1 / (1 + detmath.Exp32(-gi))
			silu := gi * s
			du[i] = da[i] * silu
			dg[i] = float32(da[i]*u[i]) * float32(s*(1+float32(gi*(1-s))))
		}
	})
}

// ropeTable holds cos and sin of every position and pair, as
// backend.RoPECosSin computes them.
type ropeTable struct {
	half     int
	cos, sin []float32 // positions × half
}

func newRopeTable(positions, headDim int, base float64) *ropeTable {
	t := &ropeTable{half: headDim / 2, cos: make([]float32, positions*headDim/2), sin: make([]float32, positions*headDim/2)}
	f := backend.RoPEFreqs(headDim, base)
	for p := 0; p < positions; p++ {
		backend.RoPEAngles(t.cos[p*t.half:(p+1)*t.half], t.sin[p*t.half:(p+1)*t.half], p, f)
	}
	return t
}

// rope rotates each head of each row of x (rows of width values) by the
// row's position (row mod seq), forward or, for gradients, backward (the
// transpose of a rotation is the rotation by minus the angle).
func (t *ropeTable) rope(threads int, x []float32, width, seq int, back bool) {
	n := len(x) / width
	hd := 2 * t.half
	chunks(threads, n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			p := r % seq
			cos, sin := t.cos[p*t.half:(p+1)*t.half], t.sin[p*t.half:(p+1)*t.half]
			row := x[r*width : (r+1)*width]
			for h := 0; h < width; h += hd {
				head := row[h : h+hd]
				for i := range cos {
					x0, x1 := head[2*i], head[2*i+1]
					if back {
						head[2*i] = float32(x0*cos[i]) + float32(x1*sin[i])
						head[2*i+1] = float32(x1*cos[i]) - float32(x0*sin[i])
					} else {
						head[2*i] = float32(x0*cos[i]) - float32(x1*sin[i])
						head[2*i+1] = float32(x0*sin[i]) + float32(x1*cos[i])
					}
				}
			}
		}
	})
}

// attention is causal grouped-query attention over batches of seq
// positions. Layouts: q is rows × heads×hd, k and v rows × kvHeads×hd,
// p (the saved probabilities) batch × heads × seq × seq.
type attention struct {
	heads, kvHeads, hd, seq int
	threads                 int
	be1                     []backend.Backend // one single-threaded backend per worker
	scratch                 [][]float32       // one per worker
}

func newAttention(c Config, threads int, newBackend func(threads int) backend.Backend) *attention {
	a := &attention{heads: c.Heads, kvHeads: c.KVHeads, hd: c.HeadDim(), seq: c.Context, threads: threads}
	t, hd := a.seq, a.hd
	for range threads {
		a.be1 = append(a.be1, newBackend(1))
		// Q, K, V, dO, dQ, dK, dV, Kᵀ/Vᵀ/… (hd×t each) and two t×t.
		a.scratch = append(a.scratch, make([]float32, 9*t*hd+2*t*t))
	}
	return a
}

// gather copies head h (of width hd at column h*hd) of rows [b*t, b*t+t)
// of x (row width w) into dst (t×hd); scatter does the reverse; scatterAdd
// adds.
func gather(dst, x []float32, b, t, w, col, hd int) {
	for i := 0; i < t; i++ {
		copy(dst[i*hd:(i+1)*hd], x[(b*t+i)*w+col:])
	}
}

func scatter(x, src []float32, b, t, w, col, hd int) {
	for i := 0; i < t; i++ {
		copy(x[(b*t+i)*w+col:(b*t+i)*w+col+hd], src[i*hd:(i+1)*hd])
	}
}

// forward computes out (rows × heads×hd) and saves p.
func (a *attention) forward(out, p, q, k, v []float32, batch int) {
	t, hd := a.seq, a.hd
	qw, kw := a.heads*hd, a.kvHeads*hd
	group := a.heads / a.kvHeads
	scale := backend.AttentionScale(hd)
	parallelFor(a.threads, batch*a.kvHeads, func(w, task int) {
		be, s := a.be1[w], a.scratch[w]
		b, g := task/a.kvHeads, task%a.kvHeads
		qh, kg, vT, oh, vg := s[:t*hd], s[t*hd:2*t*hd], s[2*t*hd:3*t*hd], s[3*t*hd:4*t*hd], s[4*t*hd:5*t*hd]
		gather(kg, k, b, t, kw, g*hd, hd)
		gather(vg, v, b, t, kw, g*hd, hd)
		transpose(vT, vg, t, hd)
		for h := g * group; h < (g+1)*group; h++ {
			ph := p[(b*a.heads+h)*t*t : (b*a.heads+h+1)*t*t]
			gather(qh, q, b, t, qw, h*hd, hd)
			mm(be, ph, qh, t, kg, t, hd)
			for i := 0; i < t; i++ {
				row := ph[i*t : (i+1)*t]
				for j := 0; j <= i; j++ {
					row[j] *= scale
				}
				backend.Softmax(row[:i+1])
				clear(row[i+1:])
			}
			mm(be, oh, ph, t, vT, hd, t)
			scatter(out, oh, b, t, qw, h*hd, hd)
		}
	})
}

// backward computes dq, dk and dv (overwritten) from dout:
// dP = dO·Vᵀ; dS = P⊙(dP − rowsum(P⊙dP))·scale; dQ = dS·K; dK = Σ_h dSᵀ·Q;
// dV = Σ_h Pᵀ·dO, the sums over the heads of a group in head order.
func (a *attention) backward(dq, dk, dv, dout, p, q, k, v []float32, batch int) {
	t, hd := a.seq, a.hd
	qw, kw := a.heads*hd, a.kvHeads*hd
	group := a.heads / a.kvHeads
	scale := backend.AttentionScale(hd)
	parallelFor(a.threads, batch*a.kvHeads, func(w, task int) {
		be, s := a.be1[w], a.scratch[w]
		b, g := task/a.kvHeads, task%a.kvHeads
		th := t * hd
		qh, kg, vg, doh := s[:th], s[th:2*th], s[2*th:3*th], s[3*th:4*th]
		dqh, dkg, dvg, tmp := s[4*th:5*th], s[5*th:6*th], s[6*th:7*th], s[7*th:8*th]
		xT := s[8*th : 9*th]
		dp, sT := s[9*th:9*th+t*t], s[9*th+t*t:9*th+2*t*t]
		gather(kg, k, b, t, kw, g*hd, hd)
		gather(vg, v, b, t, kw, g*hd, hd)
		for h := g * group; h < (g+1)*group; h++ {
			ph := p[(b*a.heads+h)*t*t : (b*a.heads+h+1)*t*t]
			gather(qh, q, b, t, qw, h*hd, hd)
			gather(doh, dout, b, t, qw, h*hd, hd)
			// dV += Pᵀ·dO
			transpose(sT, ph, t, t)
			transpose(xT, doh, t, hd)
			mm(be, tmp, sT, t, xT, hd, t)
			addInto(dvg, tmp, h == g*group)
			// dS
			mm(be, dp, doh, t, vg, t, hd)
			for i := 0; i < t; i++ {
				pr, dr := ph[i*t:i*t+i+1], dp[i*t:(i+1)*t]
				dot := backend.Dot(pr, dr[:i+1])
				for j := range pr {
					dr[j] = float32(pr[j]*(dr[j]-dot)) * scale
				}
				clear(dr[i+1:])
			}
			// dQ = dS·K
			transpose(xT, kg, t, hd)
			mm(be, dqh, dp, t, xT, hd, t)
			scatter(dq, dqh, b, t, qw, h*hd, hd)
			// dK += dSᵀ·Q
			transpose(sT, dp, t, t)
			transpose(xT, qh, t, hd)
			mm(be, tmp, sT, t, xT, hd, t)
			addInto(dkg, tmp, h == g*group)
		}
		scatter(dk, dkg, b, t, kw, g*hd, hd)
		scatter(dv, dvg, b, t, kw, g*hd, hd)
	})
}

// addInto sets dst = src when first, else dst += src.
func addInto(dst, src []float32, first bool) {
	if first {
		copy(dst, src)
		return
	}
	for i := range dst {
		dst[i] += src[i]
	}
}
