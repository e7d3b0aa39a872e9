package codec

import (
	"errors"
	"fmt"
)

// Errors a Reader reports. Each decode error wraps ErrMalformed.
var (
	ErrMalformed = errors.New("malformed encoding")
)

// Writer appends canonical encodings to a buffer.
type Writer struct {
	buf []byte
}

// NewWriter returns a Writer with room for n bytes.
func NewWriter(n int) *Writer { return &Writer{buf: make([]byte, 0, n)} }

// Bytes returns the encoding written so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Uvarint writes v as a minimal unsigned LEB128 varint.
func (w *Writer) Uvarint(v uint64) {
	for v >= 0x80 {
		w.buf = append(w.buf, byte(v)|0x80)
		v >>= 7
	}
	w.buf = append(w.buf, byte(v))
}

// Varint writes a signed integer in zig-zag form.
func (w *Writer) Varint(v int64) { w.Uvarint(uint64(v<<1) ^ uint64(v>>63)) }

// Byte writes one byte.
func (w *Writer) Byte(b byte) { w.buf = append(w.buf, b) }

// Bool writes 0 or 1.
func (w *Writer) Bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// Fixed writes b as is; the reader must know its length.
func (w *Writer) Fixed(b []byte) { w.buf = append(w.buf, b...) }

// Bytes writes a length-prefixed byte string.
func (w *Writer) LenBytes(b []byte) {
	w.Uvarint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// String writes a length-prefixed string.
func (w *Writer) String(s string) {
	w.Uvarint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// Reader decodes canonical encodings. The first error sticks: later reads
// return zero values, and Err or Done reports it, so decoders read every
// field and check once at the end.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader reads b. It never modifies b; byte strings it returns alias b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

func (r *Reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
	}
}

// Err returns the first error met.
func (r *Reader) Err() error { return r.err }

// Remaining returns the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

// Done returns the first error, or an error if bytes remain unread.
func (r *Reader) Done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}

// Uvarint reads a minimal unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < 10; i++ {
		if r.off >= len(r.b) {
			r.fail("truncated varint")
			return 0
		}
		c := r.b[r.off]
		r.off++
		if i == 9 && c > 1 {
			r.fail("varint overflows 64 bits")
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				r.fail("non-minimal varint")
				return 0
			}
			return v
		}
	}
	r.fail("varint too long")
	return 0
}

// Varint reads a zig-zag signed integer.
func (r *Reader) Varint() int64 {
	u := r.Uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// Bool reads a byte that must be 0 or 1.
func (r *Reader) Bool() bool {
	c := r.Byte()
	if c > 1 {
		r.fail("bool byte %d", c)
		return false
	}
	return c == 1
}

// Fixed reads exactly n bytes.
func (r *Reader) Fixed(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.Remaining() < n {
		r.fail("truncated: want %d bytes, have %d", n, r.Remaining())
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

// FixedInto reads len(dst) bytes into dst.
func (r *Reader) FixedInto(dst []byte) {
	b := r.Fixed(len(dst))
	copy(dst, b)
}

// LenBytes reads a length-prefixed byte string of at most max bytes. The
// bound is checked before anything is sliced or allocated.
func (r *Reader) LenBytes(max int) []byte {
	n := r.Uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(max) {
		r.fail("length %d exceeds the limit of %d", n, max)
		return nil
	}
	return r.Fixed(int(n))
}

// String reads a length-prefixed string of at most max bytes.
func (r *Reader) String(max int) string {
	return string(r.LenBytes(max))
}

// Count reads a element count of at most max, for slices; the caller
// allocates only after this check.
func (r *Reader) Count(max int) int {
	n := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(max) {
		r.fail("count %d exceeds the limit of %d", n, max)
		return 0
	}
	return int(n)
}
