// Package detmath holds the elementary functions of mycel's inference
// runtime (mycel-rt/1): Exp32, Exp, Log, Pow, Sin, Cos and Sqrt32.
//
// Go's math package computes some of these with per-architecture
// assembly, and the compiler may fuse its multiply-adds on arm64, ppc64
// and s390x, so its results can differ between machines. These functions
// use only IEEE 754 basic operations (+ - * /, exact conversions, bit
// manipulation, and math.Sqrt, which is correctly rounded everywhere).
// Every product that feeds an addition is written float64(a*b) or
// float32(a*b): an explicit conversion forbids fusion in Go. So each
// function returns the same bits on every architecture, and the
// algorithm, constants and operation order below are part of the frozen
// arithmetic: changing any of them changes output bits and needs a new
// runtime version.
//
// # Algorithms
//
// Exp32 works in float32 only, so that vector code (and a future GPU
// backend) can repeat it lane by lane; see Exp32 for the exact sequence.
// Its error is below 1 ulp: at most 0.987 ulp over every float32 input
// (measured exhaustively; 99.2% of results are correctly rounded).
//
// Exp, Log, Pow, and the polynomial kernels of Sin and Cos are ports of
// fdlibm 5.3 (Sun Microsystems, "Permission to use, copy, modify, and
// distribute this software is freely granted, provided that this notice
// is preserved."): e_exp.c, e_log.c, e_pow.c, k_sin.c, k_cos.c, and the
// small and medium argument cases of e_rem_pio2.c (|x| <= 2^19·π/2). Larger
// arguments of Sin and Cos are reduced by this package's own Payne–Hanek
// reduction (integer arithmetic on fdlibm's table of 2/π, then a
// double-double product with π/2), which keeps the reduced argument to
// about 2^-100 relative accuracy for every finite double. fdlibm
// documents errors below 1 ulp for these functions; the tests measure
// them against a 320-bit reference (all below 0.81 ulp on their samples).
//
// Pow follows C99 Annex F (and Go's math.Pow) for special values; for
// finite nonzero x and y it is fdlibm's __ieee754_pow.
package detmath
