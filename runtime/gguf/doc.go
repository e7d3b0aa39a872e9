// Package gguf reads and writes GGUF, the model file format of llama.cpp
// (versions 2 and 3, little-endian), and converts the F16 and Q8_0 tensor
// encodings to and from float32.
//
// # Why a hardened reader
//
// mycel providers load model files that other people publish, so a GGUF
// file is untrusted input. Read parses and validates only the header (the
// metadata key/value pairs and the tensor infos) and never trusts a count
// or a length it finds there:
//
//   - every count and length is checked against the bytes left in the file
//     before anything is allocated for it, and slices grow as their
//     elements are actually read, so memory stays proportional to the
//     header bytes read, never to what the header claims;
//   - the header is read in chunks through an io.ReaderAt, never all at
//     once, so a multi-gigabyte file costs a few reads;
//   - nested arrays are limited to MaxArrayDepth levels, so neither the
//     stack nor the work can grow past the file's size;
//   - tensors must have 1 to 4 dimensions of at least 1 element, whole
//     blocks along the first dimension, offsets that are multiples of the
//     alignment, and data that lies inside the file without overlapping
//     another tensor's data;
//   - duplicate keys and tensor names, unknown metadata value types and
//     bool bytes other than 0 and 1 are errors.
//
// Every error is a *FormatError that names the item (the key, the tensor)
// and the byte offset, and wraps one of the Err values so that callers can
// tell a truncated file from a malformed one. A tensor of a type this
// package does not know still reads, so that tools can show it; its Bytes
// method reports the unknown type.
//
// # Where it differs from llama.cpp
//
// llama.cpp refuses nested arrays and tensor names of 64 bytes or more.
// This reader accepts both, since the specification allows them and other
// readers (gguf-py, @huggingface/gguf) read them, and it accepts
// general.alignment stored as any integer type where llama.cpp insists on
// a uint32. Write, in turn, refuses long names and any general.alignment
// but a uint32 power of two of at least 8, so that llama.cpp can load what
// it writes; it does write nested arrays when given them.
//
// # Conversions
//
// F16ToF32, F32ToF16, QuantizeQ8_0 and DequantizeQ8_0 are exact and
// portable: integer bit manipulation and single float32 operations with
// explicit rounding, so they give the same bits on every architecture,
// as the runtime's arithmetic (package runtime, mycel-rt/1) requires.
// QuantizeQ8_0 gives the bytes of llama.cpp's quantize_row_q8_0_ref.
package gguf
