package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Q8_0 block layout: a binary16 scale d, then 32 int8 q; value = d·q.
const (
	q8Block      = 32
	q8BlockBytes = 2 + q8Block
)

// QuantizeQ8_0 quantizes x, whose length is a multiple of 32, to Q8_0, as
// llama.cpp's quantize_row_q8_0_ref does, bit for bit. For each block of
// 32: amax = max |x[i]|, d = amax/127 (a float32 division), id = 1/d (0
// when d is 0), q[i] = roundf(float32(x[i]*id)), half away from zero,
// clamped to [-127, 127]; the block stores F32ToF16(d) then the 32 q.
//
// Where C leaves things to chance this picks: amax follows C's MAX macro,
// so a NaN in x replaces the running maximum (as it does in C); a NaN
// product, from a NaN or infinite x, stores q = 0, which is what x86's
// float-to-int conversion gives C's undefined cast. It panics if len(x) is
// not a multiple of 32.
func QuantizeQ8_0(x []float32) []byte {
	if len(x)%q8Block != 0 {
		panic(fmt.Sprintf("gguf: QuantizeQ8_0: %d values are not whole blocks of %d", len(x), q8Block))
	}
	out := make([]byte, len(x)/q8Block*q8BlockBytes)
	for blk := 0; blk < len(x)/q8Block; blk++ {
		xs := x[blk*q8Block : (blk+1)*q8Block]
		o := out[blk*q8BlockBytes : (blk+1)*q8BlockBytes]
		var amax float32
		for _, v := range xs {
			// fabsf, then MAX(amax, a) as C's macro has it, NaN included.
			a := math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
			if !(amax > a) {
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(o, F32ToF16(d))
		for j, v := range xs {
			p := v * id // float32 product, rounded once
			o[2+j] = byte(int8(roundClamp(p)))
		}
	}
	return out
}

// roundClamp rounds half away from zero (C's roundf) and clamps to
// [-127, 127]; NaN gives 0.
func roundClamp(p float32) int32 {
	r := math.Round(float64(p)) // exact: float64 holds every float32
	switch {
	case math.IsNaN(r):
		return 0
	case r > 127:
		return 127
	case r < -127:
		return -127
	}
	return int32(r)
}

// DequantizeQ8_0 converts Q8_0 blocks to float32: out[i] = float32(d ·
// float32(q[i])) with d the block's scale converted exactly, each product
// rounded to float32, never fused. It panics unless len(out) is a multiple
// of 32 and len(b) is 34 bytes for each 32 values.
func DequantizeQ8_0(b []byte, out []float32) {
	if len(out)%q8Block != 0 || len(b) != len(out)/q8Block*q8BlockBytes {
		panic(fmt.Sprintf("gguf: DequantizeQ8_0: %d bytes for %d values", len(b), len(out)))
	}
	for blk := 0; blk < len(out)/q8Block; blk++ {
		o := b[blk*q8BlockBytes:]
		d := F16ToF32(binary.LittleEndian.Uint16(o))
		for j := range q8Block {
			out[blk*q8Block+j] = float32(d * float32(int8(o[2+j])))
		}
	}
}

// Encode encodes x as tensor data of type t: F32 (little-endian), F16
// (rounded to nearest even) or Q8_0 (QuantizeQ8_0, len(x) a multiple of
// 32). Other types panic: a writer picks its type.
func Encode(x []float32, t Type) []byte {
	switch t {
	case F32:
		b := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	case F16:
		b := make([]byte, 2*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint16(b[2*i:], F32ToF16(v))
		}
		return b
	case Q8_0:
		return QuantizeQ8_0(x)
	}
	panic(fmt.Sprintf("gguf: Encode to %s", t))
}
