// Package backend defines the kernels that mycel's decoder runs on (the
// Backend interface) and the portable reference functions that fix
// their bits: Dot, Sum, Softmax, QuantizeQ8, DotQ8, F16ToF32, SiLU and
// the RoPE angles are the arithmetic of mycel-rt/1 (runtime/doc.go)
// written out in scalar Go. Every Backend, whatever its vector width,
// thread count or architecture, must return exactly what these
// functions define; the tests of each backend compare against them bit
// for bit. A deterministic GPU backend implements the same interface.
//
// # Points runtime/doc.go leaves open, as mycel-rt/1 settles them
//
//   - NaN results are only specified as NaN: their sign and payload may
//     differ between machines (x86 and arm64 make different default
//     NaNs), so comparisons and hashes treat all NaNs as one value.
//   - A dot product's accumulators start at +0 and so are never -0: an
//     exact zero result is +0, and the zero products of the tail padding
//     change nothing. Empty dot products (and attention over zero
//     positions) are +0.
//   - QuantizeQ8 on non-finite input: a NaN in a block makes its scale
//     NaN; a product x·id that is NaN (a NaN, or ±Inf times id = 0 when
//     amax is Inf) quantizes to 0; so such a block contributes NaN to
//     DotQ8 (where a float32 Dot would give NaN or ±Inf), never a finite
//     number.
//   - RoPE's exponent -2i/d is float64(-2i)/float64(d), one rounding; the
//     angle is float64(pos)*f, another.
//   - The attention scale float32(1/sqrt(headDim)) is computed in float64
//     (math.Sqrt is correctly rounded everywhere) and rounded to float32
//     once (AttentionScale).
//   - Softmax's maximum may be taken in any order: which of +0 and -0, or
//     which NaN, wins changes no result (x - m is the same, and any NaN or
//     +Inf input makes every output NaN through the sum).
//   - RMSNorm's n is the length of one normalized vector, len(weight).
//   - F16ToF32 keeps a NaN's sign and payload (moved into the float32
//     fraction).
package backend
