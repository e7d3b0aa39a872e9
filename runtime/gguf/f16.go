package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// F16ToF32 converts an IEEE 754 binary16 to float32. Every binary16 is a
// float32, so the conversion is exact: subnormals become normal float32s,
// infinities stay infinities, and a NaN keeps its sign and payload (the
// payload's bits move up by 13, so a quiet NaN stays quiet).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal: rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal, mant·2^-24: shift the mantissa until its top bit reaches
	// the implicit position; each shift lowers the exponent by one.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// F32ToF16 converts a float32 to the nearest IEEE 754 binary16, ties to
// even, as ggml's GGML_FP32_TO_FP16 does: values too small for a
// subnormal round to a signed zero, values from 65520 up (where rounding
// passes the largest finite binary16, 65504) become infinity, and a NaN
// becomes ggml's quiet NaN 0x7e00 with its sign kept. It uses integer
// operations only, so no platform's flush-to-zero or rounding mode can
// change it.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // the binary16 biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e >= 1 {
		// Normal: round the 23-bit mantissa to 10 bits. A carry out of the
		// mantissa rightly raises the exponent, up to infinity (0x7c00).
		return sign | uint16(uint32(e)<<10+roundShift(mant, 13))
	}
	// Subnormal (or zero): the significand with its implicit bit, in units
	// of 2^-24, is full >> (14-e). A float32 subnormal (exp 0) is far
	// below the smallest binary16 subnormal and rounds to zero.
	if exp == 0 || e < -10 {
		return sign
	}
	full := mant | 0x800000
	// A carry here gives 0x400, the smallest normal, which is right.
	return sign | uint16(roundShift(full, uint32(14-e)))
}

// roundShift returns x >> s (1 ≤ s ≤ 31) rounded to nearest, ties to even.
func roundShift(x, s uint32) uint32 {
	q := x >> s
	rem := x & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// DequantizeF16 converts the little-endian binary16 values in b to out,
// exactly. It panics unless len(b) == 2*len(out): a mismatch is a bug in
// the caller, not in the data.
func DequantizeF16(b []byte, out []float32) {
	if len(b) != 2*len(out) {
		panic(fmt.Sprintf("gguf: DequantizeF16: %d bytes for %d values", len(b), len(out)))
	}
	for i := range out {
		out[i] = F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
	}
}

// EncodeF16 returns x as little-endian binary16, the data of an F16
// tensor, each rounded by F32ToF16.
func EncodeF16(x []float32) []byte {
	b := make([]byte, 2*len(x))
	for i, f := range x {
		binary.LittleEndian.PutUint16(b[2*i:], F32ToF16(f))
	}
	return b
}

// EncodeF32 returns x as little-endian float32, the data of an F32
// tensor.
func EncodeF32(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, f := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// DecodeF32 converts the data of an F32 tensor to out. It panics unless
// len(b) == 4*len(out).
func DecodeF32(b []byte, out []float32) {
	if len(b) != 4*len(out) {
		panic(fmt.Sprintf("gguf: DecodeF32: %d bytes for %d values", len(b), len(out)))
	}
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}
