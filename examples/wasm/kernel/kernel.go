// Package kernel is the work of the wasm benchmark, written once and run
// both natively and, through ../kernelprog, as metered WebAssembly: an
// integer matrix multiply and a SHA-256 chain. It uses no floating point
// and no assembly (SHA-256 is implemented here rather than taken from
// crypto/sha256, whose native assembly the WebAssembly build could not
// use), so both sides do the same work.
package kernel

import "math/bits"

// ShaRounds is how many times Run hashes the product matrix.
const ShaRounds = 16

// Run multiplies two n×n uint32 matrices filled from a fixed linear
// congruential sequence (arithmetic mod 2^32), then hashes the product's
// bytes ShaRounds times, each round's digest overwriting the start of the
// buffer, and returns a checksum of the product and the last digest.
func Run(n int) uint64 {
	a, b, c := make([]uint32, n*n), make([]uint32, n*n), make([]uint32, n*n)
	x := uint32(1)
	for i := range a {
		x = x*1664525 + 1013904223
		a[i] = x >> 8
		x = x*1664525 + 1013904223
		b[i] = x >> 8
	}
	for i := 0; i < n; i++ {
		row := c[i*n : i*n+n]
		for k := 0; k < n; k++ {
			aik := a[i*n+k]
			bk := b[k*n : k*n+n]
			for j := range row {
				row[j] += aik * bk[j]
			}
		}
	}
	buf := make([]byte, 4*len(c))
	var sum uint64
	for i, v := range c {
		putLE32(buf[4*i:], v)
		sum = sum*31 + uint64(v)
	}
	var digest [32]byte
	for r := 0; r < ShaRounds; r++ {
		copy(buf, digest[:])
		digest = Sum256(buf)
	}
	return sum ^ uint64(be32(digest[:]))<<32 ^ uint64(be32(digest[4:]))
}

// k holds SHA-256's round constants; nothing writes it.
var k = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// Sum256 is SHA-256 (FIPS 180-4) in portable Go.
func Sum256(msg []byte) [32]byte {
	h := [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
	n := len(msg)
	full := n &^ 63
	blocks(&h, msg[:full])
	var tail [128]byte
	m := copy(tail[:], msg[full:])
	tail[m] = 0x80
	t := 64
	if m >= 56 {
		t = 128
	}
	putBE32(tail[t-8:], uint32(uint64(n)*8>>32))
	putBE32(tail[t-4:], uint32(uint64(n)*8))
	blocks(&h, tail[:t])
	var out [32]byte
	for i, v := range h {
		putBE32(out[4*i:], v)
	}
	return out
}

func blocks(h *[8]uint32, p []byte) {
	var w [64]uint32
	for ; len(p) >= 64; p = p[64:] {
		for i := 0; i < 16; i++ {
			w[i] = be32(p[4*i:])
		}
		for i := 16; i < 64; i++ {
			s0 := bits.RotateLeft32(w[i-15], -7) ^ bits.RotateLeft32(w[i-15], -18) ^ w[i-15]>>3
			s1 := bits.RotateLeft32(w[i-2], -17) ^ bits.RotateLeft32(w[i-2], -19) ^ w[i-2]>>10
			w[i] = w[i-16] + s0 + w[i-7] + s1
		}
		a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
		for i := 0; i < 64; i++ {
			s1 := bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)
			ch := e&f ^ ^e&g
			t1 := hh + s1 + ch + k[i] + w[i]
			s0 := bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)
			maj := a&b ^ a&c ^ b&c
			t2 := s0 + maj
			hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
		}
		h[0] += a
		h[1] += b
		h[2] += c
		h[3] += d
		h[4] += e
		h[5] += f
		h[6] += g
		h[7] += hh
	}
}

// Byte order by hand: encoding/binary would pull reflect into the
// WebAssembly build and double its size.
func be32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func putBE32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func putLE32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
