// Package wasm holds the example WebAssembly jobs' committed builds, so
// that tests and benchmarks use exactly the modules a user would submit:
// wordfreq.wasm, built from ./wordfreq (the README walkthrough's job), and
// kernel.wasm, built from ./kernelprog (the work of `mycel bench wasm`,
// whose source is ./kernel, shared with the benchmark's native side).
// README.md says how to rebuild them.
package wasm

import _ "embed"

// The builds are embedded as strings, which are immutable; the accessors
// hand out copies.
var (
	//go:embed wordfreq.wasm
	wordFreq string
	//go:embed kernel.wasm
	kernel string
)

// WordFreq returns the wordfreq module.
func WordFreq() []byte { return []byte(wordFreq) }

// Kernel returns the benchmark kernel's module.
func Kernel() []byte { return []byte(kernel) }
