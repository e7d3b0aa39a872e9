package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// maxNameLen is the longest tensor name Write accepts: llama.cpp keeps
// names in char[GGML_MAX_NAME] with GGML_MAX_NAME = 64, terminator
// included, and refuses files with longer ones.
const maxNameLen = 63

// WriteTensor is a tensor to write: its info and its data, encoded as its
// Type says.
type WriteTensor struct {
	Name string
	Dims []uint64 // ne[0] first, as in TensorInfo
	Type Type
	Data []byte
}

// Write writes a version 3 GGUF file with the metadata kv and the tensors,
// both in the order given. The alignment is general.alignment if kv has it
// (a uint32, as llama.cpp requires, and a power of two ≥ 8), else 32; each
// tensor's data starts at a multiple of it and is padded with zeros to
// one. Write checks everything before it writes anything: keys and names
// non-empty and unique, values valid, 1 to 4 dimensions of at least 1,
// known types, whole blocks along the first dimension, and len(Data)
// matching Dims and Type.
func Write(w io.Writer, kv []KV, tensors []WriteTensor) error {
	align := uint64(defaultAlignment)
	keys := make(map[string]bool, len(kv))
	for i, e := range kv {
		if e.Key == "" {
			return fmt.Errorf("gguf: write: key #%d is empty", i)
		}
		if keys[e.Key] {
			return fmt.Errorf("gguf: write: key %q appears twice", e.Key)
		}
		keys[e.Key] = true
		if _, err := appendValue(nil, e.Value, 1); err != nil {
			return fmt.Errorf("gguf: write: key %q: %w", e.Key, err)
		}
		if e.Key == "general.alignment" {
			a, _ := e.Value.Uint64()
			if !e.Value.is(ValueUint32) || a < 8 || a&(a-1) != 0 {
				return fmt.Errorf("gguf: write: general.alignment must be a uint32 power of two ≥ 8, not %s (a %v)", describe(e.Value), e.Value.Type())
			}
			align = a
		}
	}

	names := make(map[string]bool, len(tensors))
	offsets := make([]uint64, len(tensors))
	var next uint64
	for i, t := range tensors {
		switch {
		case t.Name == "":
			return fmt.Errorf("gguf: write: tensor #%d has no name", i)
		case len(t.Name) > maxNameLen:
			return fmt.Errorf("gguf: write: tensor name %q is longer than the %d bytes llama.cpp allows", t.Name, maxNameLen)
		case names[t.Name]:
			return fmt.Errorf("gguf: write: tensor %q appears twice", t.Name)
		case len(t.Dims) < 1 || len(t.Dims) > maxDims:
			return fmt.Errorf("gguf: write: tensor %q has %d dimensions, not 1 to %d", t.Name, len(t.Dims), maxDims)
		}
		names[t.Name] = true
		for j, n := range t.Dims {
			if n == 0 {
				return fmt.Errorf("gguf: write: tensor %q: dimension %d is 0", t.Name, j)
			}
		}
		size, err := TensorInfo{Name: t.Name, Dims: t.Dims, Type: t.Type}.Bytes()
		if err != nil {
			return err // it names the tensor
		}
		if uint64(len(t.Data)) != size {
			return fmt.Errorf("gguf: write: tensor %q: %d bytes of data, but %v %v takes %d", t.Name, len(t.Data), t.Dims, t.Type, size)
		}
		offsets[i] = next
		next = alignUp(next+size, align)
	}

	bw := &countWriter{w: bufio.NewWriterSize(w, 1<<16)}
	var b []byte
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(kv)))
	bw.write(b)
	for _, e := range kv {
		b = appendString(b[:0], e.Key)
		b = binary.LittleEndian.AppendUint32(b, uint32(e.Value.Type()))
		b, _ = appendValue(b, e.Value, 1) // checked above
		bw.write(b)
	}
	for i, t := range tensors {
		b = appendString(b[:0], t.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Dims)))
		for _, n := range t.Dims {
			b = binary.LittleEndian.AppendUint64(b, n)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Type))
		b = binary.LittleEndian.AppendUint64(b, offsets[i])
		bw.write(b)
	}
	bw.pad(align)
	for _, t := range tensors {
		bw.write(t.Data)
		bw.pad(align)
	}
	if bw.err == nil {
		bw.err = bw.w.Flush()
	}
	if bw.err != nil {
		return fmt.Errorf("gguf: write: %w", bw.err)
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// countWriter keeps the first error and counts bytes, for the padding.
type countWriter struct {
	w   *bufio.Writer
	n   uint64
	err error
}

func (c *countWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	_, c.err = c.w.Write(p)
	c.n += uint64(len(p))
}

func (c *countWriter) pad(align uint64) {
	var zeros [64]byte
	for k := alignUp(c.n, align) - c.n; k > 0 && c.err == nil; {
		m := min(k, uint64(len(zeros)))
		c.write(zeros[:m])
		k -= m
	}
}
