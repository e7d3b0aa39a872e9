//go:build goexperiment.simd && amd64

package cpu

import (
	"math"
	"simd/archsimd"
	"unsafe"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// avx2 is the AVX2 code path: each sixteen-lane accumulator is a pair of
// Float32x8 (lanes 0–7 and 8–15). It uses only AVX and AVX2
// instructions (TestAVX2InstructionSet checks the archsimd operations
// it calls).
var avx2 = kernels{
	name:        "avx2",
	matF32:      matF32AVX2,
	matQ8:       matQ8AVX2,
	f16:         f16AVX2,
	softmax:     softmaxAVX2,
	swiglu:      swigluAVX2,
	rmsnorm:     rmsnormAVX2,
	add:         addAVX2,
	scale:       scaleAVX2,
	weightedSum: weightedSumAVX2,
}

// 2 rows × 2 vectors, each half of the lanes in its own pass; 4 rows for
// one vector.
var shapes256 = tileShapes{t: &tiles256, r: 2, c: 2, vec: 4}

func matF32AVX2(out []float32, ldo int, w []float32, ldw int, x []float32, ldx int, rows, k, n int) {
	matF32Tiled(&shapes256, out, ldo, w, ldw, x, ldx, rows, k, n)
}

func dotAVX2(a, b []float32) float32 { return dotTile(tile256x1x1, a, b) }

func bc8(v float32) archsimd.Float32x8 { return archsimd.BroadcastFloat32x8(v) }

// exp32x8 is detmath.Exp32 in eight lanes (see exp32x16).
func exp32x8(x archsimd.Float32x8) archsimd.Float32x8 {
	xc := x.Max(bc8(detmath.Exp32Lo)).Min(bc8(detmath.Exp32Hi))
	t := xc.Mul(bc8(detmath.Exp32Log2e))
	k := t.Add(bc8(detmath.Exp32Round)).Sub(bc8(detmath.Exp32Round))
	r := xc.Sub(k.Mul(bc8(detmath.Exp32Ln2Hi)))
	r = r.Sub(k.Mul(bc8(detmath.Exp32Ln2Lo)))
	z := r.Mul(r)
	p := bc8(detmath.Exp32P0).Mul(r).Add(bc8(detmath.Exp32P1))
	p = p.Mul(r).Add(bc8(detmath.Exp32P2))
	p = p.Mul(r).Add(bc8(detmath.Exp32P3))
	p = p.Mul(r).Add(bc8(detmath.Exp32P4))
	p = p.Mul(r).Add(bc8(detmath.Exp32P5))
	p = p.Mul(z).Add(r).Add(bc8(1))
	n := k.ConvertToInt32()
	n1 := n.ShiftAllRight(1)
	n2 := n.Sub(n1)
	bias := archsimd.BroadcastInt32x8(127)
	s1 := n1.Add(bias).ShiftAllLeft(23).AsFloat32x8()
	s2 := n2.Add(bias).ShiftAllLeft(23).AsFloat32x8()
	e := p.Mul(s1).Mul(s2)
	return x.Merge(e, x.IsNaN())
}

// exp32AVX2 applies exp32x8 to x in place (for the tests).
func exp32AVX2(x []float32) {
	i := 0
	for ; i+8 <= len(x); i += 8 {
		exp32x8(archsimd.LoadFloat32x8Slice(x[i:])).StoreSlice(x[i:])
	}
	for ; i < len(x); i++ {
		x[i] = detmath.Exp32(x[i])
	}
}

func softmaxAVX2(x []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	m := x[0]
	i := 0
	if n >= 8 {
		vm := archsimd.LoadFloat32x8Slice(x)
		for i = 8; i+8 <= n; i += 8 {
			vm = vm.Max(archsimd.LoadFloat32x8Slice(x[i:]))
		}
		var lanes [8]float32
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
	vm := bc8(m)
	var lo, hi archsimd.Float32x8 // lanes 0–7 and 8–15 of Sum
	n16 := n &^ 15
	for i = 0; i < n16; i += 16 {
		e0 := exp32x8(archsimd.LoadFloat32x8Slice(x[i:]).Sub(vm))
		e1 := exp32x8(archsimd.LoadFloat32x8Slice(x[i+8:]).Sub(vm))
		e0.StoreSlice(x[i:])
		e1.StoreSlice(x[i+8:])
		lo = lo.Add(e0)
		hi = hi.Add(e1)
	}
	var lanes [16]float32
	lo.Store((*[8]float32)(lanes[:8]))
	hi.Store((*[8]float32)(lanes[8:]))
	for i = n16; i < n; i++ {
		x[i] = detmath.Exp32(x[i] - m)
		lanes[i-n16] += x[i]
	}
	s := backend.ReduceLanes(&lanes)
	vs := bc8(s)
	n8 := n &^ 7
	for i = 0; i < n8; i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Div(vs).StoreSlice(x[i:])
	}
	for i = n8; i < n; i++ {
		x[i] /= s
	}
}

func swigluAVX2(out, g, u []float32) {
	n := len(g)
	u = u[:n]
	out = out[:n]
	one := bc8(1)
	sign := archsimd.BroadcastInt32x8(math.MinInt32)
	i := 0
	for ; i+8 <= n; i += 8 {
		gv := archsimd.LoadFloat32x8Slice(g[i:])
		e := exp32x8(gv.AsInt32x8().Xor(sign).AsFloat32x8())
		gv.Div(one.Add(e)).Mul(archsimd.LoadFloat32x8Slice(u[i:])).StoreSlice(out[i:])
	}
	for ; i < n; i++ {
		out[i] = float32(backend.SiLU(g[i]) * u[i])
	}
}

func rmsnormAVX2(out, x, w []float32, eps float32) {
	rmsnormWith(dotAVX2, mulMulAVX2, out, x, w, eps)
}

func mulMulAVX2(out, x []float32, inv float32, w []float32) {
	n := len(x)
	w = w[:n]
	out = out[:n]
	vi := bc8(inv)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Mul(vi).Mul(archsimd.LoadFloat32x8Slice(w[i:])).StoreSlice(out[i:])
	}
	for ; i < n; i++ {
		out[i] = float32(float32(x[i]*inv) * w[i])
	}
}

func addAVX2(out, a, b []float32) {
	n := len(a)
	b = b[:n]
	out = out[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8Slice(a[i:]).Add(archsimd.LoadFloat32x8Slice(b[i:])).StoreSlice(out[i:])
	}
	for ; i < n; i++ {
		out[i] = a[i] + b[i]
	}
}

func scaleAVX2(x []float32, s float32) {
	vs := bc8(s)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Mul(vs).StoreSlice(x[i:])
	}
	for ; i < len(x); i++ {
		x[i] = float32(x[i] * s)
	}
}

func weightedSumAVX2(out, p, v []float32, ldv int) {
	nd, nt := len(out), len(p)
	if nt > 0 && len(v) < (nt-1)*ldv+nd {
		panic("cpu: weightedSum bounds")
	}
	d := 0
	for ; d+32 <= nd; d += 32 {
		var a0, a1, a2, a3 archsimd.Float32x8
		for t, pt := range p {
			vp := bc8(pt)
			row := v[t*ldv+d : t*ldv+d+32]
			a0 = a0.Add(vp.Mul(archsimd.LoadFloat32x8Slice(row)))
			a1 = a1.Add(vp.Mul(archsimd.LoadFloat32x8Slice(row[8:])))
			a2 = a2.Add(vp.Mul(archsimd.LoadFloat32x8Slice(row[16:])))
			a3 = a3.Add(vp.Mul(archsimd.LoadFloat32x8Slice(row[24:])))
		}
		a0.StoreSlice(out[d:])
		a1.StoreSlice(out[d+8:])
		a2.StoreSlice(out[d+16:])
		a3.StoreSlice(out[d+24:])
	}
	for ; d < nd; d += 8 {
		e := min(nd, d+8)
		var a archsimd.Float32x8
		for t, pt := range p {
			a = a.Add(bc8(pt).Mul(loadPart8(v[t*ldv+d : t*ldv+e])))
		}
		storePart8(a, out[d:e])
	}
}

// f16x8 is f16x16 in eight lanes.
func f16x8(h archsimd.Uint32x8) archsimd.Float32x8 {
	em := h.And(archsimd.BroadcastUint32x8(0x7fff))
	sign := h.And(archsimd.BroadcastUint32x8(0x8000)).ShiftAllLeft(16)
	bits := em.ShiftAllLeft(13)
	normal := bits.Add(archsimd.BroadcastUint32x8(112 << 23))
	sub := em.AsInt32x8().ConvertToFloat32().Mul(bc8(0x1p-24)).AsUint32x8()
	special := bits.Or(archsimd.BroadcastUint32x8(0x7f800000))
	// Signed compares (AVX2 has no unsigned ones): em is at most 0x7fff.
	emi := em.AsInt32x8()
	r := sub.Merge(normal, archsimd.BroadcastInt32x8(0x400).Greater(emi))
	r = special.Merge(r, emi.Greater(archsimd.BroadcastInt32x8(0x7bff)))
	return r.Or(sign).AsFloat32x8()
}

func f16AVX2(dst []float32, src []byte) {
	n := len(dst)
	src = src[:2*n]
	i := 0
	for ; i+8 <= n; i += 8 {
		h := archsimd.LoadUint16x8((*[8]uint16)(unsafe.Pointer(&src[2*i])))
		f16x8(h.ExtendToUint32()).StoreSlice(dst[i:])
	}
	for ; i < n; i++ {
		dst[i] = backend.F16ToF32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
	}
}
