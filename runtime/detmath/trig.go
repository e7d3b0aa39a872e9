package detmath

import (
	"math"
	"math/bits"
)

const (
	sinS1 = -1.66666666666666324348e-01 // 0xBFC55555, 0x55555549
	sinS2 = 8.33333333332248946124e-03  // 0x3F811111, 0x1110F8A6
	sinS3 = -1.98412698298579493134e-04 // 0xBF2A01A0, 0x19C161D5
	sinS4 = 2.75573137070700676789e-06  // 0x3EC71DE3, 0x57B1FE7D
	sinS5 = -2.50507602534068634195e-08 // 0xBE5AE5E6, 0x8A2B9CEB
	sinS6 = 1.58969099521155010221e-10  // 0x3DE5D93A, 0x5ACFD57C

	cosC1 = 4.16666666666666019037e-02  // 0x3FA55555, 0x5555554C
	cosC2 = -1.38888888888741095749e-03 // 0xBF56C16C, 0x16C15177
	cosC3 = 2.48015872894767294178e-05  // 0x3EFA01A0, 0x19CB1590
	cosC4 = -2.75573143513906633035e-07 // 0xBE927E4F, 0x809C52AD
	cosC5 = 2.08757232129817482790e-09  // 0x3E21EE9E, 0xBDB4B1C4
	cosC6 = -1.13596475577881948265e-11 // 0xBDA8FAE9, 0xBE8838D4
)

// kernelSin is fdlibm's __kernel_sin: sin(x+y) for |x| <= ~π/4, y the
// tail of x; iy == 0 means y is zero.
func kernelSin(x, y float64, iy int) float64 {
	if hi(x)&0x7fffffff < 0x3e400000 { // |x| < 2^-27
		return x
	}
	z := float64(x * x)
	v := float64(z * x)
	r := sinS2 + float64(z*(sinS3+float64(z*(sinS4+float64(z*(sinS5+float64(z*sinS6)))))))
	if iy == 0 {
		return x + float64(v*(sinS1+float64(z*r)))
	}
	return x - ((float64(z*(float64(0.5*y)-float64(v*r))) - y) - float64(v*sinS1))
}

// kernelCos is fdlibm's __kernel_cos (the 1996 version): cos(x+y) for
// |x| <= ~π/4, y the tail of x.
func kernelCos(x, y float64) float64 {
	ix := hi(x) & 0x7fffffff
	if ix < 0x3e400000 { // |x| < 2^-27
		return 1
	}
	z := float64(x * x)
	r := float64(z * (cosC1 + float64(z*(cosC2+float64(z*(cosC3+float64(z*(cosC4+float64(z*(cosC5+float64(z*cosC6)))))))))))
	if ix < 0x3FD33333 { // |x| < 0.3
		return 1 - (float64(0.5*z) - (float64(z*r) - float64(x*y)))
	}
	var qx float64
	if ix > 0x3fe90000 { // |x| > 0.78125
		qx = 0.28125
	} else {
		qx = fromWords(ix-0x00200000, 0) // x/4
	}
	hz := float64(0.5*z) - qx
	a := 1 - qx
	return a - (hz - (float64(z*r) - float64(x*y)))
}

// Sin returns the sine of x (radians), within 1 ulp. Sin(±0) = ±0;
// Sin(±Inf) and Sin(NaN) are NaN.
func Sin(x float64) float64 {
	if hi(x)&0x7fffffff <= 0x3fe921fb { // |x| <= π/4
		return kernelSin(x, 0, 0)
	}
	if hi(x)&0x7fffffff >= 0x7ff00000 {
		return math.NaN()
	}
	n, y0, y1 := remPio2(x)
	switch n & 3 {
	case 0:
		return kernelSin(y0, y1, 1)
	case 1:
		return kernelCos(y0, y1)
	case 2:
		return -kernelSin(y0, y1, 1)
	default:
		return -kernelCos(y0, y1)
	}
}

// Cos returns the cosine of x (radians), within 1 ulp. Cos(±Inf) and
// Cos(NaN) are NaN.
func Cos(x float64) float64 {
	if hi(x)&0x7fffffff <= 0x3fe921fb { // |x| <= π/4
		return kernelCos(x, 0)
	}
	if hi(x)&0x7fffffff >= 0x7ff00000 {
		return math.NaN()
	}
	n, y0, y1 := remPio2(x)
	switch n & 3 {
	case 0:
		return kernelCos(y0, y1)
	case 1:
		return -kernelSin(y0, y1, 1)
	case 2:
		return -kernelCos(y0, y1)
	default:
		return kernelSin(y0, y1, 1)
	}
}

var npio2HW = [32]int32{
	0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C,
	0x4025FDBB, 0x402921FB, 0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C,
	0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB, 0x403AB41B, 0x403C463A,
	0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
	0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB,
	0x404858EB, 0x404921FB,
}

const (
	invpio2 = 6.36619772367581382433e-01 // 0x3FE45F30, 0x6DC9C883
	pio2_1  = 1.57079632673412561417e+00 // 0x3FF921FB, 0x54400000: first 33 bits of π/2
	pio2_1t = 6.07710050650619224932e-11 // 0x3DD0B461, 0x1A626331: π/2 - pio2_1
	pio2_2  = 6.07710050630396597660e-11 // 0x3DD0B461, 0x1A600000: second 33 bits
	pio2_2t = 2.02226624879595063154e-21 // 0x3BA3198A, 0x2E037073: π/2 - (pio2_1+pio2_2)
	pio2_3  = 2.02226624871116645580e-21 // 0x3BA3198A, 0x2E000000: third 33 bits
	pio2_3t = 8.47842766036889956997e-32 // 0x397B839A, 0x252049C1: π/2 - (pio2_1+pio2_2+pio2_3)

	// π/2 as a double-double, for the large-argument reduction.
	pio2Hi = 1.57079632679489655800e+00 // 0x3FF921FB, 0x54442D18
	pio2Lo = 6.12323399573676603587e-17 // 0x3C91A626, 0x33145C07
)

// remPio2 returns n and y0+y1 with x = n·π/2 + (y0+y1), |y0+y1| <= ~π/4,
// for finite x with |x| > π/4. Up to |x| <= 2^19·π/2 it is fdlibm's
// __ieee754_rem_pio2; beyond, remPio2Large.
func remPio2(x float64) (n int32, y0, y1 float64) {
	hx := hi(x)
	ix := hx & 0x7fffffff
	if ix < 0x4002d97c { // |x| < 3π/4: n = ±1
		if hx > 0 {
			z := x - pio2_1
			if ix != 0x3ff921fb { // 33+53 bit π is good enough
				y0 = z - pio2_1t
				y1 = (z - y0) - pio2_1t
			} else { // near π/2: use 33+33+53 bit π
				z -= pio2_2
				y0 = z - pio2_2t
				y1 = (z - y0) - pio2_2t
			}
			return 1, y0, y1
		}
		z := x + pio2_1
		if ix != 0x3ff921fb {
			y0 = z + pio2_1t
			y1 = (z - y0) + pio2_1t
		} else {
			z += pio2_2
			y0 = z + pio2_2t
			y1 = (z - y0) + pio2_2t
		}
		return -1, y0, y1
	}
	if ix > 0x413921fb { // |x| > 2^19·π/2
		return remPio2Large(x)
	}
	// medium size
	t := math.Abs(x)
	n = int32(float64(t*invpio2) + 0.5)
	fn := float64(n)
	r := t - float64(fn*pio2_1)
	w := float64(fn * pio2_1t) // first round: good to 85 bits
	if n < 32 && ix != npio2HW[n-1] {
		y0 = r - w // quick check: no cancellation
	} else {
		j := ix >> 20
		y0 = r - w
		i := j - ((hi(y0) >> 20) & 0x7ff)
		if i > 16 { // second iteration, good to 118 bits
			t = r
			w = float64(fn * pio2_2)
			r = t - w
			w = float64(fn*pio2_2t) - ((t - r) - w)
			y0 = r - w
			i = j - ((hi(y0) >> 20) & 0x7ff)
			if i > 49 { // third iteration, 151 bits: covers every case
				t = r
				w = float64(fn * pio2_3)
				r = t - w
				w = float64(fn*pio2_3t) - ((t - r) - w)
				y0 = r - w
			}
		}
	}
	y1 = (r - y0) - w
	if hx < 0 {
		return -n, -y0, -y1
	}
	return n, y0, y1
}

// twoOverPi holds the binary digits of 2/π, 24 to an entry, most
// significant first (fdlibm's two_over_pi: 1584 bits, enough for every
// double).
var twoOverPi = [66]uint32{
	0xA2F983, 0x6E4E44, 0x1529FC, 0x2757D1, 0xF534DD, 0xC0DB62,
	0x95993C, 0x439041, 0xFE5163, 0xABDEBB, 0xC561B7, 0x246E3A,
	0x424DD2, 0xE00649, 0x2EEA09, 0xD1921C, 0xFE1DEB, 0x1CB129,
	0xA73EE8, 0x8235F5, 0x2EBB44, 0x84E99C, 0x7026B4, 0x5F7E41,
	0x3991D6, 0x398353, 0x39F49C, 0x845F8B, 0xBDF928, 0x3B1FF8,
	0x97FFDE, 0x05980F, 0xEF2F11, 0x8B5A0A, 0x6D1F6D, 0x367ECF,
	0x27CB09, 0xB74F46, 0x3F669E, 0x5FEA2D, 0x7527BA, 0xC7EBE5,
	0xF17B3D, 0x0739F7, 0x8A5292, 0xEA6BFB, 0x5FB11F, 0x8D5D08,
	0x560330, 0x46FC7B, 0x6BABF0, 0xCFBC20, 0x9AF436, 0x1DA9E3,
	0x91615E, 0xE61B08, 0x659985, 0x5F14A0, 0x68408D, 0xFFD880,
	0x4D7327, 0x310606, 0x1556CA, 0x73A8C9, 0x60E27B, 0xC08C6B,
}

// twoOverPiBits returns the 64 bits of 2/π starting at bit p (bit 1 has
// weight 2^-1), zero beyond the table.
func twoOverPiBits(p int) uint64 {
	var v uint64
	for b := p; b < p+64; b++ {
		v <<= 1
		i := (b - 1) / 24
		if i < len(twoOverPi) {
			v |= uint64(twoOverPi[i]>>(23-uint((b-1)%24))) & 1
		}
	}
	return v
}

// remPio2Large reduces a finite |x| > 2^19·π/2 (Payne–Hanek). With
// |x| = m·2^e (m a 53-bit integer), the bits of 2/π of weight 2^-i for
// i < e-1 only add multiples of 4 to x·2/π, so a 192-bit window of 2/π
// from bit max(1, e-1) on gives the last two integer bits n and at least
// 190 fraction bits of x·2/π, in exact integer arithmetic. The fraction
// (moved to [-1/2, 1/2)) becomes a double-double f, and y0+y1 = f·π/2 in
// double-double arithmetic.
func remPio2Large(x float64) (n int32, y0, y1 float64) {
	b := math.Float64bits(math.Abs(x))
	e := int(b>>52) - 1075
	m := b&(1<<52-1) | 1<<52
	i0 := e - 1
	if i0 < 1 {
		i0 = 1
	}
	s := uint(i0 + 191 - e) // fraction bits of the product m·W
	w0, w1, w2 := twoOverPiBits(i0), twoOverPiBits(i0+64), twoOverPiBits(i0+128)

	// p = m·(w0·2^128 + w1·2^64 + w2), limbs most significant first.
	h0, l0 := bits.Mul64(m, w0)
	h1, l1 := bits.Mul64(m, w1)
	h2, l2 := bits.Mul64(m, w2)
	p3 := l2
	p2, c := bits.Add64(l1, h2, 0)
	p1, c := bits.Add64(l0, h1, c)
	p0 := h0 + c
	p := [4]uint64{p0, p1, p2, p3}

	// The two integer bits above the binary point, at bits s and s+1.
	n = int32(bitAt(p, s) | bitAt(p, s+1)<<1)
	// g = the fraction, shifted so the binary point is at the top.
	g := shl256(p, 256-s)
	neg := false
	if g[0]>>63 == 1 { // fraction >= 1/2: round n up, negate fraction
		n++
		neg = true
		g = neg256(g)
	}
	lz := uint(0)
	for lz < 256 && bitAt(g, 255-lz) == 0 {
		lz++
	}
	g = shl256(g, lz)
	// f = g·2^-(256+lz) ≈ a·2^(-53-lz) + b·2^(-106-lz).
	a := g[0] >> 11
	bb := (g[0]&0x7ff)<<42 | g[1]>>22
	fh := float64(float64(a) * math.Float64frombits(uint64(1023-53-int(lz))<<52))
	fl := float64(float64(bb) * math.Float64frombits(uint64(1023-106-int(lz))<<52))

	ph, pl := twoProd(fh, pio2Hi)
	pl = pl + (float64(fh*pio2Lo) + float64(fl*pio2Hi))
	y0 = ph + pl
	y1 = pl - (y0 - ph)
	if neg {
		y0, y1 = -y0, -y1
	}
	if x < 0 {
		return -n, -y0, -y1
	}
	return n, y0, y1
}

// bitAt returns bit k (0 = least significant) of the 256-bit p.
func bitAt(p [4]uint64, k uint) uint64 {
	return p[3-k/64] >> (k % 64) & 1
}

// shl256 shifts the 256-bit p left by k bits (k < 256), dropping the top.
func shl256(p [4]uint64, k uint) [4]uint64 {
	var q [4]uint64
	words, sh := k/64, k%64
	for i := 0; i < 4; i++ {
		j := i + int(words)
		if j < 4 {
			q[i] = p[j] << sh
			if sh != 0 && j+1 < 4 {
				q[i] |= p[j+1] >> (64 - sh)
			}
		}
	}
	return q
}

// neg256 returns 2^256 - p.
func neg256(p [4]uint64) [4]uint64 {
	var q [4]uint64
	var borrow uint64
	for i := 3; i >= 0; i-- {
		q[i], borrow = bits.Sub64(0, p[i], borrow)
	}
	return q
}

// twoProd returns p and e with p = fl(a·b) and p+e = a·b exactly
// (Dekker's product with Veltkamp splitting; no fused operations).
func twoProd(a, b float64) (p, e float64) {
	p = float64(a * b)
	ah, al := split(a)
	bh, bl := split(b)
	e = ((float64(ah*bh) - p) + float64(ah*bl) + float64(al*bh)) + float64(al*bl)
	return p, e
}

func split(a float64) (h, l float64) {
	c := float64(134217729 * a) // 2^27 + 1
	h = c - (c - a)
	return h, a - h
}
