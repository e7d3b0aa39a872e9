// Package deptest holds the tests that keep the codebase's shape: which
// package may import which, the determinism rules of chain/ (no clock,
// randomness, I/O, goroutines, floats or map iteration), and a doc comment
// on every package. It has no code of its own.
package deptest
