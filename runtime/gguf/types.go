package gguf

import "strconv"

// Type is a ggml tensor type, numbered as in ggml.h's enum ggml_type.
type Type uint32

// The ggml tensor types. The gaps (4, 5, 31 to 33, 36 to 38) are types that
// ggml has removed; files that use them no longer load in llama.cpp.
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
	MXFP4   Type = 39
)

// String returns ggml's name of the type ("F32", "Q8_0", ...), or
// "type(N)" for a type this package does not know.
func (t Type) String() string {
	if name, _, _, ok := t.info(); ok {
		return name
	}
	return "type(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// Block returns the number of elements in one block of the type and the
// bytes that block takes, as ggml's type traits give them (blck_size and
// type_size). A tensor's first dimension is a whole number of blocks. ok is
// false for a type this package does not know.
func (t Type) Block() (elems, bytes uint64, ok bool) {
	_, elems, bytes, ok = t.info()
	return elems, bytes, ok
}

// info is the one table of the known types. It is a switch rather than a
// package-level map so that nothing at package level can be changed.
//
// The sizes are sizeof(block_*) in ggml-common.h. Note Q8_1: its block is
// two float16 (d, s) and 32 int8, 36 bytes; gguf-py's GGML_QUANT_SIZES (and
// the JavaScript copy of it) still says 40, from when d and s were float32.
func (t Type) info() (name string, elems, bytes uint64, ok bool) {
	const qk = 256 // QK_K, the super-block of the K and IQ quants
	switch t {
	case F32:
		return "F32", 1, 4, true
	case F16:
		return "F16", 1, 2, true
	case Q4_0:
		return "Q4_0", 32, 2 + 16, true
	case Q4_1:
		return "Q4_1", 32, 2 + 2 + 16, true
	case Q5_0:
		return "Q5_0", 32, 2 + 4 + 16, true
	case Q5_1:
		return "Q5_1", 32, 2 + 2 + 4 + 16, true
	case Q8_0:
		return "Q8_0", 32, 2 + 32, true
	case Q8_1:
		return "Q8_1", 32, 2 + 2 + 32, true
	case Q2_K:
		return "Q2_K", qk, 2 + 2 + qk/16 + qk/4, true
	case Q3_K:
		return "Q3_K", qk, 2 + qk/4 + qk/8 + 12, true
	case Q4_K:
		return "Q4_K", qk, 2 + 2 + 12 + qk/2, true
	case Q5_K:
		return "Q5_K", qk, 2 + 2 + 12 + qk/8 + qk/2, true
	case Q6_K:
		return "Q6_K", qk, 2 + qk/2 + qk/4 + qk/16, true
	case Q8_K:
		return "Q8_K", qk, 4 + qk + qk/16*2, true
	case IQ2_XXS:
		return "IQ2_XXS", qk, 2 + qk/4, true
	case IQ2_XS:
		return "IQ2_XS", qk, 2 + qk/4 + qk/32, true
	case IQ3_XXS:
		return "IQ3_XXS", qk, 2 + qk/4 + qk/8, true
	case IQ1_S:
		return "IQ1_S", qk, 2 + qk/8 + qk/16, true
	case IQ4_NL:
		return "IQ4_NL", 32, 2 + 16, true
	case IQ3_S:
		return "IQ3_S", qk, 2 + qk/4 + qk/8 + qk/32 + 4, true
	case IQ2_S:
		return "IQ2_S", qk, 2 + qk/4 + qk/16, true
	case IQ4_XS:
		return "IQ4_XS", qk, 2 + 2 + qk/64 + qk/2, true
	case I8:
		return "I8", 1, 1, true
	case I16:
		return "I16", 1, 2, true
	case I32:
		return "I32", 1, 4, true
	case I64:
		return "I64", 1, 8, true
	case F64:
		return "F64", 1, 8, true
	case IQ1_M:
		return "IQ1_M", qk, qk/8 + qk/16 + qk/32, true
	case BF16:
		return "BF16", 1, 2, true
	case TQ1_0:
		return "TQ1_0", qk, (qk-4*qk/64)/5 + qk/64 + 2, true
	case TQ2_0:
		return "TQ2_0", qk, qk/4 + 2, true
	case MXFP4:
		return "MXFP4", 32, 1 + 16, true
	}
	return "", 0, 0, false
}
