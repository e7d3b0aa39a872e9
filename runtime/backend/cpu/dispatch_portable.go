//go:build !goexperiment.simd || !amd64

package cpu

import "runtime"

// availableKernels lists the code paths this build can run on this
// processor, fastest first. Without GOEXPERIMENT=simd on amd64 there is
// only the portable one.
func availableKernels() []*kernels {
	return []*kernels{&portable}
}

// BuildHint says how to get faster kernels than this build has, or "".
func BuildHint() string {
	if runtime.GOARCH == "amd64" {
		return "this build has only the portable kernels: build with GOEXPERIMENT=simd for the AVX2 and AVX-512 ones (the same bits, about 10x faster)"
	}
	return ""
}
