package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ValueType is the type of a metadata value, numbered as in the GGUF
// specification.
type ValueType uint32

// The metadata value types.
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

// MaxArrayDepth is how many levels of arrays a value may have: an array of
// arrays of arrays of arrays of scalars, at most. The limit bounds the
// reader's recursion; it is the one @huggingface/gguf uses, and llama.cpp
// itself reads no nested arrays at all.
const MaxArrayDepth = 4

// String returns the specification's name of the type ("uint8", "string",
// "array", ...), or "valuetype(N)" for an unknown one.
func (t ValueType) String() string {
	switch t {
	case ValueUint8:
		return "uint8"
	case ValueInt8:
		return "int8"
	case ValueUint16:
		return "uint16"
	case ValueInt16:
		return "int16"
	case ValueUint32:
		return "uint32"
	case ValueInt32:
		return "int32"
	case ValueFloat32:
		return "float32"
	case ValueBool:
		return "bool"
	case ValueString:
		return "string"
	case ValueArray:
		return "array"
	case ValueUint64:
		return "uint64"
	case ValueInt64:
		return "int64"
	case ValueFloat64:
		return "float64"
	}
	return "valuetype(" + strconv.FormatUint(uint64(t), 10) + ")"
}

func (t ValueType) known() bool { return t <= ValueFloat64 }

// size is the encoded size of a scalar of type t; 0 for strings, arrays
// and unknown types.
func (t ValueType) size() int {
	switch t {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	}
	return 0
}

// minSize is the fewest bytes a value of type t can take in a file: an
// empty string is its 8-byte length, an empty array its 4-byte element
// type and 8-byte count.
func (t ValueType) minSize() uint64 {
	switch t {
	case ValueString:
		return 8
	case ValueArray:
		return 4 + 8
	}
	return uint64(t.size())
}

func (t ValueType) integer() bool {
	switch t {
	case ValueUint8, ValueInt8, ValueUint16, ValueInt16, ValueUint32, ValueInt32, ValueUint64, ValueInt64:
		return true
	}
	return false
}

func (t ValueType) signed() bool {
	return t == ValueInt8 || t == ValueInt16 || t == ValueInt32 || t == ValueInt64
}

// Value is one metadata value: a scalar, a string, or an array. Values are
// immutable; the zero Value holds nothing and Write refuses it.
type Value struct {
	// kind is the ValueType plus one, so that the zero Value is no type.
	kind uint32
	// elem is an array's element type.
	elem ValueType
	// bits holds a scalar: integers sign- or zero-extended to 64 bits,
	// floats as their IEEE bits, bools as 0 or 1.
	bits uint64
	str  string
	// arr holds an array's elements: []byte with the scalars packed as in
	// the file (so a million-entry array is one allocation, not a million
	// Values), []string, []Value for an array of arrays, or the error of
	// an Array call that was given the wrong elements.
	arr any
}

// Type returns the value's type. The zero Value has no type: Type returns
// a ValueType that is not known.
func (v Value) Type() ValueType { return ValueType(v.kind - 1) }

func (v Value) is(t ValueType) bool { return v.kind == uint32(t)+1 }

// Uint64 returns an integer value of any integer type that is not
// negative.
func (v Value) Uint64() (uint64, bool) {
	t := v.Type()
	if !t.integer() || (t.signed() && int64(v.bits) < 0) {
		return 0, false
	}
	return v.bits, true
}

// Int64 returns an integer value of any integer type that fits in an
// int64.
func (v Value) Int64() (int64, bool) {
	t := v.Type()
	if !t.integer() || (!t.signed() && v.bits > math.MaxInt64) {
		return 0, false
	}
	return int64(v.bits), true
}

// Float64 returns a float32 or float64 value; a float32 converts exactly.
// Integers are refused: GGUF stores real numbers as floats.
func (v Value) Float64() (float64, bool) {
	switch {
	case v.is(ValueFloat32):
		return float64(math.Float32frombits(uint32(v.bits))), true
	case v.is(ValueFloat64):
		return math.Float64frombits(v.bits), true
	}
	return 0, false
}

// Float32 returns a float32 value, or a float64 value rounded to the
// nearest float32.
func (v Value) Float32() (float32, bool) {
	switch {
	case v.is(ValueFloat32):
		return math.Float32frombits(uint32(v.bits)), true
	case v.is(ValueFloat64):
		return float32(math.Float64frombits(v.bits)), true
	}
	return 0, false
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) {
	if !v.is(ValueBool) {
		return false, false
	}
	return v.bits != 0, true
}

// String returns a string value. GGUF strings are meant to be UTF-8, but
// the reader does not check: some vocabularies hold partial sequences.
func (v Value) String() (string, bool) {
	if !v.is(ValueString) {
		return "", false
	}
	return v.str, true
}

// ArrayType returns an array's element type.
func (v Value) ArrayType() (ValueType, bool) {
	if !v.is(ValueArray) {
		return 0, false
	}
	if _, bad := v.arr.(error); bad {
		return 0, false
	}
	return v.elem, true
}

// Len returns an array's length, 0 for anything else.
func (v Value) Len() int {
	switch a := v.arr.(type) {
	case []byte:
		return len(a) / v.elem.size()
	case []string:
		return len(a)
	case []Value:
		return len(a)
	}
	return 0
}

// Strings returns a copy of an array of strings.
func (v Value) Strings() ([]string, bool) {
	a, ok := v.arr.([]string)
	if !ok || !v.is(ValueArray) {
		return nil, false
	}
	return append([]string(nil), a...), true
}

// Float32s returns an array of float32.
func (v Value) Float32s() ([]float32, bool) {
	a, ok := v.arr.([]byte)
	if !ok || v.elem != ValueFloat32 {
		return nil, false
	}
	out := make([]float32, len(a)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a[4*i:]))
	}
	return out, true
}

// Int32s returns an array of integers of any type whose elements all fit
// in an int32 (token types are int32, but a writer may well use another
// integer type).
func (v Value) Int32s() ([]int32, bool) {
	a, ok := v.arr.([]byte)
	if !ok || !v.elem.integer() {
		return nil, false
	}
	size := v.elem.size()
	out := make([]int32, len(a)/size)
	for i := range out {
		x, ok := scalar(v.elem, a[i*size:]).Int64()
		if !ok || x < math.MinInt32 || x > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// Values returns an array's elements as Values.
func (v Value) Values() ([]Value, bool) {
	if _, ok := v.ArrayType(); !ok {
		return nil, false
	}
	switch a := v.arr.(type) {
	case []byte:
		size := v.elem.size()
		out := make([]Value, len(a)/size)
		for i := range out {
			out[i] = scalar(v.elem, a[i*size:])
		}
		return out, true
	case []string:
		out := make([]Value, len(a))
		for i, s := range a {
			out[i] = Str(s)
		}
		return out, true
	case []Value:
		return append([]Value(nil), a...), true
	}
	return nil, false
}

// Equal reports whether two values have the same type and the same
// encoding: floats compare by their bits, so NaN equals the same NaN and
// +0 does not equal -0.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind || v.kind == 0 {
		return false
	}
	a, err := appendValue(nil, v, 1)
	if err != nil {
		return false
	}
	b, err := appendValue(nil, w, 1)
	return err == nil && bytes.Equal(a, b)
}

// scalar decodes a scalar of type t from the start of b, which holds at
// least t.size() bytes.
func scalar(t ValueType, b []byte) Value {
	var bits uint64
	switch t.size() {
	case 1:
		bits = uint64(b[0])
		if t == ValueInt8 {
			bits = uint64(int64(int8(b[0])))
		}
	case 2:
		bits = uint64(binary.LittleEndian.Uint16(b))
		if t == ValueInt16 {
			bits = uint64(int64(int16(bits)))
		}
	case 4:
		bits = uint64(binary.LittleEndian.Uint32(b))
		if t == ValueInt32 {
			bits = uint64(int64(int32(bits)))
		}
	case 8:
		bits = binary.LittleEndian.Uint64(b)
	}
	return Value{kind: uint32(t) + 1, bits: bits}
}

// Constructors, for writing.

// Uint8 returns a uint8 value.
func Uint8(x uint8) Value { return Value{kind: uint32(ValueUint8) + 1, bits: uint64(x)} }

// Int8 returns an int8 value.
func Int8(x int8) Value { return Value{kind: uint32(ValueInt8) + 1, bits: uint64(int64(x))} }

// Uint16 returns a uint16 value.
func Uint16(x uint16) Value { return Value{kind: uint32(ValueUint16) + 1, bits: uint64(x)} }

// Int16 returns an int16 value.
func Int16(x int16) Value { return Value{kind: uint32(ValueInt16) + 1, bits: uint64(int64(x))} }

// Uint32 returns a uint32 value.
func Uint32(x uint32) Value { return Value{kind: uint32(ValueUint32) + 1, bits: uint64(x)} }

// Int32 returns an int32 value.
func Int32(x int32) Value { return Value{kind: uint32(ValueInt32) + 1, bits: uint64(int64(x))} }

// Uint64 returns a uint64 value.
func Uint64(x uint64) Value { return Value{kind: uint32(ValueUint64) + 1, bits: x} }

// Int64 returns an int64 value.
func Int64(x int64) Value { return Value{kind: uint32(ValueInt64) + 1, bits: uint64(x)} }

// Float32 returns a float32 value.
func Float32(x float32) Value {
	return Value{kind: uint32(ValueFloat32) + 1, bits: uint64(math.Float32bits(x))}
}

// Float64 returns a float64 value.
func Float64(x float64) Value {
	return Value{kind: uint32(ValueFloat64) + 1, bits: math.Float64bits(x)}
}

// Bool returns a bool value.
func Bool(x bool) Value {
	v := Value{kind: uint32(ValueBool) + 1}
	if x {
		v.bits = 1
	}
	return v
}

// Str returns a string value.
func Str(s string) Value { return Value{kind: uint32(ValueString) + 1, str: s} }

// Array returns an array of elements of type elem. Every element must be of
// that type; otherwise the Value is invalid and Write reports why.
// Elements of an array of arrays may have different element types, as the
// format allows.
func Array(elem ValueType, vs []Value) Value {
	v := Value{kind: uint32(ValueArray) + 1, elem: elem}
	if !elem.known() {
		v.arr = fmt.Errorf("array of unknown value type %d", uint32(elem))
		return v
	}
	for i, e := range vs {
		if !e.is(elem) {
			v.arr = fmt.Errorf("array of %v: element %d is a %v", elem, i, e.Type())
			return v
		}
	}
	switch elem {
	case ValueString:
		a := make([]string, len(vs))
		for i, e := range vs {
			a[i] = e.str
		}
		v.arr = a
	case ValueArray:
		v.arr = append(make([]Value, 0, len(vs)), vs...)
	default:
		size := elem.size()
		a := make([]byte, len(vs)*size)
		for i, e := range vs {
			putScalar(a[i*size:], size, e.bits)
		}
		v.arr = a
	}
	return v
}

// StrArray returns an array of strings.
func StrArray(s []string) Value {
	return Value{kind: uint32(ValueArray) + 1, elem: ValueString, arr: append(make([]string, 0, len(s)), s...)}
}

// Float32Array returns an array of float32.
func Float32Array(x []float32) Value {
	a := make([]byte, 4*len(x))
	for i, f := range x {
		binary.LittleEndian.PutUint32(a[4*i:], math.Float32bits(f))
	}
	return Value{kind: uint32(ValueArray) + 1, elem: ValueFloat32, arr: a}
}

// Int32Array returns an array of int32.
func Int32Array(x []int32) Value {
	a := make([]byte, 4*len(x))
	for i, n := range x {
		binary.LittleEndian.PutUint32(a[4*i:], uint32(n))
	}
	return Value{kind: uint32(ValueArray) + 1, elem: ValueInt32, arr: a}
}

// Uint32Array returns an array of uint32.
func Uint32Array(x []uint32) Value {
	a := make([]byte, 4*len(x))
	for i, n := range x {
		binary.LittleEndian.PutUint32(a[4*i:], n)
	}
	return Value{kind: uint32(ValueArray) + 1, elem: ValueUint32, arr: a}
}

func putScalar(b []byte, size int, bits uint64) {
	switch size {
	case 1:
		b[0] = byte(bits)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(bits))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(bits))
	case 8:
		binary.LittleEndian.PutUint64(b, bits)
	}
}

// appendValue appends v's encoding (without its type tag) to dst. depth is
// the number of arrays v is inside, plus one if v is itself an array.
func appendValue(dst []byte, v Value, depth int) ([]byte, error) {
	t := v.Type()
	switch {
	case v.kind == 0:
		return dst, errors.New("zero Value")
	case t == ValueString:
		dst = binary.LittleEndian.AppendUint64(dst, uint64(len(v.str)))
		return append(dst, v.str...), nil
	case t == ValueArray:
		if depth > MaxArrayDepth {
			return dst, fmt.Errorf("arrays nested deeper than %d levels", MaxArrayDepth)
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v.elem))
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v.Len()))
		switch a := v.arr.(type) {
		case error:
			return dst, a
		case []byte:
			return append(dst, a...), nil
		case []string:
			for _, s := range a {
				dst = binary.LittleEndian.AppendUint64(dst, uint64(len(s)))
				dst = append(dst, s...)
			}
			return dst, nil
		case []Value:
			for i, e := range a {
				var err error
				if dst, err = appendValue(dst, e, depth+1); err != nil {
					return dst, fmt.Errorf("element %d: %w", i, err)
				}
			}
			return dst, nil
		}
		return dst, errors.New("array without elements") // not made by a constructor
	case t == ValueBool:
		return append(dst, byte(v.bits&1)), nil
	default:
		size := t.size()
		n := len(dst)
		dst = append(dst, make([]byte, size)...)
		putScalar(dst[n:], size, v.bits)
		return dst, nil
	}
}
