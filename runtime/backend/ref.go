package backend

import (
	"math"

	"github.com/mycelnet/mycel/runtime/detmath"
)

// Dot returns the mycel-rt/1 dot product of a and b (len(a) == len(b)):
// sixteen lanes, lane l summing float32(a[i]*b[i]) for i ≡ l (mod 16) in
// increasing i from +0, then the lanes reduced by the fixed tree
// acc[i] += acc[i+s] for s = 8, 4, 2, 1. A missing tail element is a
// zero product, which changes nothing (an accumulator that starts at +0
// can never be -0).
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("backend: Dot of unequal lengths")
	}
	// Lanes are independent, so they are computed four at a time, in four
	// passes: on amd64 Go keeps only 15 floats in registers, and sixteen
	// accumulators at once would spill (half the speed).
	var acc [16]float32
	n := len(a) &^ 15
	for l := 0; l < 16; l += 4 {
		var s0, s1, s2, s3 float32
		for i := l; i < n; i += 16 {
			x := a[i : i+4 : i+4]
			y := b[i : i+4 : i+4]
			s0 += float32(x[0] * y[0])
			s1 += float32(x[1] * y[1])
			s2 += float32(x[2] * y[2])
			s3 += float32(x[3] * y[3])
		}
		acc[l], acc[l+1], acc[l+2], acc[l+3] = s0, s1, s2, s3
	}
	for i := n; i < len(a); i++ {
		acc[i-n] += float32(a[i] * b[i])
	}
	return ReduceLanes(&acc)
}

// ReduceLanes reduces sixteen lane accumulators by the fixed tree of
// mycel-rt/1: for s = 8, 4, 2, 1, acc[i] = acc[i] + acc[i+s] for i < s;
// the result is acc[0]. It leaves acc changed.
func ReduceLanes(acc *[16]float32) float32 {
	for s := 8; s > 0; s >>= 1 {
		for i := 0; i < s; i++ {
			acc[i] += acc[i+s]
		}
	}
	return acc[0]
}

// Sum returns Dot with the products replaced by the elements: sixteen
// lanes in index order, then the fixed tree.
func Sum(a []float32) float32 {
	var acc [16]float32
	n := len(a) &^ 15
	for i := 0; i < n; i += 16 {
		x := a[i : i+16 : i+16]
		for l := range acc {
			acc[l] += x[l]
		}
	}
	for i := n; i < len(a); i++ {
		acc[i-n] += a[i]
	}
	return ReduceLanes(&acc)
}

// Softmax replaces x with its softmax: m = max x; e[i] = Exp32(x[i] - m);
// s = Sum(e); x[i] = e[i] / s. Any NaN in x, or +Inf, makes every
// result NaN (through s), whatever m is; an empty x is left alone.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	for i, v := range x {
		x[i] = detmath.Exp32(v - m)
	}
	s := Sum(x)
	for i := range x {
		x[i] /= s
	}
}

// SiLU returns g / (1 + Exp32(-g)).
func SiLU(g float32) float32 {
	return g / (1 + detmath.Exp32(-g))
}

// QuantizeQ8 quantizes x (a multiple of 32 long) into q (len(x)) and one
// scale per block of 32 in d (len(x)/32), the activation rule of
// mycel-rt/1: amax = max |x[i]|, dx = amax/127, id = 1/dx (0 when dx is
// 0), q[i] = round-half-away-from-zero(float32(x[i]*id)) clamped to
// [-127, 127], d = dx.
//
// Non-finite inputs, which the rule leaves open, are defined so that
// they reach the output: a NaN in a block makes amax, and so dx, NaN;
// and a product x[i]*id that is NaN (NaN input, or ±Inf times id = 0
// when amax is Inf) quantizes to 0. DotQ8 then multiplies by the NaN or
// Inf scale, so the block's contribution is NaN.
func QuantizeQ8(x []float32, q []int8, d []float32) {
	if len(x)%Q8Block != 0 || len(q) != len(x) || len(d) != len(x)/Q8Block {
		panic("backend: QuantizeQ8 lengths")
	}
	for b := range d {
		xb := x[b*Q8Block : (b+1)*Q8Block : (b+1)*Q8Block]
		qb := q[b*Q8Block : (b+1)*Q8Block : (b+1)*Q8Block]
		var amax float32
		for _, v := range xb {
			a := float32(math.Abs(float64(v)))
			if a > amax || a != a {
				amax = a
			}
			if amax != amax {
				break
			}
		}
		dx := amax / 127
		var id float32
		if dx != 0 {
			id = 1 / dx
		}
		for i, v := range xb {
			qb[i] = QuantizeQ8Value(float32(v * id))
		}
		d[b] = dx
	}
}

// QuantizeQ8Value rounds v half away from zero and clamps it to
// [-127, 127]; a NaN becomes 0.
func QuantizeQ8Value(v float32) int8 {
	switch {
	case v != v:
		return 0
	case v >= 127:
		return 127
	case v <= -127:
		return -127
	}
	a := v
	if a < 0 {
		a = -a
	}
	t := float32(int32(a)) // truncation; |v| < 127 so exact
	if a-t >= 0.5 {        // a-t is exact
		t++
	}
	if v < 0 {
		t = -t
	}
	return int8(t)
}

// DotQ8 returns the mycel-rt/1 product of one Q8_0 weight row w (whole
// 34-byte blocks) with activations quantized by QuantizeQ8 (q, and d one
// scale per block): for each block in order, s = Σ qw·qx exactly in
// int32, and acc = acc + float32(float32(s) * float32(dw*dx)) from +0.
func DotQ8(w []byte, q []int8, d []float32) float32 {
	nb := len(w) / Q8BlockBytes
	if len(w) != nb*Q8BlockBytes || len(q) != nb*Q8Block || len(d) != nb {
		panic("backend: DotQ8 lengths")
	}
	var acc float32
	for b := 0; b < nb; b++ {
		blk := w[b*Q8BlockBytes : (b+1)*Q8BlockBytes : (b+1)*Q8BlockBytes]
		qx := q[b*Q8Block : (b+1)*Q8Block : (b+1)*Q8Block]
		var s int32
		for i, v := range qx {
			s += int32(int8(blk[2+i])) * int32(v)
		}
		dw := F16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
		acc += float32(float32(s) * float32(dw*d[b]))
	}
	return acc
}

// F16ToF32 converts an IEEE binary16 (its bits) exactly to float32. A
// NaN keeps its sign and payload (shifted into the float32 fraction).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // ±0
		return math.Float32frombits(sign)
	}
	// subnormal: mant·2^-24; normalize so the leading 1 is bit 10.
	e := uint32(113)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// RoPECosSin fills c and s (headDim/2 each) with the rotation of pair i
// at position pos: f = Pow(base, -2i/headDim) in float64 (the exponent
// rounded once, as float64(-2i)/float64(headDim)), angle =
// float64(pos)*f, c[i] = float32(Cos(angle)), s[i] = float32(Sin(angle)),
// with detmath's Pow, Cos and Sin. It is RoPEFreqs then RoPEAngles.
func RoPECosSin(c, s []float32, pos, headDim int, base float64) {
	RoPEAngles(c, s, pos, RoPEFreqs(headDim, base))
}

// RoPEFreqs returns the headDim/2 frequencies f[i] = Pow(base,
// float64(-2i)/float64(headDim)), which depend only on the model (a
// backend may keep them).
func RoPEFreqs(headDim int, base float64) []float64 {
	if headDim <= 0 || headDim%2 != 0 {
		panic("backend: RoPEFreqs of an odd head dimension")
	}
	f := make([]float64, headDim/2)
	for i := range f {
		f[i] = detmath.Pow(base, float64(-2*i)/float64(headDim))
	}
	return f
}

// RoPEAngles fills c and s with float32(Cos(float64(pos)*f[i])) and
// float32(Sin(float64(pos)*f[i])).
func RoPEAngles(c, s []float32, pos int, f []float64) {
	if len(c) != len(f) || len(s) != len(f) {
		panic("backend: RoPEAngles lengths")
	}
	for i, fi := range f {
		angle := float64(float64(pos) * fi)
		c[i] = float32(detmath.Cos(angle))
		s[i] = float32(detmath.Sin(angle))
	}
}

// AttentionScale returns the score scale of mycel-rt/1,
// float32(1/sqrt(headDim)), computed in float64 (math.Sqrt is correctly
// rounded everywhere) and rounded to float32 once.
func AttentionScale(headDim int) float32 {
	return float32(1 / math.Sqrt(float64(headDim)))
}
