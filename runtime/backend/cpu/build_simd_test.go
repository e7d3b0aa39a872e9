//go:build goexperiment.simd

package cpu

// simdBuild reports whether this test binary was built with
// GOEXPERIMENT=simd.
const simdBuild = true
