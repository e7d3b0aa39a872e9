package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"strconv"
)

// Sizes of the format and limits of the reader.
const (
	magic            = "GGUF"
	headerSize       = 4 + 4 + 8 + 8 // magic, version, tensor count, KV count
	defaultAlignment = 32
	maxDims          = 4 // GGML_MAX_DIMS

	// The fewest bytes a KV pair and a tensor info can take: they bound
	// the counts in the header before anything is allocated for them. A
	// key is a non-empty string and its value at least one byte; a tensor
	// info is a non-empty name, the dimension count, at least one
	// dimension, the type and the offset.
	minKVSize     = 8 + 1 + 4 + 1
	minTensorSize = 8 + 1 + 4 + 8 + 4 + 8

	// chunkSize is how much of the header is read at a time.
	chunkSize = 64 << 10
	// initialCap caps the capacity first given to a slice whose length
	// the file claims: past it, slices grow as elements are read, so a
	// header that lies about a count costs no more memory than the bytes
	// it really has.
	initialCap = 1024
)

// KV is one metadata key/value pair.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name string
	// Dims are the sizes of the dimensions, ne[0] first: the innermost,
	// contiguous one. A weight of shape [out, in] has Dims [in, out].
	Dims []uint64
	Type Type
	// Offset is where the tensor's data starts, from the start of the
	// data section (File.DataOffset).
	Offset uint64
}

// Elements returns the number of elements, the product of Dims (1 for no
// dimensions, as in ggml), or 0 if the product overflows a uint64; Read
// never returns such a tensor.
func (t TensorInfo) Elements() uint64 {
	n, ok := elements(t.Dims)
	if !ok {
		return 0
	}
	return n
}

func elements(dims []uint64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// Bytes returns the size of the tensor's data. It fails for a type this
// package does not know (wrapping ErrUnknownType), for a first dimension
// that is not a whole number of blocks, and for sizes that overflow.
func (t TensorInfo) Bytes() (uint64, error) {
	fail := func(kind error, format string, args ...any) (uint64, error) {
		return 0, &FormatError{Item: "tensor " + strconv.Quote(t.Name), Offset: -1, Msg: fmt.Sprintf(format, args...), Err: kind}
	}
	be, bb, ok := t.Type.Block()
	if !ok {
		return fail(ErrUnknownType, "unknown tensor type %d", uint32(t.Type))
	}
	ne0 := uint64(1)
	if len(t.Dims) > 0 {
		ne0 = t.Dims[0]
	}
	if ne0%be != 0 {
		return fail(ErrMalformed, "first dimension %d is not a whole number of %v blocks of %d", ne0, t.Type, be)
	}
	n, ok := elements(t.Dims)
	if !ok {
		return fail(ErrMalformed, "dimensions %v overflow a 64-bit element count", t.Dims)
	}
	hi, size := bits.Mul64(n/be, bb)
	if hi != 0 {
		return fail(ErrMalformed, "%d elements of %v overflow a 64-bit byte count", n, t.Type)
	}
	return size, nil
}

// File is the header of a GGUF file: its metadata and tensor infos.
type File struct {
	Version uint32
	// Alignment is general.alignment, or 32 when the file has none.
	Alignment uint64
	// KV holds the metadata in file order.
	KV []KV
	// Tensors holds the tensor infos in file order.
	Tensors []TensorInfo
	// DataOffset is the absolute offset of the data section.
	DataOffset uint64
	// Size is the size of the file.
	Size int64

	// The indexes speed up Get and Tensor. They are checked against KV and
	// Tensors on use, so a caller that edits those still gets right
	// answers.
	kvIndex     map[string]int
	tensorIndex map[string]int
}

// Open opens the file at path and reads its header. The caller reads
// tensor data from the returned *os.File and closes it.
func Open(path string) (*File, *os.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	f, err := Read(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, fh, nil
}

// Get returns the value of a key.
func (f *File) Get(key string) (Value, bool) {
	if i, ok := f.kvIndex[key]; ok && i < len(f.KV) && f.KV[i].Key == key {
		return f.KV[i].Value, true
	}
	for _, kv := range f.KV {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return Value{}, false
}

// String returns the value of a string key.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Get(key)
	return v.String()
}

// Uint64 returns the value of an integer key that is not negative.
func (f *File) Uint64(key string) (uint64, bool) {
	v, _ := f.Get(key)
	return v.Uint64()
}

// Float32 returns the value of a float32 key, or a float64 one rounded.
func (f *File) Float32(key string) (float32, bool) {
	v, _ := f.Get(key)
	return v.Float32()
}

// Bool returns the value of a bool key.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Get(key)
	return v.Bool()
}

// Architecture returns general.architecture, or "" if the file has none.
func (f *File) Architecture() string {
	s, _ := f.String("general.architecture")
	return s
}

// Tensor returns the info of a tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	if i, ok := f.tensorIndex[name]; ok && i < len(f.Tensors) && f.Tensors[i].Name == name {
		return f.Tensors[i], true
	}
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// TensorSection returns a reader of exactly the tensor's data in r, after
// checking that the data lies inside the file. It reads nothing, so it
// suits tensors too large to hold in memory twice.
func (f *File) TensorSection(r io.ReaderAt, t TensorInfo) (*io.SectionReader, error) {
	n, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	start, carry := bits.Add64(f.DataOffset, t.Offset, 0)
	if carry != 0 || f.Size < 0 || start > uint64(f.Size) || n > uint64(f.Size)-start {
		return nil, &FormatError{Item: "tensor " + strconv.Quote(t.Name), Offset: -1, Err: ErrTruncated,
			Msg: fmt.Sprintf("%d bytes at data offset %d run past the end of the file (%d bytes, data from byte %d)", n, t.Offset, f.Size, f.DataOffset)}
	}
	return io.NewSectionReader(r, int64(start), int64(n)), nil
}

// TensorData reads exactly the tensor's data from r, after checking that
// it lies inside the file.
func (f *File) TensorData(r io.ReaderAt, t TensorInfo) ([]byte, error) {
	sr, err := f.TensorSection(r, t)
	if err != nil {
		return nil, err
	}
	if uint64(sr.Size()) > uint64(maxInt) {
		return nil, fmt.Errorf("gguf: tensor %q: %d bytes do not fit in memory on this platform", t.Name, sr.Size())
	}
	buf := make([]byte, sr.Size())
	if _, err := io.ReadFull(sr, buf); err != nil {
		return nil, fmt.Errorf("gguf: reading tensor %q: %w", t.Name, err)
	}
	return buf, nil
}

const maxInt = int(^uint(0) >> 1)

// Read parses and validates the header of the GGUF file in r, which is
// size bytes long. It reads no tensor data. See the package documentation
// for what it checks.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if r == nil || size < 0 {
		return nil, fmt.Errorf("gguf: Read needs a reader and a size ≥ 0 (got size %d)", size)
	}
	d := &decoder{r: r, size: size}
	f := &File{Size: size, Alignment: defaultAlignment}
	if err := d.header(f); err != nil {
		return nil, err
	}
	return f, nil
}

// decoder reads the header through a buffer of at most chunkSize bytes.
type decoder struct {
	r      io.ReaderAt
	size   int64
	off    int64  // absolute offset of the next byte to decode
	buf    []byte // bytes of the file from bufOff
	bufOff int64
}

func (d *decoder) left() uint64 { return uint64(d.size - d.off) }

func fail(off int64, kind error, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...), Err: kind}
}

// readAt fills p from r at off, telling a file shorter than its stated
// size from other read errors.
func (d *decoder) readAt(p []byte, off int64) error {
	n, err := d.r.ReadAt(p, off)
	if n == len(p) {
		return nil // io.ReaderAt may return io.EOF with the last bytes
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fail(off+int64(n), ErrTruncated, "the file ends at byte %d, before its stated size of %d bytes", off+int64(n), d.size)
	}
	return fmt.Errorf("gguf: reading %d bytes at byte %d: %w", len(p), off, err)
}

// next consumes n ≤ chunkSize bytes and returns them; they are valid until
// the next call.
func (d *decoder) next(n int) ([]byte, error) {
	if uint64(n) > d.left() {
		return nil, fail(d.off, ErrTruncated, "needs %d bytes, %d left in the file", n, d.left())
	}
	start := d.off - d.bufOff
	if start < 0 || start+int64(n) > int64(len(d.buf)) {
		m := min(int64(chunkSize), d.size-d.off)
		if int64(cap(d.buf)) < m {
			d.buf = make([]byte, m)
		}
		d.buf = d.buf[:m]
		if err := d.readAt(d.buf, d.off); err != nil {
			d.buf = d.buf[:0]
			return nil, err
		}
		d.bufOff, start = d.off, 0
	}
	d.off += int64(n)
	return d.buf[start : start+int64(n)], nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.next(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64() (uint64, error) {
	b, err := d.next(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// bytes consumes n bytes, n already checked against what is left, into a
// new slice. Large reads go in steps straight from r, so the slice grows
// only as bytes arrive.
func (d *decoder) bytes(n uint64) ([]byte, error) {
	if n <= chunkSize {
		b, err := d.next(int(n))
		if err != nil {
			return nil, err
		}
		return append(make([]byte, 0, n), b...), nil
	}
	if n > uint64(maxInt) {
		return nil, fail(d.off, ErrMalformed, "a value of %d bytes does not fit in memory on this platform", n)
	}
	const step = 1 << 20
	out := make([]byte, 0, min(n, step))
	for uint64(len(out)) < n {
		k := int(min(n-uint64(len(out)), step))
		out = slices.Grow(out, k)
		if err := d.readAt(out[len(out):len(out)+k], d.off); err != nil {
			return nil, err
		}
		out = out[:len(out)+k]
		d.off += int64(k)
	}
	return out, nil
}

func (d *decoder) str() (string, error) {
	off := d.off
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > d.left() {
		return "", fail(off, ErrTruncated, "string length %d exceeds the %d bytes left in the file", n, d.left())
	}
	if n <= chunkSize {
		b, err := d.next(int(n))
		return string(b), err
	}
	b, err := d.bytes(n)
	return string(b), err
}

func (d *decoder) header(f *File) error {
	hdr := func() string { return "header" }
	b, err := d.next(int(min(d.left(), headerSize)))
	if err != nil {
		return withItem(err, hdr)
	}
	if n := min(len(b), len(magic)); string(b[:n]) != magic[:n] {
		return &FormatError{Item: "header", Offset: 0, Err: ErrNotGGUF, Msg: fmt.Sprintf("magic %q is not %q: not a GGUF file", b[:n], magic)}
	}
	if len(b) < headerSize {
		return &FormatError{Item: "header", Offset: int64(len(b)), Err: ErrTruncated,
			Msg: fmt.Sprintf("the file has %d bytes, fewer than the %d of a GGUF header", d.size, headerSize)}
	}
	f.Version = binary.LittleEndian.Uint32(b[4:])
	switch v := f.Version; {
	case v == 2 || v == 3:
	case v == 1:
		return &FormatError{Item: "header", Offset: 4, Err: ErrVersion, Msg: "version 1 (the first GGUF, with 32-bit counts) is not supported; convert the model again with a current llama.cpp"}
	case v != 0 && v&0xffff == 0 && bits.ReverseBytes32(v) <= 3:
		return &FormatError{Item: "header", Offset: 4, Err: ErrVersion, Msg: fmt.Sprintf("big-endian GGUF (version %d) is not supported", bits.ReverseBytes32(v))}
	default:
		return &FormatError{Item: "header", Offset: 4, Err: ErrVersion, Msg: fmt.Sprintf("version %d is not supported (only 2 and 3)", v)}
	}
	nt := binary.LittleEndian.Uint64(b[8:])
	nkv := binary.LittleEndian.Uint64(b[16:])
	// Both counts together must fit in what is left, each item at its
	// smallest; the divisions come first so the products cannot overflow.
	rest := d.left()
	if nkv > rest/minKVSize || nt > rest/minTensorSize || nkv*minKVSize+nt*minTensorSize > rest {
		return &FormatError{Item: "header", Offset: 8, Err: ErrTruncated,
			Msg: fmt.Sprintf("%d tensors and %d metadata pairs cannot fit in the %d bytes after the header (each tensor info takes at least %d bytes, each pair %d)", nt, nkv, rest, minTensorSize, minKVSize)}
	}
	if d.size > chunkSize {
		// Check the stated size up front, so that a short reader fails here
		// and not after a read sized from it.
		if err := d.readAt(make([]byte, 1), d.size-1); err != nil {
			return withItem(err, hdr)
		}
	}

	if err := d.metadata(f, nkv); err != nil {
		return err
	}
	return d.tensors(f, nt)
}

func (d *decoder) metadata(f *File, n uint64) error {
	f.KV = make([]KV, 0, min(n, initialCap))
	f.kvIndex = make(map[string]int, min(n, initialCap))
	var alignOff int64 = -1
	for i := range n {
		start := d.off
		key, err := d.str()
		if err != nil {
			return withItem(err, func() string { return "key #" + strconv.FormatUint(i, 10) })
		}
		item := func() string { return "key " + strconv.Quote(key) }
		if key == "" {
			return &FormatError{Item: "key #" + strconv.FormatUint(i, 10), Offset: start, Err: ErrMalformed, Msg: "empty key"}
		}
		if j, dup := f.kvIndex[key]; dup {
			return &FormatError{Item: item(), Offset: start, Err: ErrDuplicate, Msg: fmt.Sprintf("key appears twice (first as pair #%d)", j)}
		}
		typeOff := d.off
		t, err := d.u32()
		if err != nil {
			return withItem(err, item)
		}
		if !ValueType(t).known() {
			return &FormatError{Item: item(), Offset: typeOff, Err: ErrUnknownType, Msg: fmt.Sprintf("unknown value type %d", t)}
		}
		v, err := d.value(ValueType(t), 0)
		if err != nil {
			return withItem(err, item)
		}
		if key == "general.alignment" {
			alignOff = typeOff
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(grow(f.KV, n), KV{Key: key, Value: v})
	}
	if alignOff >= 0 {
		v, _ := f.Get("general.alignment")
		a, ok := v.Uint64()
		if !ok || a == 0 || a&(a-1) != 0 || a > 1<<31 {
			return &FormatError{Item: `key "general.alignment"`, Offset: alignOff, Err: ErrMalformed,
				Msg: fmt.Sprintf("alignment must be a power of two that fits a uint32, not %s", describe(v))}
		}
		f.Alignment = a
	}
	return nil
}

// describe shows a value in an error message.
func describe(v Value) string {
	if x, ok := v.Uint64(); ok {
		return strconv.FormatUint(x, 10)
	}
	if x, ok := v.Int64(); ok {
		return strconv.FormatInt(x, 10)
	}
	return "a " + v.Type().String()
}

// value decodes a value of the known type t; depth is the number of
// arrays it is inside.
func (d *decoder) value(t ValueType, depth int) (Value, error) {
	switch t {
	case ValueString:
		s, err := d.str()
		return Str(s), err
	case ValueArray:
		return d.array(depth + 1)
	}
	off := d.off
	b, err := d.next(t.size())
	if err != nil {
		return Value{}, err
	}
	if t == ValueBool && b[0] > 1 {
		return Value{}, fail(off, ErrMalformed, "bool byte %d is neither 0 nor 1", b[0])
	}
	return scalar(t, b), nil
}

// array decodes an array at nesting level depth (1 for an array that is
// not inside another).
func (d *decoder) array(depth int) (Value, error) {
	off := d.off
	if depth > MaxArrayDepth {
		return Value{}, fail(off, ErrMalformed, "arrays nested deeper than %d levels", MaxArrayDepth)
	}
	et, err := d.u32()
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	if !elem.known() {
		return Value{}, fail(off, ErrUnknownType, "array of unknown value type %d", et)
	}
	n, err := d.u64()
	if err != nil {
		return Value{}, err
	}
	if least := elem.minSize(); n > d.left()/least {
		return Value{}, fail(off+4, ErrTruncated, "array of %d %vs cannot fit in the %d bytes left in the file (at least %d bytes each)", n, elem, d.left(), least)
	}
	v := Value{kind: uint32(ValueArray) + 1, elem: elem}
	switch elem {
	case ValueString:
		a := make([]string, 0, min(n, initialCap))
		for i := range n {
			s, err := d.str()
			if err != nil {
				return Value{}, elementErr(err, i)
			}
			a = append(grow(a, n), s)
		}
		v.arr = a
	case ValueArray:
		a := make([]Value, 0, min(n, initialCap))
		for i := range n {
			e, err := d.array(depth + 1)
			if err != nil {
				return Value{}, elementErr(err, i)
			}
			a = append(grow(a, n), e)
		}
		v.arr = a
	default:
		start := d.off
		a, err := d.bytes(n * uint64(elem.size()))
		if err != nil {
			return Value{}, err
		}
		if elem == ValueBool {
			for i, b := range a {
				if b > 1 {
					return Value{}, fail(start+int64(i), ErrMalformed, "element %d: bool byte %d is neither 0 nor 1", i, b)
				}
			}
		}
		v.arr = a
	}
	return v, nil
}

// grow makes room for one more element in a slice that will hold at most
// total: it doubles the capacity, never past total, so a slice costs at
// most twice its final size in allocations (append's own growth, 1.25x
// for large slices, costs up to five times).
func grow[T any](s []T, total uint64) []T {
	if len(s) < cap(s) {
		return s
	}
	c := min(total, 2*uint64(cap(s))+1)
	out := make([]T, len(s), c)
	copy(out, s)
	return out
}

// elementErr says which array element an error is in.
func elementErr(err error, i uint64) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.Msg = "element " + strconv.FormatUint(i, 10) + ": " + fe.Msg
	}
	return err
}

func (d *decoder) tensors(f *File, n uint64) error {
	f.Tensors = make([]TensorInfo, 0, min(n, initialCap))
	f.tensorIndex = make(map[string]int, min(n, initialCap))
	starts := make([]int64, 0, min(n, initialCap)) // where each info starts, for errors
	for i := range n {
		start := d.off
		name, err := d.str()
		if err != nil {
			return withItem(err, func() string { return "tensor #" + strconv.FormatUint(i, 10) })
		}
		item := func() string { return "tensor " + strconv.Quote(name) }
		if name == "" {
			return &FormatError{Item: "tensor #" + strconv.FormatUint(i, 10), Offset: start, Err: ErrMalformed, Msg: "empty name"}
		}
		if j, dup := f.tensorIndex[name]; dup {
			return &FormatError{Item: item(), Offset: start, Err: ErrDuplicate, Msg: fmt.Sprintf("name appears twice (first as tensor #%d)", j)}
		}
		t, err := d.tensorInfo(name)
		if err != nil {
			return withItem(err, item)
		}
		f.tensorIndex[name] = len(f.Tensors)
		f.Tensors = append(grow(f.Tensors, n), t)
		starts = append(grow(starts, n), start)
	}
	f.DataOffset = alignUp(uint64(d.off), f.Alignment)
	return f.checkLayout(starts)
}

func (d *decoder) tensorInfo(name string) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	off := d.off
	nd, err := d.u32()
	if err != nil {
		return t, err
	}
	if nd < 1 || nd > maxDims {
		return t, fail(off, ErrMalformed, "%d dimensions, not 1 to %d", nd, maxDims)
	}
	t.Dims = make([]uint64, nd)
	for j := range t.Dims {
		off := d.off
		if t.Dims[j], err = d.u64(); err != nil {
			return t, err
		}
		if t.Dims[j] == 0 {
			return t, fail(off, ErrMalformed, "dimension %d is 0", j)
		}
	}
	if _, ok := elements(t.Dims); !ok {
		return t, fail(off+4, ErrMalformed, "dimensions %v overflow a 64-bit element count", t.Dims)
	}
	ty, err := d.u32()
	if err != nil {
		return t, err
	}
	t.Type = Type(ty)
	if t.Offset, err = d.u64(); err != nil {
		return t, err
	}
	return t, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }

// checkLayout checks that every tensor's data is aligned, inside the file
// and apart from every other tensor's. starts[i] is where tensor i's info
// is in the file.
func (f *File) checkLayout(starts []int64) error {
	var avail uint64 // bytes of the data section
	if f.DataOffset < uint64(f.Size) {
		avail = uint64(f.Size) - f.DataOffset
	}
	type span struct {
		start, end uint64
		i          int
	}
	spans := make([]span, 0, len(f.Tensors))
	for i, t := range f.Tensors {
		at := func(kind error, format string, args ...any) error {
			return &FormatError{Item: "tensor " + strconv.Quote(t.Name), Offset: starts[i], Err: kind, Msg: fmt.Sprintf(format, args...)}
		}
		if t.Offset%f.Alignment != 0 {
			return at(ErrMalformed, "data offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)
		}
		n, err := t.Bytes()
		switch {
		case errors.Is(err, ErrUnknownType):
			// Its size is unknown, but any tensor takes at least a byte:
			// that much must be in the file and apart from the others.
			n = 1
		case err != nil:
			var fe *FormatError
			if errors.As(err, &fe) {
				fe.Offset = starts[i]
			}
			return err
		}
		if t.Offset > avail || n > avail-t.Offset {
			return at(ErrTruncated, "%d bytes of %v data at data offset %d run past the end of the file (the data section has %d bytes, from byte %d)", n, t.Type, t.Offset, avail, f.DataOffset)
		}
		spans = append(spans, span{t.Offset, t.Offset + n, i})
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			if a.start < b.start {
				return -1
			}
			return 1
		}
		return a.i - b.i
	})
	for k := 1; k < len(spans); k++ {
		p, s := spans[k-1], spans[k]
		if s.start < p.end {
			t := f.Tensors[s.i]
			return &FormatError{Item: "tensor " + strconv.Quote(t.Name), Offset: starts[s.i], Err: ErrMalformed,
				Msg: fmt.Sprintf("data [%d, %d) overlaps tensor %q's data [%d, %d)", s.start, s.end, f.Tensors[p.i].Name, p.start, p.end)}
		}
	}
	return nil
}
