package gguf

import (
	"math"
	"testing"
)

// f16Value is the value of a binary16 by the standard's formula, in
// float64: (-1)^s · 2^(e-15) · (1 + m/1024), or 2^-14 · m/1024 when e is 0.
func f16Value(h uint16) float64 {
	s := 1.0
	if h&0x8000 != 0 {
		s = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	switch e {
	case 0x1f:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(s))
	case 0:
		return s * math.Ldexp(m/1024, -14)
	}
	return s * math.Ldexp(1+m/1024, e-15)
}

func TestF16ToF32Exhaustive(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got := F16ToF32(h)
		want := f16Value(h)
		if math.IsNaN(want) {
			// A NaN keeps its sign and payload, moved up 13 bits.
			wantBits := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			if math.Float32bits(got) != wantBits {
				t.Fatalf("F16ToF32(%#04x) = %#08x, want NaN %#08x", h, math.Float32bits(got), wantBits)
			}
			continue
		}
		// float32(want) is exact: every binary16 is a float32. Comparing
		// bits also checks the sign of zero.
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("F16ToF32(%#04x) = %g, want %g", h, got, want)
		}
	}
}

func TestF32ToF16RoundTripsEveryF16(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got := F32ToF16(F16ToF32(h))
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			if got != h&0x8000|0x7e00 {
				t.Fatalf("NaN %#04x came back as %#04x, want %#04x", h, got, h&0x8000|0x7e00)
			}
			continue
		}
		if got != h {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, got)
		}
	}
}

// TestF32ToF16Ties checks every midpoint between neighbouring binary16
// values, of both signs: the midpoint goes to the even one, and the float32
// just either side of it to the nearer one.
func TestF32ToF16Ties(t *testing.T) {
	for i := range 0x7c00 {
		for _, sign := range []uint16{0, 0x8000} {
			lo := sign | uint16(i)
			loV := f16Value(lo)
			// Past the largest finite value (0x7bff) the next step up is
			// 2^16, which rounds to infinity, 0x7c00: the threshold 65520
			// is this midpoint.
			hiV := f16Value(lo + 1)
			if i == 0x7bff {
				hiV = math.Copysign(65536, loV)
			}
			mid := float32((loV + hiV) / 2) // exact: one bit more than binary16 has
			even := lo
			if lo&1 == 1 {
				even = lo + 1
			}
			if got := F32ToF16(mid); got != even {
				t.Fatalf("midpoint %g of %#04x and %#04x: got %#04x, want %#04x", mid, lo, lo+1, got, even)
			}
			toward0 := math.Nextafter32(mid, 0)
			away := math.Nextafter32(mid, float32(math.Copysign(math.Inf(1), loV)))
			if got := F32ToF16(toward0); got != lo {
				t.Fatalf("just inside midpoint %g: got %#04x, want %#04x", mid, got, lo)
			}
			if got := F32ToF16(away); got != lo+1 {
				t.Fatalf("just outside midpoint %g: got %#04x, want %#04x", mid, got, lo+1)
			}
		}
	}
}

func TestF32ToF16Cases(t *testing.T) {
	tests := []struct {
		name string
		f    float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"-2", -2, 0xc000},
		{"0.1", 0.1, 0x2e66},
		{"1/3", 1.0 / 3, 0x3555},
		{"largest finite", 65504, 0x7bff},
		{"just below the overflow threshold", math.Nextafter32(65520, 0), 0x7bff},
		{"overflow threshold", 65520, 0x7c00},
		{"overflow", 1e10, 0x7c00},
		{"largest float32", math.MaxFloat32, 0x7c00},
		{"-infinity", float32(math.Inf(-1)), 0xfc00},
		{"NaN", float32(math.NaN()), 0x7e00},
		{"negative NaN", math.Float32frombits(0xffc00001), 0xfe00},
		{"signalling NaN", math.Float32frombits(0x7f800001), 0x7e00},
		{"smallest normal", 0x1p-14, 0x0400},
		{"largest subnormal", 0x3ffp-24, 0x03ff},
		{"smallest subnormal", 0x1p-24, 0x0001},
		{"half the smallest subnormal: tie to zero", 0x1p-25, 0x0000},
		{"just over half the smallest subnormal", math.Nextafter32(0x1p-25, 1), 0x0001},
		{"1.5 smallest subnormals: tie to 2", 0x3p-25, 0x0002},
		{"negative subnormal", -0x5p-24, 0x8005},
		{"tiny", 1e-30, 0x0000},
		{"negative tiny", -1e-30, 0x8000},
		{"float32 subnormal", math.SmallestNonzeroFloat32, 0x0000},
		{"subnormal rounding up to the smallest normal", 0x7ffp-25, 0x0400},
	}
	for _, tt := range tests {
		if got := F32ToF16(tt.f); got != tt.want {
			t.Errorf("%s: F32ToF16(%g) = %#04x, want %#04x", tt.name, tt.f, got, tt.want)
		}
	}
}

// ggmlFP32ToFP16 is ggml's portable C conversion (ggml_compute_fp32_to_fp16,
// from the FP16 library), which rounds with float arithmetic instead of
// integer shifts. Each float32 operation is converted explicitly so that
// the compiler cannot fuse them.
func ggmlFP32ToFP16(f float32) uint16 {
	scaleToInf := math.Float32frombits(0x77800000)
	scaleToZero := math.Float32frombits(0x08800000)
	abs := math.Float32frombits(math.Float32bits(f) &^ (1 << 31))
	base := float32(float32(abs*scaleToInf) * scaleToZero)
	w := math.Float32bits(f)
	shl1w := w + w
	sign := w & 0x80000000
	bias := shl1w & 0xff000000
	if bias < 0x71000000 {
		bias = 0x71000000
	}
	base = float32(math.Float32frombits((bias>>1)+0x07800000) + base)
	bits := math.Float32bits(base)
	expBits := (bits >> 13) & 0x00007c00
	mantBits := bits & 0x00000fff
	if shl1w > 0xff000000 {
		return uint16(sign>>16) | 0x7e00
	}
	return uint16(sign>>16) | uint16(expBits+mantBits)
}

// TestF32ToF16MatchesGGML compares with ggml's own algorithm on a spread
// of float32 bit patterns and on every binary16 value and its neighbours.
func TestF32ToF16MatchesGGML(t *testing.T) {
	check := func(f float32) {
		if got, want := F32ToF16(f), ggmlFP32ToFP16(f); got != want {
			t.Fatalf("F32ToF16(%g = %#08x) = %#04x, ggml gives %#04x", f, math.Float32bits(f), got, want)
		}
	}
	for b := uint64(0); b < 1<<32; b += 251 {
		check(math.Float32frombits(uint32(b)))
	}
	for i := range 1 << 16 {
		f := F16ToF32(uint16(i))
		check(f)
		check(math.Nextafter32(f, float32(math.Inf(1))))
		check(math.Nextafter32(f, float32(math.Inf(-1))))
	}
}

func TestDequantizeF16(t *testing.T) {
	b := []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c}
	out := make([]float32, 4)
	DequantizeF16(b, out)
	want := []float32{1, -2, 0x1p-24, float32(math.Inf(1))}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("out[%d] = %g, want %g", i, out[i], want[i])
		}
	}
	if got := EncodeF16(want); string(got) != string(b) {
		t.Errorf("EncodeF16 = %x, want %x", got, b)
	}
	mustPanic(t, "DequantizeF16 with a short out", func() { DequantizeF16(b, make([]float32, 3)) })
	mustPanic(t, "DecodeF32 with an odd length", func() { DecodeF32(make([]byte, 7), make([]float32, 2)) })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}
