package kernel

import (
	"crypto/sha256"
	"testing"
)

func TestSum256(t *testing.T) {
	buf := make([]byte, 300)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for n := 0; n <= len(buf); n++ {
		if got, want := Sum256(buf[:n]), sha256.Sum256(buf[:n]); got != want {
			t.Fatalf("length %d: %x, want %x", n, got, want)
		}
	}
}

// The checksum is part of the benchmark's check that both sides did the
// same work; it must not change by accident.
func TestRunStable(t *testing.T) {
	if got, got2 := Run(16), Run(16); got != got2 || got == 0 {
		t.Fatalf("Run(16) = %d then %d", got, got2)
	}
}
