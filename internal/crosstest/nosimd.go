//go:build !goexperiment.simd

package crosstest

const simdBuild = false
