package detmath

import "math"

// The constants of Exp32. They are exported so that vector
// implementations can repeat its exact operation sequence.
const (
	// Exp32Hi and Exp32Lo clamp the argument: exp(89) overflows float32
	// and exp(-104) rounds to zero, so clamping changes no result while
	// keeping 2^k representable in two factors.
	Exp32Hi float32 = 89
	Exp32Lo float32 = -104
	// Exp32Log2e is float32(1/ln 2).
	Exp32Log2e float32 = 0x1.715476p+00
	// Exp32Round is 1.5·2^23: adding then subtracting it rounds a float32
	// of magnitude below 2^22 to the nearest integer, ties to even.
	Exp32Round float32 = 0x1.8p+23
	// Exp32Ln2Hi + Exp32Ln2Lo is ln 2 (Cody–Waite split): Exp32Ln2Hi has
	// 16 significant bits, so k·Exp32Ln2Hi is exact for |k| <= 2^8.
	Exp32Ln2Hi float32 = 0x1.62e4p-01
	Exp32Ln2Lo float32 = 0x1.7f7d1cp-20
	// Exp32P0..Exp32P5 approximate (e^r - 1 - r)/r² on |r| <= ln2/2
	// (Cephes expf).
	Exp32P0 float32 = 1.9875691500e-4
	Exp32P1 float32 = 1.3981999507e-3
	Exp32P2 float32 = 8.3334519073e-3
	Exp32P3 float32 = 4.1665795894e-2
	Exp32P4 float32 = 1.6666665459e-1
	Exp32P5 float32 = 5.0000001201e-1
)

// Exp32 returns e^x in float32, within 0.987 ulp (measured over every
// float32). Exp32(NaN) returns x itself; Exp32(+Inf) = +Inf; Exp32(-Inf)
// = 0; results above the float32 range are +Inf and below it round to
// subnormals or zero.
//
// The operation sequence (all float32, round to nearest even, nothing
// fused) is part of mycel-rt/1:
//
//	x = min(max(x, Exp32Lo), Exp32Hi)
//	t = x * Exp32Log2e
//	k = (t + Exp32Round) - Exp32Round
//	r = x - k*Exp32Ln2Hi
//	r = r - k*Exp32Ln2Lo
//	z = r * r
//	p = Exp32P0*r + Exp32P1, then p = p*r + P2, P3, P4, P5 in turn
//	p = ((p*z) + r) + 1
//	n = int32(k); n1 = n >> 1 (arithmetic); n2 = n - n1
//	result = (p * 2^n1) * 2^n2
//
// where 2^n is built from its exponent bits. Splitting 2^n in two keeps
// each factor a normal float32 and makes the product round once, also
// when the result is subnormal.
func Exp32(x float32) float32 {
	if x != x {
		return x
	}
	if x > Exp32Hi {
		x = Exp32Hi
	}
	if x < Exp32Lo {
		x = Exp32Lo
	}
	t := float32(x * Exp32Log2e)
	k := float32(t+Exp32Round) - Exp32Round
	r := x - float32(k*Exp32Ln2Hi)
	r = r - float32(k*Exp32Ln2Lo)
	z := float32(r * r)
	p := float32(Exp32P0*r) + Exp32P1
	p = float32(p*r) + Exp32P2
	p = float32(p*r) + Exp32P3
	p = float32(p*r) + Exp32P4
	p = float32(p*r) + Exp32P5
	p = float32(float32(p*z)+r) + 1
	n := int32(k)
	n1 := n >> 1
	n2 := n - n1
	p = float32(p * math.Float32frombits(uint32(n1+127)<<23))
	return float32(p * math.Float32frombits(uint32(n2+127)<<23))
}

// Sqrt32 returns the correctly rounded float32 square root of x. The
// float64 square root of a float32 is exact enough that rounding it to
// float32 gives the correctly rounded result.
func Sqrt32(x float32) float32 {
	return float32(math.Sqrt(float64(x)))
}
