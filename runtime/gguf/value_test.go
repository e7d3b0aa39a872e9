package gguf

import (
	"math"
	"slices"
	"testing"
)

func TestValueAccessors(t *testing.T) {
	type result struct {
		u64   uint64
		u64ok bool
		i64   int64
		i64ok bool
		f64   float64
		f64ok bool
	}
	tests := []struct {
		name string
		v    Value
		want result
	}{
		{"uint8", Uint8(255), result{255, true, 255, true, 0, false}},
		{"int8 negative", Int8(-128), result{0, false, -128, true, 0, false}},
		{"int8 positive", Int8(5), result{5, true, 5, true, 0, false}},
		{"uint16", Uint16(65535), result{65535, true, 65535, true, 0, false}},
		{"int16", Int16(-1), result{0, false, -1, true, 0, false}},
		{"uint32", Uint32(math.MaxUint32), result{math.MaxUint32, true, math.MaxUint32, true, 0, false}},
		{"int32", Int32(math.MinInt32), result{0, false, math.MinInt32, true, 0, false}},
		{"uint64 max", Uint64(math.MaxUint64), result{math.MaxUint64, true, 0, false, 0, false}},
		{"uint64 small", Uint64(7), result{7, true, 7, true, 0, false}},
		{"int64 min", Int64(math.MinInt64), result{0, false, math.MinInt64, true, 0, false}},
		{"float32", Float32(0.1), result{0, false, 0, false, float64(float32(0.1)), true}},
		{"float64", Float64(0.1), result{0, false, 0, false, 0.1, true}},
		{"bool", Bool(true), result{}},
		{"string", Str("7"), result{}},
		{"array", Uint32Array([]uint32{1}), result{}},
		{"zero Value", Value{}, result{}},
	}
	for _, tt := range tests {
		var got result
		got.u64, got.u64ok = tt.v.Uint64()
		got.i64, got.i64ok = tt.v.Int64()
		got.f64, got.f64ok = tt.v.Float64()
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestValueKinds(t *testing.T) {
	if b, ok := Bool(true).Bool(); !ok || !b {
		t.Error("Bool(true).Bool()")
	}
	if _, ok := Uint8(1).Bool(); ok {
		t.Error("Uint8(1).Bool() succeeded")
	}
	if s, ok := Str("x").String(); !ok || s != "x" {
		t.Error(`Str("x").String()`)
	}
	if f, ok := Float64(1e300).Float32(); !ok || !math.IsInf(float64(f), 1) {
		t.Errorf("Float64(1e300).Float32() = %v, %v; want +Inf", f, ok)
	}
	if Str("x").Len() != 0 || Uint8(1).Len() != 0 {
		t.Error("Len of a scalar is not 0")
	}
	if _, ok := Uint8(1).ArrayType(); ok {
		t.Error("ArrayType of a scalar succeeded")
	}
	if ty := (Value{}).Type(); ty.known() {
		t.Errorf("zero Value has type %v", ty)
	}
	if ValueType(13).String() != "valuetype(13)" || ValueFloat64.String() != "float64" {
		t.Error("ValueType.String")
	}
}

func TestValueArrays(t *testing.T) {
	tokens := StrArray([]string{"a", "", "▁c"})
	if got, ok := tokens.Strings(); !ok || !slices.Equal(got, []string{"a", "", "▁c"}) || tokens.Len() != 3 {
		t.Errorf("Strings() = %q, %v", got, ok)
	}
	if et, ok := tokens.ArrayType(); !ok || et != ValueString {
		t.Errorf("ArrayType() = %v, %v", et, ok)
	}
	got, _ := tokens.Strings()
	got[0] = "changed"
	if again, _ := tokens.Strings(); again[0] != "a" {
		t.Error("Strings() shares memory with the Value")
	}
	if _, ok := tokens.Float32s(); ok {
		t.Error("Float32s() of strings succeeded")
	}

	scores := Float32Array([]float32{1.5, -0.25})
	if got, ok := scores.Float32s(); !ok || !slices.Equal(got, []float32{1.5, -0.25}) {
		t.Errorf("Float32s() = %v, %v", got, ok)
	}
	if _, ok := scores.Int32s(); ok {
		t.Error("Int32s() of floats succeeded")
	}

	int32Tests := []struct {
		name string
		v    Value
		want []int32
		ok   bool
	}{
		{"int32", Int32Array([]int32{-1, math.MaxInt32}), []int32{-1, math.MaxInt32}, true},
		{"uint8", Array(ValueUint8, []Value{Uint8(6), Uint8(255)}), []int32{6, 255}, true},
		{"int8", Array(ValueInt8, []Value{Int8(-6)}), []int32{-6}, true},
		{"uint32 fits", Uint32Array([]uint32{1, math.MaxInt32}), []int32{1, math.MaxInt32}, true},
		{"uint32 too big", Uint32Array([]uint32{1 << 31}), nil, false},
		{"int64 too small", Array(ValueInt64, []Value{Int64(math.MinInt32 - 1)}), nil, false},
		{"uint64 max", Array(ValueUint64, []Value{Uint64(math.MaxUint64)}), nil, false},
		{"empty", Array(ValueInt32, nil), []int32{}, true},
		{"strings", tokens, nil, false},
	}
	for _, tt := range int32Tests {
		got, ok := tt.v.Int32s()
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Int32s() = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}

	nested := Array(ValueArray, []Value{Uint32Array([]uint32{7}), StrArray([]string{"x"})})
	vs, ok := nested.Values()
	if !ok || len(vs) != 2 || nested.Len() != 2 {
		t.Fatalf("Values() = %d values, %v", len(vs), ok)
	}
	if inner, _ := vs[0].Values(); len(inner) != 1 || !inner[0].Equal(Uint32(7)) {
		t.Errorf("inner array = %v", inner)
	}
	if !nested.Equal(Array(ValueArray, []Value{Uint32Array([]uint32{7}), StrArray([]string{"x"})})) {
		t.Error("equal nested arrays are not Equal")
	}
	if nested.Equal(Array(ValueArray, []Value{Uint32Array([]uint32{8}), StrArray([]string{"x"})})) {
		t.Error("different nested arrays are Equal")
	}

	bad := Array(ValueUint32, []Value{Uint32(1), Int32(2)})
	if _, ok := bad.ArrayType(); ok || bad.Len() != 0 || bad.Equal(bad) {
		t.Error("an array with a wrong element looks valid")
	}
}

func TestValueEqualIsBitwise(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		a, b Value
		want bool
	}{
		{"same NaN", Float32(nan), Float32(nan), true},
		{"zero and negative zero", Float32(0), Float32(float32(math.Copysign(0, -1))), false},
		{"same number, other type", Uint32(1), Uint64(1), false},
		{"strings", Str("a"), Str("a"), true},
		{"zero Values", Value{}, Value{}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Equal(tt.b); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
}
