package cpu

import "github.com/mycelnet/mycel/runtime/backend"

// portable is the code path in plain Go, for every architecture and for
// processors without the vector extensions.
var portable = kernels{
	name:        "portable",
	matF32:      matF32Portable,
	matQ8:       matQ8Portable,
	f16:         f16Portable,
	softmax:     backend.Softmax,
	swiglu:      swigluPortable,
	rmsnorm:     rmsnormPortable,
	add:         addPortable,
	scale:       scalePortable,
	weightedSum: weightedSumPortable,
}

// xBlockBytes is how much of x a matrix product keeps hot in the cache
// while weight rows stream past it.
const xBlockBytes = 256 << 10

// xBlock returns how many x vectors of k floats make one cache block.
func xBlock(k, n int) int {
	return max(2, min(n, xBlockBytes/(4*max(k, 1))))
}

func matF32Portable(out []float32, ldo int, w []float32, ldw int, x []float32, ldx int, rows, k, n int) {
	tb := xBlock(k, n)
	for t0 := 0; t0 < n; t0 += tb {
		t1 := min(n, t0+tb)
		for r := 0; r < rows; r++ {
			wr := w[r*ldw : r*ldw+k]
			for t := t0; t < t1; t++ {
				out[t*ldo+r] = backend.Dot(wr, x[t*ldx:t*ldx+k])
			}
		}
	}
}

func matQ8Portable(out []float32, ldo int, w []byte, rowBytes int, xq []int8, xd []float32, rows, k, n int) {
	nb := k / backend.Q8Block
	for r := 0; r < rows; r++ {
		wr := w[r*rowBytes : (r+1)*rowBytes]
		for t := 0; t < n; t++ {
			out[t*ldo+r] = dotQ8Portable(wr, xq[t*k:(t+1)*k], xd[t*nb:(t+1)*nb])
		}
	}
}

// dotQ8Portable is backend.DotQ8 with the block sum unrolled.
func dotQ8Portable(w []byte, q []int8, d []float32) float32 {
	var acc float32
	for b := range d {
		blk := w[b*backend.Q8BlockBytes : (b+1)*backend.Q8BlockBytes : (b+1)*backend.Q8BlockBytes]
		qw := blk[2:34:34]
		qx := q[b*backend.Q8Block : (b+1)*backend.Q8Block : (b+1)*backend.Q8Block]
		var s0, s1, s2, s3 int32
		for i := 0; i < backend.Q8Block; i += 4 {
			s0 += int32(int8(qw[i])) * int32(qx[i])
			s1 += int32(int8(qw[i+1])) * int32(qx[i+1])
			s2 += int32(int8(qw[i+2])) * int32(qx[i+2])
			s3 += int32(int8(qw[i+3])) * int32(qx[i+3])
		}
		s := (s0 + s1) + (s2 + s3) // integers: exact in any order
		dw := backend.F16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
		acc += float32(float32(s) * float32(dw*d[b]))
	}
	return acc
}

func f16Portable(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = backend.F16ToF32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
	}
}

func swigluPortable(out, g, u []float32) {
	u = u[:len(g)]
	out = out[:len(g)]
	for i, v := range g {
		out[i] = float32(backend.SiLU(v) * u[i])
	}
}

func rmsnormPortable(out, x, w []float32, eps float32) {
	rmsnormWith(backend.Dot, mulMulPortable, out, x, w, eps)
}

func mulMulPortable(out, x []float32, inv float32, w []float32) {
	w = w[:len(x)]
	out = out[:len(x)]
	for i, v := range x {
		out[i] = float32(float32(v*inv) * w[i])
	}
}

func addPortable(out, a, b []float32) {
	b = b[:len(a)]
	out = out[:len(a)]
	for i, v := range a {
		out[i] = v + b[i]
	}
}

func scalePortable(x []float32, s float32) {
	for i, v := range x {
		x[i] = float32(v * s)
	}
}

func weightedSumPortable(out, p, v []float32, ldv int) {
	clear(out)
	for t, pt := range p {
		row := v[t*ldv : t*ldv+len(out)]
		for d, vd := range row {
			out[d] += float32(pt * vd)
		}
	}
}
