//go:build goexperiment.simd && amd64

package cpu

import (
	"math"
	"simd/archsimd"
	"unsafe"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// avx512 is the AVX-512 code path: Float32x16 accumulators, one per
// output, and the 16-row Q8_0 kernel.
var avx512 = kernels{
	name:        "avx512",
	matF32:      matF32AVX512,
	matQ8:       matQ8AVX512,
	f16:         f16AVX512,
	softmax:     softmaxAVX512,
	swiglu:      swigluAVX512,
	rmsnorm:     rmsnormAVX512,
	add:         addAVX512,
	scale:       scaleAVX512,
	weightedSum: weightedSumAVX512,
}

// 3 rows × 2 vectors for several x vectors (6 accumulators, 6 products
// and 5 loads fit the 15 registers); 4 rows for one vector.
var shapes512 = tileShapes{t: &tiles512, r: 3, c: 2, vec: 4}

func matF32AVX512(out []float32, ldo int, w []float32, ldw int, x []float32, ldx int, rows, k, n int) {
	matF32Tiled(&shapes512, out, ldo, w, ldw, x, ldx, rows, k, n)
}

func dotAVX512(a, b []float32) float32 { return dotTile(tile512x1x1, a, b) }

func bc16(v float32) archsimd.Float32x16 { return archsimd.BroadcastFloat32x16(v) }

// exp32x16 is detmath.Exp32 in sixteen lanes: the same operations on the
// same constants in the same order, so every lane has the scalar's bits.
// NaN lanes return their input.
func exp32x16(x archsimd.Float32x16) archsimd.Float32x16 {
	xc := x.Max(bc16(detmath.Exp32Lo)).Min(bc16(detmath.Exp32Hi))
	t := xc.Mul(bc16(detmath.Exp32Log2e))
	k := t.Add(bc16(detmath.Exp32Round)).Sub(bc16(detmath.Exp32Round))
	r := xc.Sub(k.Mul(bc16(detmath.Exp32Ln2Hi)))
	r = r.Sub(k.Mul(bc16(detmath.Exp32Ln2Lo)))
	z := r.Mul(r)
	p := bc16(detmath.Exp32P0).Mul(r).Add(bc16(detmath.Exp32P1))
	p = p.Mul(r).Add(bc16(detmath.Exp32P2))
	p = p.Mul(r).Add(bc16(detmath.Exp32P3))
	p = p.Mul(r).Add(bc16(detmath.Exp32P4))
	p = p.Mul(r).Add(bc16(detmath.Exp32P5))
	p = p.Mul(z).Add(r).Add(bc16(1))
	n := k.ConvertToInt32()
	n1 := n.ShiftAllRight(1)
	n2 := n.Sub(n1)
	bias := archsimd.BroadcastInt32x16(127)
	s1 := n1.Add(bias).ShiftAllLeft(23).AsFloat32x16()
	s2 := n2.Add(bias).ShiftAllLeft(23).AsFloat32x16()
	e := p.Mul(s1).Mul(s2)
	return x.Merge(e, x.IsNaN())
}

// exp32AVX512 applies exp32x16 to x in place (for the comparison with
// detmath.Exp32 in the tests); the tail uses the scalar function.
func exp32AVX512(x []float32) {
	i := 0
	for ; i+16 <= len(x); i += 16 {
		exp32x16(archsimd.LoadFloat32x16Slice(x[i:])).StoreSlice(x[i:])
	}
	for ; i < len(x); i++ {
		x[i] = detmath.Exp32(x[i])
	}
}

func softmaxAVX512(x []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	// The maximum: exact in any order, except which zero or which NaN
	// wins, and neither changes a result (see backend.Softmax).
	m := x[0]
	i := 0
	if n >= 16 {
		vm := archsimd.LoadFloat32x16Slice(x)
		for i = 16; i+16 <= n; i += 16 {
			vm = vm.Max(archsimd.LoadFloat32x16Slice(x[i:]))
		}
		var lanes [16]float32
		vm.Store(&lanes)
		for _, v := range lanes {
			if v > m {
				m = v
			}
		}
	}
	for ; i < n; i++ {
		if x[i] > m {
			m = x[i]
		}
	}
	// e[i] = Exp32(x[i] - m), summed in sixteen lanes.
	vm := bc16(m)
	var acc archsimd.Float32x16
	n16 := n &^ 15
	for i = 0; i < n16; i += 16 {
		e := exp32x16(archsimd.LoadFloat32x16Slice(x[i:]).Sub(vm))
		e.StoreSlice(x[i:])
		acc = acc.Add(e)
	}
	var lanes [16]float32
	acc.Store(&lanes)
	for i = n16; i < n; i++ {
		x[i] = detmath.Exp32(x[i] - m)
		lanes[i-n16] += x[i]
	}
	s := backend.ReduceLanes(&lanes)
	vs := bc16(s)
	for i = 0; i < n16; i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).Div(vs).StoreSlice(x[i:])
	}
	for i = n16; i < n; i++ {
		x[i] /= s
	}
}

func swigluAVX512(out, g, u []float32) {
	n := len(g)
	u = u[:n]
	out = out[:n]
	one := bc16(1)
	sign := archsimd.BroadcastInt32x16(math.MinInt32)
	i := 0
	for ; i+16 <= n; i += 16 {
		gv := archsimd.LoadFloat32x16Slice(g[i:])
		e := exp32x16(gv.AsInt32x16().Xor(sign).AsFloat32x16()) // Exp32(-g)
		gv.Div(one.Add(e)).Mul(archsimd.LoadFloat32x16Slice(u[i:])).StoreSlice(out[i:])
	}
	for ; i < n; i++ {
		out[i] = float32(backend.SiLU(g[i]) * u[i])
	}
}

func rmsnormAVX512(out, x, w []float32, eps float32) {
	rmsnormWith(dotAVX512, mulMulAVX512, out, x, w, eps)
}

func mulMulAVX512(out, x []float32, inv float32, w []float32) {
	n := len(x)
	w = w[:n]
	out = out[:n]
	vi := bc16(inv)
	i := 0
	for ; i+16 <= n; i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).Mul(vi).Mul(archsimd.LoadFloat32x16Slice(w[i:])).StoreSlice(out[i:])
	}
	for ; i < n; i++ {
		out[i] = float32(float32(x[i]*inv) * w[i])
	}
}

func addAVX512(out, a, b []float32) {
	n := len(a)
	b = b[:n]
	out = out[:n]
	i := 0
	for ; i+16 <= n; i += 16 {
		archsimd.LoadFloat32x16Slice(a[i:]).Add(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(out[i:])
	}
	for ; i < n; i++ {
		out[i] = a[i] + b[i]
	}
}

func scaleAVX512(x []float32, s float32) {
	vs := bc16(s)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).Mul(vs).StoreSlice(x[i:])
	}
	for ; i < len(x); i++ {
		x[i] = float32(x[i] * s)
	}
}

// weightedSumAVX512 keeps one accumulator per output element (lane =
// element), four vectors of them at a time, and adds p[t]·v[t] in
// increasing t.
func weightedSumAVX512(out, p, v []float32, ldv int) {
	nd, nt := len(out), len(p)
	if nt > 0 && len(v) < (nt-1)*ldv+nd {
		panic("cpu: weightedSum bounds")
	}
	d := 0
	for ; d+64 <= nd; d += 64 {
		var a0, a1, a2, a3 archsimd.Float32x16
		for t, pt := range p {
			vp := bc16(pt)
			row := v[t*ldv+d : t*ldv+d+64]
			a0 = a0.Add(vp.Mul(archsimd.LoadFloat32x16Slice(row)))
			a1 = a1.Add(vp.Mul(archsimd.LoadFloat32x16Slice(row[16:])))
			a2 = a2.Add(vp.Mul(archsimd.LoadFloat32x16Slice(row[32:])))
			a3 = a3.Add(vp.Mul(archsimd.LoadFloat32x16Slice(row[48:])))
		}
		a0.StoreSlice(out[d:])
		a1.StoreSlice(out[d+16:])
		a2.StoreSlice(out[d+32:])
		a3.StoreSlice(out[d+48:])
	}
	for ; d < nd; d += 16 {
		e := min(nd, d+16)
		var a archsimd.Float32x16
		for t, pt := range p {
			a = a.Add(bc16(pt).Mul(loadPart16(v[t*ldv+d : t*ldv+e])))
		}
		storePart16(a, out[d:e])
	}
}

// f16x16 converts sixteen binary16 values (in the low halves of h)
// exactly, in integer arithmetic for normal halves (rebias the exponent)
// and as q·2^-24 for subnormal ones (q < 1024 converts exactly, and the
// product is a normal float32: no subnormal operand, which would cost a
// microcode assist); Inf and NaN keep the all-ones exponent. The
// constants come from memory: one load each, where a broadcast of an
// immediate takes three instructions that the compiler does not hoist.
func f16x16(h archsimd.Uint32x16) archsimd.Float32x16 {
	em := h.And(archsimd.LoadUint32x16(&f16EmMask))
	sign := h.And(archsimd.LoadUint32x16(&f16SignMask)).ShiftAllLeft(16)
	bits := em.ShiftAllLeft(13)
	normal := bits.Add(archsimd.LoadUint32x16(&f16Bias))
	sub := em.AsInt32x16().ConvertToFloat32().Mul(archsimd.LoadFloat32x16(&f16SubScale)).AsUint32x16()
	special := bits.Or(archsimd.LoadUint32x16(&f16Inf))
	r := sub.Merge(normal, em.Less(archsimd.LoadUint32x16(&f16SubLimit)))
	r = special.Merge(r, em.GreaterEqual(archsimd.LoadUint32x16(&f16InfLimit)))
	return r.Or(sign).AsFloat32x16()
}

func fill16(v uint32) (a [16]uint32) {
	for i := range a {
		a[i] = v
	}
	return a
}

var (
	f16EmMask   = fill16(0x7fff)
	f16SignMask = fill16(0x8000)
	f16Bias     = fill16(112 << 23)
	f16Inf      = fill16(0x7f800000)
	f16SubLimit = fill16(0x400)
	f16InfLimit = fill16(0x7c00)
	f16SubScale = [16]float32{0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24,
		0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24}
)

func f16AVX512(dst []float32, src []byte) {
	n := len(dst)
	src = src[:2*n]
	i := 0
	for ; i+16 <= n; i += 16 {
		h := archsimd.LoadUint16x16((*[16]uint16)(unsafe.Pointer(&src[2*i])))
		f16x16(h.ExtendToUint32()).StoreSlice(dst[i:])
	}
	for ; i < n; i++ {
		dst[i] = backend.F16ToF32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
	}
}
