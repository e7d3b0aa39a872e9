// Package codec is the canonical binary encoding of transactions and state
// records: unsigned LEB128 varints (minimal form only), length-prefixed
// byte strings with a caller-given bound, fixed-size byte arrays and
// booleans as one byte 0 or 1. A value has exactly one encoding: a decoder
// refuses non-minimal varints, out-of-range booleans, over-long fields and
// trailing bytes, so re-encoding what was decoded gives the same bytes and
// hashes of encodings are stable. No JSON on the consensus path.
package codec
