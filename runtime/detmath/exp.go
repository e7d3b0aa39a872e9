package detmath

import "math"

// Bit access in the style of fdlibm's __HI and __LO.

func hi(x float64) int32  { return int32(math.Float64bits(x) >> 32) }
func lo(x float64) uint32 { return uint32(math.Float64bits(x)) }

func fromWords(h int32, l uint32) float64 {
	return math.Float64frombits(uint64(uint32(h))<<32 | uint64(l))
}

// clearLo returns x with the low 32 bits of its representation zeroed.
func clearLo(x float64) float64 {
	return math.Float64frombits(math.Float64bits(x) &^ 0xffffffff)
}

// addExp adds k to the exponent field of x (fdlibm's __HI(x) += k<<20),
// for results that stay normal.
func addExp(x float64, k int32) float64 {
	return math.Float64frombits(math.Float64bits(x) + uint64(int64(k)<<52))
}

const (
	expOThreshold = 7.09782712893383973096e+02  // 0x40862E42, 0xFEFA39EF
	expUThreshold = -7.45133219101941108420e+02 // 0xc0874910, 0xD52D3051
	ln2HI         = 6.93147180369123816490e-01  // 0x3fe62e42, 0xfee00000
	ln2LO         = 1.90821492927058770002e-10  // 0x3dea39ef, 0x35793c76
	invln2        = 1.44269504088896338700e+00  // 0x3ff71547, 0x652b82fe
	expP1         = 1.66666666666666019037e-01  // 0x3FC55555, 0x5555553E
	expP2         = -2.77777777770155933842e-03 // 0xBF66C16C, 0x16BEBD93
	expP3         = 6.61375632143793436117e-05  // 0x3F11566A, 0xAF25DE2C
	expP4         = -1.65339022054652515390e-06 // 0xBEBBBD41, 0xC5D26BF1
	expP5         = 4.13813679705723846039e-08  // 0x3E663769, 0x72BEA4D0
	twom1000      = 9.33263618503218878990e-302 // 2**-1000
)

// Exp returns e^x: fdlibm's __ieee754_exp (error below 1 ulp).
// Exp(+Inf) = +Inf, Exp(-Inf) = 0, Exp(NaN) = NaN; results beyond the
// float64 range overflow to +Inf or underflow to 0.
func Exp(x float64) float64 {
	hx := uint32(hi(x))
	xsb := int32(hx >> 31)
	hx &= 0x7fffffff

	if hx >= 0x40862E42 { // |x| >= 709.78...
		if hx >= 0x7ff00000 {
			if (hx&0xfffff)|lo(x) != 0 {
				return x + x // NaN
			}
			if xsb == 0 {
				return x
			}
			return 0
		}
		if x > expOThreshold {
			return math.Inf(1)
		}
		if x < expUThreshold {
			return 0
		}
	}

	var hiPart, loPart float64
	var k int32
	switch {
	case hx > 0x3fd62e42: // |x| > 0.5 ln2
		if hx < 0x3FF0A2B2 { // and |x| < 1.5 ln2
			if xsb == 0 {
				hiPart, loPart, k = x-ln2HI, ln2LO, 1
			} else {
				hiPart, loPart, k = x+ln2HI, -ln2LO, -1
			}
		} else {
			half := 0.5
			if xsb != 0 {
				half = -0.5
			}
			k = int32(float64(invln2*x) + half)
			t := float64(k)
			hiPart = x - float64(t*ln2HI) // t*ln2HI is exact here
			loPart = float64(t * ln2LO)
		}
		x = hiPart - loPart
	case hx < 0x3e300000: // |x| < 2^-28
		return 1 + x
	default:
		k = 0
	}

	t := float64(x * x)
	c := x - float64(t*(expP1+float64(t*(expP2+float64(t*(expP3+float64(t*(expP4+float64(t*expP5)))))))))
	if k == 0 {
		return 1 - (float64(x*c)/(c-2.0) - x)
	}
	y := 1 - ((loPart - float64(x*c)/(2.0-c)) - hiPart)
	if k >= -1021 {
		return addExp(y, k)
	}
	return float64(addExp(y, k+1000) * twom1000)
}

const (
	two54 = 1.80143985094819840000e+16 // 0x43500000, 0
	lg1   = 6.666666666666735130e-01   // 3FE55555 55555593
	lg2   = 3.999999999940941908e-01   // 3FD99999 9997FA04
	lg3   = 2.857142874366239149e-01   // 3FD24924 94229359
	lg4   = 2.222219843214978396e-01   // 3FCC71C5 1D8E78AF
	lg5   = 1.818357216161805012e-01   // 3FC74664 96CB03DE
	lg6   = 1.531383769920937332e-01   // 3FC39A09 D078C69F
	lg7   = 1.479819860511658591e-01   // 3FC2F112 DF3E5244
)

// Log returns the natural logarithm of x: fdlibm's __ieee754_log (error
// below 1 ulp). Log(+Inf) = +Inf, Log(±0) = -Inf, Log(x < 0) = NaN,
// Log(NaN) = NaN.
func Log(x float64) float64 {
	hx := hi(x)
	lx := lo(x)
	var k int32
	if hx < 0x00100000 { // x < 2^-1022
		if (hx&0x7fffffff)|int32(lx) == 0 {
			return math.Inf(-1)
		}
		if hx < 0 {
			return math.NaN()
		}
		k -= 54
		x = float64(x * two54) // subnormal: scale up
		hx = hi(x)
	}
	if hx >= 0x7ff00000 {
		return x + x
	}
	k += (hx >> 20) - 1023
	hx &= 0x000fffff
	i := (hx + 0x95f64) & 0x100000
	x = fromWords(hx|(i^0x3ff00000), lo(x)) // normalize x or x/2
	k += i >> 20
	f := x - 1.0
	dk := float64(k)
	if (0x000fffff & (2 + hx)) < 3 { // |f| < 2^-20
		if f == 0 {
			if k == 0 {
				return 0
			}
			return float64(dk*ln2HI) + float64(dk*ln2LO)
		}
		r := float64(float64(f*f) * (0.5 - float64(0.33333333333333333*f)))
		if k == 0 {
			return f - r
		}
		return float64(dk*ln2HI) - ((r - float64(dk*ln2LO)) - f)
	}
	s := f / (2.0 + f)
	z := float64(s * s)
	i = hx - 0x6147a
	w := float64(z * z)
	j := 0x6b851 - hx
	t1 := float64(w * (lg2 + float64(w*(lg4+float64(w*lg6)))))
	t2 := float64(z * (lg1 + float64(w*(lg3+float64(w*(lg5+float64(w*lg7)))))))
	i |= j
	r := t2 + t1
	if i > 0 {
		hfsq := float64(float64(0.5*f) * f)
		if k == 0 {
			return f - (hfsq - float64(s*(hfsq+r)))
		}
		return float64(dk*ln2HI) - ((hfsq - (float64(s*(hfsq+r)) + float64(dk*ln2LO))) - f)
	}
	if k == 0 {
		return f - float64(s*(f-r))
	}
	return float64(dk*ln2HI) - ((float64(s*(f-r)) - float64(dk*ln2LO)) - f)
}
