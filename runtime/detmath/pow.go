package detmath

import "math"

var (
	powBp  = [2]float64{1.0, 1.5}
	powDpH = [2]float64{0.0, 5.84962487220764160156e-01} // 0x3FE2B803, 0x40000000
	powDpL = [2]float64{0.0, 1.35003920212974897128e-08} // 0x3E4CFDEB, 0x43CFD006
)

const (
	two53   = 9007199254740992.0          // 0x43400000, 0
	powL1   = 5.99999999999994648725e-01  // 0x3FE33333, 0x33333303
	powL2   = 4.28571428578550184252e-01  // 0x3FDB6DB6, 0xDB6FABFF
	powL3   = 3.33333329818377432918e-01  // 0x3FD55555, 0x518F264D
	powL4   = 2.72728123808534006489e-01  // 0x3FD17460, 0xA91D4101
	powL5   = 2.30660745775561754067e-01  // 0x3FCD864A, 0x93C9DB65
	powL6   = 2.06975017800338417784e-01  // 0x3FCA7E28, 0x4A454EEF
	powLg2  = 6.93147180559945286227e-01  // 0x3FE62E42, 0xFEFA39EF
	powLg2H = 6.93147182464599609375e-01  // 0x3FE62E43, 0x00000000
	powLg2L = -1.90465429995776804525e-09 // 0xBE205C61, 0x0CA86C39
	ovt     = 8.0085662595372944372e-17   // -(1024-log2(ovfl+.5ulp))
	cp      = 9.61796693925975554329e-01  // 0x3FEEC709, 0xDC3A03FD =2/(3ln2)
	cpH     = 9.61796700954437255859e-01  // 0x3FEEC709, 0xE0000000 =(float)cp
	cpL     = -7.02846165095275826516e-09 // 0xBE3E2FE0, 0x145B01F5 =tail of cp_h
	ivln2   = 1.44269504088896338700e+00  // 0x3FF71547, 0x652B82FE =1/ln2
	ivln2H  = 1.44269502162933349609e+00  // 0x3FF71547, 0x60000000 =24b 1/ln2
	ivln2L  = 1.92596299112661746887e-08  // 0x3E54AE0B, 0xF85DDF44 =1/ln2 tail
	powHuge = 1.0e300
	powTiny = 1.0e-300
)

// isOddInt reports whether the finite or infinite y is an odd integer.
func isOddInt(y float64) bool {
	if math.IsInf(y, 0) || y != y {
		return false
	}
	a := math.Abs(y)
	if a >= two53 {
		return false // every double this large is even
	}
	if a < 1 {
		return false
	}
	bits := math.Float64bits(a)
	e := int(bits>>52) - 1075 // a = m * 2^e, m a 53-bit integer
	m := bits&(1<<52-1) | 1<<52
	if e >= 0 {
		return false
	}
	if m&(1<<uint(-e)-1) != 0 {
		return false // not an integer
	}
	return (m>>uint(-e))&1 == 1
}

// Pow returns x**y. It handles every x and y: special values follow C99
// Annex F (as Go's math.Pow documents them):
//
//	Pow(x, ±0) = 1 for any x
//	Pow(1, y) = 1 for any y
//	Pow(x, 1) = x for any x
//	Pow(NaN, y) = NaN
//	Pow(x, NaN) = NaN
//	Pow(±0, y) = ±Inf for y an odd integer < 0
//	Pow(±0, y) = +Inf for y < 0 (including -Inf) and not an odd integer
//	Pow(±0, y) = ±0 for y an odd integer > 0
//	Pow(±0, y) = +0 for y > 0 (including +Inf) and not an odd integer
//	Pow(-1, ±Inf) = 1
//	Pow(x, +Inf) = +Inf for |x| > 1, +0 for |x| < 1
//	Pow(x, -Inf) = +0 for |x| > 1, +Inf for |x| < 1
//	Pow(+Inf, y) = +Inf for y > 0, +0 for y < 0
//	Pow(-Inf, y) = Pow(-0, -y)
//	Pow(x, y) = NaN for finite x < 0 and finite non-integer y
//
// For finite nonzero x and y it is fdlibm's __ieee754_pow ("nearly
// rounded": error below 1 ulp; exact for integer powers of integers that
// are representable).
func Pow(x, y float64) float64 {
	switch {
	case y == 0 || x == 1:
		return 1
	case y == 1:
		return x
	case x != x || y != y:
		return math.NaN()
	case x == 0:
		if y < 0 {
			if isOddInt(y) {
				return math.Copysign(math.Inf(1), x)
			}
			return math.Inf(1)
		}
		if isOddInt(y) {
			return x
		}
		return 0
	case math.IsInf(y, 0):
		switch {
		case x == -1:
			return 1
		case (math.Abs(x) < 1) == (y > 0):
			return 0
		default:
			return math.Inf(1)
		}
	case math.IsInf(x, 0):
		if x < 0 {
			return Pow(math.Copysign(0, -1), -y)
		}
		if y < 0 {
			return 0
		}
		return math.Inf(1)
	}
	return powFinite(x, y)
}

// powFinite is __ieee754_pow for finite nonzero x and y, y != 1, x != 1.
func powFinite(x, y float64) float64 {
	hx, lx := hi(x), lo(x)
	hy, ly := hi(y), lo(y)
	ix := hx & 0x7fffffff
	iy := hy & 0x7fffffff

	// yisint: 0 = y is not an integer, 1 = odd integer, 2 = even integer
	// (only needed when x < 0).
	yisint := int32(0)
	if hx < 0 {
		if iy >= 0x43400000 {
			yisint = 2
		} else if iy >= 0x3ff00000 {
			k := (iy >> 20) - 0x3ff
			if k > 20 {
				j := ly >> uint(52-k)
				if j<<uint(52-k) == ly {
					yisint = 2 - int32(j&1)
				}
			} else if ly == 0 {
				j := iy >> uint(20-k)
				if j<<uint(20-k) == iy {
					yisint = 2 - (j & 1)
				}
			}
		}
	}

	if ly == 0 {
		if iy == 0x3ff00000 { // y is -1 here (y == 1 is handled)
			return 1 / x
		}
		if hy == 0x40000000 { // y is 2
			return x * x
		}
		if hy == 0x3fe00000 && hx >= 0 { // y is 0.5, x > 0
			return math.Sqrt(x)
		}
	}

	ax := math.Abs(x)
	if lx == 0 && ix == 0x3ff00000 { // x is -1
		switch yisint {
		case 0:
			return math.NaN()
		case 1:
			return -1
		}
		return 1
	}

	n := (hx >> 31) + 1 // 0 when x < 0

	if n|yisint == 0 { // (x<0)**(non-int)
		return math.NaN()
	}

	s := 1.0 // sign of the result
	if n|(yisint-1) == 0 {
		s = -1.0 // (-ve)**(odd int)
	}

	var t1, t2 float64
	if iy > 0x41e00000 { // |y| > 2^31
		if iy > 0x43f00000 { // |y| > 2^64: must overflow or underflow
			if ix <= 0x3fefffff {
				if hy < 0 {
					return math.Inf(1)
				}
				return 0
			}
			if ix >= 0x3ff00000 {
				if hy > 0 {
					return math.Inf(1)
				}
				return 0
			}
		}
		// over/underflow if x is not close to one
		if ix < 0x3fefffff {
			if hy < 0 {
				return math.Copysign(math.Inf(1), s)
			}
			return math.Copysign(0, s)
		}
		if ix > 0x3ff00000 {
			if hy > 0 {
				return math.Copysign(math.Inf(1), s)
			}
			return math.Copysign(0, s)
		}
		// |1-x| <= 2^-20: log(x) by x-x^2/2+x^3/3-x^4/4
		t := ax - 1 // t has 20 trailing zeros
		w := float64(float64(t*t) * (0.5 - float64(t*(0.3333333333333333333333-float64(t*0.25)))))
		u := float64(ivln2H * t) // ivln2H has 21 significant bits
		v := float64(t*ivln2L) - float64(w*ivln2)
		t1 = clearLo(u + v)
		t2 = v - (t1 - u)
	} else {
		n = 0
		if ix < 0x00100000 { // subnormal x
			ax = float64(ax * two53)
			n -= 53
			ix = hi(ax)
		}
		n += (ix >> 20) - 0x3ff
		j := ix & 0x000fffff
		// determine interval
		ix = j | 0x3ff00000 // normalize ix
		var k int32
		switch {
		case j <= 0x3988E: // |x| < sqrt(3/2)
			k = 0
		case j < 0xBB67A: // |x| < sqrt(3)
			k = 1
		default:
			k = 0
			n++
			ix -= 0x00100000
		}
		ax = fromWords(ix, lo(ax))

		// ss = s_h+s_l = (x-1)/(x+1) or (x-1.5)/(x+1.5)
		u := ax - powBp[k]
		v := 1 / (ax + powBp[k])
		ss := float64(u * v)
		sH := clearLo(ss)
		// t_h = ax+bp[k] high
		tH := fromWords(((ix>>1)|0x20000000)+0x00080000+(k<<18), 0)
		tL := ax - (tH - powBp[k])
		sL := float64(v * ((u - float64(sH*tH)) - float64(sH*tL)))
		// log(ax)
		s2 := float64(ss * ss)
		r := float64(float64(s2*s2) * (powL1 + float64(s2*(powL2+float64(s2*(powL3+float64(s2*(powL4+float64(s2*(powL5+float64(s2*powL6)))))))))))
		r += float64(sL * (sH + ss))
		s2 = float64(sH * sH)
		tH = clearLo(3.0 + s2 + r)
		tL = r - ((tH - 3.0) - s2)
		// u+v = ss*(1+...)
		u = float64(sH * tH)
		v = float64(sL*tH) + float64(tL*ss)
		// 2/(3log2)*(ss+...)
		pH := clearLo(u + v)
		pL := v - (pH - u)
		zH := float64(cpH * pH) // cp_h+cp_l = 2/(3*log2)
		zL := float64(cpL*pH) + float64(pL*cp) + powDpL[k]
		// log2(ax) = (ss+..)*2/(3*log2) = n + dp_h + z_h + z_l
		t := float64(n)
		t1 = clearLo(((zH + zL) + powDpH[k]) + t)
		t2 = zL - (((t1 - t) - powDpH[k]) - zH)
	}

	// split y into y1+y2 and compute (y1+y2)*(t1+t2)
	y1 := clearLo(y)
	pL := float64((y-y1)*t1) + float64(y*t2)
	pH := float64(y1 * t1)
	z := pL + pH
	j := hi(z)
	i := int32(lo(z))
	if j >= 0x40900000 { // z >= 1024
		if (j-0x40900000)|i != 0 { // z > 1024
			return math.Copysign(math.Inf(1), s)
		}
		if pL+ovt > z-pH {
			return math.Copysign(math.Inf(1), s)
		}
	} else if j&0x7fffffff >= 0x4090cc00 { // z <= -1075
		if uint32(j)-0xc090cc00|uint32(i) != 0 { // z < -1075
			return math.Copysign(0, s)
		}
		if pL <= z-pH {
			return math.Copysign(0, s)
		}
	}

	// 2**(p_h+p_l)
	i = j & 0x7fffffff
	k := (i >> 20) - 0x3ff
	n = 0
	if i > 0x3fe00000 { // |z| > 0.5: n = [z+0.5]
		n = j + (0x00100000 >> uint(k+1))
		k = ((n & 0x7fffffff) >> 20) - 0x3ff // new k for n
		t := fromWords(n&^(0x000fffff>>uint(k)), 0)
		n = ((n & 0x000fffff) | 0x00100000) >> uint(20-k)
		if j < 0 {
			n = -n
		}
		pH -= t
	}
	t := clearLo(pL + pH)
	u := float64(t * powLg2H)
	v := float64((pL-(t-pH))*powLg2) + float64(t*powLg2L)
	z = u + v
	w := v - (z - u)
	t = float64(z * z)
	t1 = z - float64(t*(expP1+float64(t*(expP2+float64(t*(expP3+float64(t*(expP4+float64(t*expP5)))))))))
	r := float64(z*t1)/(t1-2) - (w + float64(z*w))
	z = 1 - (r - z)
	j = hi(z)
	j += n << 20
	if j>>20 <= 0 {
		z = scalbn(z, n) // subnormal output
	} else {
		z = addExp(z, n)
	}
	return float64(s * z)
}

// scalbn returns z·2^n rounded once, for z in [0.7, 1.5) and n from about
// -1075 to -1022 (results that are subnormal or zero): the first step is
// exact, the second rounds.
func scalbn(z float64, n int32) float64 {
	if n < -1000 {
		z = float64(z * twom1000)
		n += 1000
	}
	return float64(z * math.Float64frombits(uint64(n+1023)<<52))
}
