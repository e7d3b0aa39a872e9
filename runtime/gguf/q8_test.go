package gguf

import (
	"bytes"
	"math"
	"testing"
)

// block returns 32 values: vs, then zeros.
func block(vs ...float32) []float32 {
	x := make([]float32, 32)
	copy(x, vs)
	return x
}

// q8 returns one Q8_0 block's bytes: the scale's two bytes, little-endian,
// then qs as int8, then zeros.
func q8(scale uint16, qs ...int8) []byte {
	b := make([]byte, 34)
	b[0], b[1] = byte(scale), byte(scale>>8)
	for i, q := range qs {
		b[2+i] = byte(q)
	}
	return b
}

// TestQuantizeQ8_0 checks blocks whose bytes follow by hand from
// llama.cpp's quantize_row_q8_0_ref: d = amax/127, id = 1/d, q =
// roundf(x·id).
func TestQuantizeQ8_0(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	tests := []struct {
		name string
		x    []float32
		want []byte
	}{
		// amax 0: d = 0 (binary16 0x0000), id = 0, every q 0.
		{"all zeros", block(), q8(0x0000)},
		// amax 127: d = 1 exactly (0x3c00), id = 1, so q = roundf(x):
		// halves go away from zero, and the float32 just under 0.5 to 0.
		{"max 127, halves round away from zero",
			block(127, -127, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, math.Nextafter32(0.5, 0), 3.7, -3.2),
			q8(0x3c00, 127, -127, 1, -1, 2, -2, 3, -3, 127, -127, 0, 4, -3)},
		// amax from a negative value, 254: d = 2 exactly (0x4000), id =
		// 0.5; 1·0.5, 3·0.5 and 5·0.5 are ties.
		{"negative max",
			block(-254, 1, 3, 5, -5, 2, -1, 253),
			q8(0x4000, -127, 1, 2, 3, -3, 1, -1, 127)},
		// amax 1: d = float32(1/127) = 2^-7·1.00787..., whose binary16 is
		// 2^-7·(1 + 8/1024), 0x2008. id is 127 to within a float32 ulp,
		// which cannot move these products across a rounding boundary:
		// 127, -127, 31.75 and -95.25.
		{"inexact scale",
			block(1, -1, 0.25, -0.75),
			q8(0x2008, 127, -127, 32, -95)},
		// An infinity makes d = +Inf (0x7c00) and id = 1/Inf = 0; Inf·0 is
		// NaN, stored as 0, and every finite x gives 0.
		{"infinity", block(inf, 3), q8(0x7c00)},
		// C's MAX(amax, fabsf(x)) is amax > |x| ? amax : |x|, so a NaN
		// replaces the running maximum and the next value replaces the
		// NaN: here amax ends as 2, d = 2/127 (0x2408), the NaN gives 0.
		{"NaN inside", block(nan, 2), q8(0x2408, 0, 127)},
		// A NaN last leaves amax NaN: d and id are NaN, every q 0.
		{"NaN last", append(block(2)[:31], nan), q8(0x7e00)},
	}
	for _, tt := range tests {
		if got := QuantizeQ8_0(tt.x); !bytes.Equal(got, tt.want) {
			t.Errorf("%s:\n got %x\nwant %x", tt.name, got, tt.want)
		}
	}
}

func TestQuantizeQ8_0BlocksAreIndependent(t *testing.T) {
	x := append(block(), block(127, -3.5)...)
	want := append(q8(0x0000), q8(0x3c00, 127, -4)...)
	if got := QuantizeQ8_0(x); !bytes.Equal(got, want) {
		t.Errorf("got %x\nwant %x", got, want)
	}
	if got := QuantizeQ8_0(nil); len(got) != 0 {
		t.Errorf("QuantizeQ8_0(nil) = %x", got)
	}
	mustPanic(t, "QuantizeQ8_0 of 31 values", func() { QuantizeQ8_0(make([]float32, 31)) })
}

func TestDequantizeQ8_0(t *testing.T) {
	b := append(q8(0x4000, -127, 1, 2), q8(0x2008, 127, -127, 32, -95)...)
	out := make([]float32, 64)
	DequantizeQ8_0(b, out)
	// The second block's d is 1032·2^-17, so d·q is exact in float32:
	// 1032·127 = 131064, 1032·32 = 33024, 1032·95 = 98040.
	want := map[int]float32{
		0: -254, 1: 2, 2: 4,
		32: 131064 * 0x1p-17, 33: -131064 * 0x1p-17, 34: 33024 * 0x1p-17, 35: -98040 * 0x1p-17,
	}
	for i, got := range out {
		if got != want[i] {
			t.Errorf("out[%d] = %g, want %g", i, got, want[i])
		}
	}
	mustPanic(t, "DequantizeQ8_0 with a short out", func() { DequantizeQ8_0(b, make([]float32, 32)) })
	mustPanic(t, "DequantizeQ8_0 of part of a block", func() { DequantizeQ8_0(b[:34], make([]float32, 31)) })
}

// TestQ8_0RoundTripError: dequantizing what QuantizeQ8_0 made is within
// half a step (d/2, plus the scale's binary16 rounding) of the input.
func TestQ8_0RoundTripError(t *testing.T) {
	x := make([]float32, 32*8)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.37)) * float32(1+i%7)
	}
	out := make([]float32, len(x))
	DequantizeQ8_0(QuantizeQ8_0(x), out)
	for blk := 0; blk < len(x)/32; blk++ {
		var amax float64
		for _, v := range x[blk*32 : blk*32+32] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		step := amax / 127
		for i := blk * 32; i < blk*32+32; i++ {
			if e := math.Abs(float64(out[i] - x[i])); e > step*0.51+amax*1e-3 {
				t.Errorf("x[%d] = %g came back as %g, error %g > half a step %g", i, x[i], out[i], e, step/2)
			}
		}
	}
}
