//go:build goexperiment.simd && amd64

package cpu

import (
	"simd/archsimd"
	"unsafe"

	"github.com/mycelnet/mycel/runtime/backend"
)

// The Q8_0 kernels. A block's integer sum s = Σ qw·qx is exact in int32
// in any order, so the vector code may add the products however suits
// it; the float part, acc = acc + float32(float32(s) * float32(dw*dx)) in
// block order, is one lane per row.

// q8Bounds checks, once per call, every access the raw-pointer kernels
// make.
func q8Bounds(out []float32, ldo int, w []byte, rowBytes int, xq []int8, xd []float32, rows, k, n int) {
	nb := k / backend.Q8Block
	if rowBytes < nb*backend.Q8BlockBytes || len(w) < (rows-1)*rowBytes+nb*backend.Q8BlockBytes ||
		len(xq) < n*k || len(xd) < n*nb || len(out) < (n-1)*ldo+rows {
		panic("cpu: matQ8 bounds")
	}
}

// The AVX-512 kernel takes sixteen rows at a time. Per block it forms
// sixteen Int32x16 vectors of pair sums (one per row: VPMOVSXBW then
// VPMADDWD against the block of x) and reduces them together with a
// transposing tree (q8A–q8D), which leaves row i's block sum in lane
// q8Lane[i]: P_i loads row q8Lane[i], so lane L holds row L.
var q8Lane = [16]uintptr{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}

var (
	q8IdxLo = [8]uint64{0, 1, 4, 5, 8, 9, 12, 13}
	q8IdxHi = [8]uint64{2, 3, 6, 7, 10, 11, 14, 15}
)

// q8A adds the 256-bit halves of a and of b: lanes 0–7 hold a's eight
// partial sums, lanes 8–15 b's.
func q8A(a, b archsimd.Int32x16) archsimd.Int32x16 {
	return a.SetHi(b.GetLo()).Add(b.SetLo(a.GetHi()))
}

// q8B takes two results of q8A (rows a, b and c, d) and returns one
// 128-bit chunk per row: a, b, c, d with four partial sums each.
func q8B(a, b archsimd.Int32x16, lo, hi archsimd.Uint64x8) archsimd.Int32x16 {
	a64, b64 := a.AsInt64x8(), b.AsInt64x8()
	return a64.ConcatPermute(b64, lo).AsInt32x16().Add(a64.ConcatPermute(b64, hi).AsInt32x16())
}

// q8C takes two results of q8B and leaves, in each 128-bit chunk, two
// partial sums of a row of a then two of the same chunk's row of b.
func q8C(a, b archsimd.Int32x16) archsimd.Int32x16 {
	a64, b64 := a.AsInt64x8(), b.AsInt64x8()
	return a64.InterleaveLoGrouped(b64).AsInt32x16().Add(a64.InterleaveHiGrouped(b64).AsInt32x16())
}

// q8D adds adjacent pairs: each chunk ends with two rows of a, two of b.
func q8D(a, b archsimd.Int32x16) archsimd.Int32x16 {
	return a.SelectFromPairGrouped(0, 2, 4, 6, b).Add(a.SelectFromPairGrouped(1, 3, 5, 7, b))
}

func matQ8AVX512(out []float32, ldo int, w []byte, rowBytes int, xq []int8, xd []float32, rows, k, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	q8Bounds(out, ldo, w, rowBytes, xq, xd, rows, k, n)
	nb := k / backend.Q8Block
	if nb == 0 {
		for t := 0; t < n; t++ {
			clear(out[t*ldo : t*ldo+rows])
		}
		return
	}
	wp := unsafe.Pointer(unsafe.SliceData(w))
	var res [16]float32
	for r0 := 0; r0 < rows; r0 += 16 {
		m := min(16, rows-r0)
		// Byte offsets of P_i's row; past the last row, repeat it (its
		// lanes are computed and dropped).
		var offs [16]uintptr
		for i, l := range q8Lane {
			offs[i] = uintptr(min(int(l), m-1)) * uintptr(rowBytes)
		}
		var hoffs [16]uintptr // scale of lane l
		for l := range hoffs {
			hoffs[l] = uintptr(min(l, m-1)) * uintptr(rowBytes)
		}
		base := unsafe.Add(wp, uintptr(r0)*uintptr(rowBytes))
		for t := 0; t < n; t++ {
			q8Dot16(base, &offs, &hoffs, unsafe.Pointer(&xq[t*k]), xd[t*nb:(t+1)*nb], &res)
			copy(out[t*ldo+r0:t*ldo+r0+m], res[:m])
		}
	}
}

// q8Dot16 computes sixteen rows' DotQ8 with one x vector.
func q8Dot16(base unsafe.Pointer, offs, hoffs *[16]uintptr, xq unsafe.Pointer, xd []float32, res *[16]float32) {
	var acc archsimd.Float32x16
	var hs [16]uint32
	lo := archsimd.LoadUint64x8(&q8IdxLo)
	hi := archsimd.LoadUint64x8(&q8IdxHi)
	for j, dx := range xd {
		blk := unsafe.Add(base, uintptr(j)*backend.Q8BlockBytes)
		q := unsafe.Add(blk, 2)
		xv := archsimd.LoadInt8x32((*[32]int8)(unsafe.Add(xq, uintptr(j)*backend.Q8Block))).ExtendToInt16()
		p := func(i int) archsimd.Int32x16 {
			return archsimd.LoadInt8x32((*[32]int8)(unsafe.Add(q, offs[i]))).ExtendToInt16().DotProductPairs(xv)
		}
		u0 := q8B(q8A(p(0), p(1)), q8A(p(2), p(3)), lo, hi)
		u1 := q8B(q8A(p(4), p(5)), q8A(p(6), p(7)), lo, hi)
		v0 := q8C(u0, u1)
		u2 := q8B(q8A(p(8), p(9)), q8A(p(10), p(11)), lo, hi)
		u3 := q8B(q8A(p(12), p(13)), q8A(p(14), p(15)), lo, hi)
		v1 := q8C(u2, u3)
		s := q8D(v0, v1)

		for l := range hs {
			hs[l] = uint32(*(*uint16)(unsafe.Add(blk, hoffs[l])))
		}
		scale := f16x16(archsimd.LoadUint32x16(&hs)).Mul(bc16(dx))
		acc = acc.Add(s.ConvertToFloat32().Mul(scale))
	}
	acc.Store(res)
}

// The AVX2 kernel takes eight rows at a time, the same way in 256 bits:
// per row and block an Int32x8 of partial sums (two VPMOVSXBW and
// VPMADDWD of sixteen elements), then a transposing tree (q8a8, q8c8,
// q8d8) that leaves row i's block sum in lane q8Lane8[i].
var q8Lane8 = [8]uintptr{0, 4, 1, 5, 2, 6, 3, 7}

// q8a8: lanes 0–3 hold a's four partial sums, lanes 4–7 b's.
func q8a8(a, b archsimd.Int32x8) archsimd.Int32x8 {
	return a.Select128FromPair(0, 2, b).Add(a.Select128FromPair(1, 3, b))
}

// q8c8: each 128-bit chunk gets two partial sums of a's row and two of
// b's.
func q8c8(a, b archsimd.Int32x8) archsimd.Int32x8 {
	a64, b64 := a.AsInt64x4(), b.AsInt64x4()
	return a64.InterleaveLoGrouped(b64).AsInt32x8().Add(a64.InterleaveHiGrouped(b64).AsInt32x8())
}

// q8d8 adds adjacent pairs.
func q8d8(a, b archsimd.Int32x8) archsimd.Int32x8 {
	return a.SelectFromPairGrouped(0, 2, 4, 6, b).Add(a.SelectFromPairGrouped(1, 3, 5, 7, b))
}

func matQ8AVX2(out []float32, ldo int, w []byte, rowBytes int, xq []int8, xd []float32, rows, k, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	q8Bounds(out, ldo, w, rowBytes, xq, xd, rows, k, n)
	nb := k / backend.Q8Block
	if nb == 0 {
		for t := 0; t < n; t++ {
			clear(out[t*ldo : t*ldo+rows])
		}
		return
	}
	wp := unsafe.Pointer(unsafe.SliceData(w))
	var res [8]float32
	for r0 := 0; r0 < rows; r0 += 8 {
		m := min(8, rows-r0)
		var offs, hoffs [8]uintptr
		for i, l := range q8Lane8 {
			offs[i] = uintptr(min(int(l), m-1)) * uintptr(rowBytes)
		}
		for l := range hoffs {
			hoffs[l] = uintptr(min(l, m-1)) * uintptr(rowBytes)
		}
		base := unsafe.Add(wp, uintptr(r0)*uintptr(rowBytes))
		for t := 0; t < n; t++ {
			q8Dot8(base, &offs, &hoffs, unsafe.Pointer(&xq[t*k]), xd[t*nb:(t+1)*nb], &res)
			copy(out[t*ldo+r0:t*ldo+r0+m], res[:m])
		}
	}
}

// q8Dot8 computes eight rows' DotQ8 with one x vector.
func q8Dot8(base unsafe.Pointer, offs, hoffs *[8]uintptr, xq unsafe.Pointer, xd []float32, res *[8]float32) {
	var acc archsimd.Float32x8
	var hs [8]uint32
	for j, dx := range xd {
		blk := unsafe.Add(base, uintptr(j)*backend.Q8BlockBytes)
		q := unsafe.Add(blk, 2)
		xb := unsafe.Add(xq, uintptr(j)*backend.Q8Block)
		xlo := archsimd.LoadInt8x16((*[16]int8)(xb)).ExtendToInt16()
		xhi := archsimd.LoadInt8x16((*[16]int8)(unsafe.Add(xb, 16))).ExtendToInt16()
		p := func(i int) archsimd.Int32x8 {
			r := unsafe.Add(q, offs[i])
			lo := archsimd.LoadInt8x16((*[16]int8)(r)).ExtendToInt16().DotProductPairs(xlo)
			hi := archsimd.LoadInt8x16((*[16]int8)(unsafe.Add(r, 16))).ExtendToInt16().DotProductPairs(xhi)
			return lo.Add(hi)
		}
		u0 := q8c8(q8a8(p(0), p(1)), q8a8(p(2), p(3)))
		u1 := q8c8(q8a8(p(4), p(5)), q8a8(p(6), p(7)))
		s := q8d8(u0, u1)
		for l := range hs {
			hs[l] = uint32(*(*uint16)(unsafe.Add(blk, hoffs[l])))
		}
		scale := f16x8(archsimd.LoadUint32x8(&hs)).Mul(bc8(dx))
		acc = acc.Add(s.ConvertToFloat32().Mul(scale))
	}
	acc.Store(res)
}
