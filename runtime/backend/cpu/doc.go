// Package cpu is the CPU implementation of backend.Backend: portable Go,
// and, in builds with GOEXPERIMENT=simd on amd64, vector kernels written
// with simd/archsimd for AVX-512 and AVX2, chosen at run time from what
// the processor supports (Name says which path runs). Every path and
// every thread count computes exactly the arithmetic of mycel-rt/1
// (runtime/doc.go): the reference functions of package backend define
// the bits, and the tests compare every path against them bit for bit.
//
// How the vector paths stay exact:
//
//   - A float32 dot product keeps one sixteen-lane accumulator per output
//     (a Float32x16, or two Float32x8 for lanes 0–7 and 8–15), adds the
//     product of a separate multiply (never MulAdd), pads the tail with
//     zeros, and reduces the lanes by the fixed tree of backend.Dot.
//   - Matrix products are register-blocked (several weight rows times
//     several x vectors, each output with its own accumulator) and
//     cache-blocked over x; that changes which loads are shared, never
//     the order of any output's additions.
//   - Q8_0 block sums are int8×int8 products summed in int32, exact in
//     any order; the float part (convert, scale, add in block order) is
//     vectorized across rows, one lane per row.
//   - Exp32 repeats detmath.Exp32's operation sequence lane by lane.
//   - Threads split output rows (and attention heads); there is never a
//     reduction across threads, so results do not depend on their number.
//     The helper goroutines spin briefly between calls (see pool), since
//     waking a parked one can take as long as a small product.
//
// Go 1.26 keeps SIMD values in 15 registers and schedules a loop's
// multiplies before its additions, which bounds the register tiles (see
// gen_tiles.go).
package cpu
