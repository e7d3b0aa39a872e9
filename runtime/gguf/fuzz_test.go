package gguf

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
)

// FuzzRead: no input makes Read panic or allocate more than allocBound of
// its size; Read leaves its input alone and gives the same result twice;
// every error is a *FormatError; what it accepts obeys the layout rules;
// and what Write accepts of it reads back the same.
func FuzzRead(f *testing.F) {
	f.Add(writeBytes(f, sampleKV(), sampleTensors()))
	f.Add(writeBytes(f, []KV{{"general.alignment", Uint32(8)}, {"a", Str("b")}}, sampleTensors()[:2]))
	f.Add(writeBytes(f, nil, nil))
	f.Add(newFile(2, 1, 1).kv("t", ValueArray).u32(uint32(ValueString)).u64(2).str("a").str("").
		tensor("w", []uint64{4}, F32, 0).pad(32).zeros(16).bytes())
	f.Add(newFile(3, 2, 0).tensor("a", []uint64{8}, F32, 0).tensor("u", []uint64{256, 2}, Type(77), 32).pad(32).zeros(96).bytes())
	f.Add(newFile(3, 0, 1).kv("n", ValueArray).u32(uint32(ValueArray)).u64(2).
		u32(uint32(ValueBool)).u64(2).raw(0, 1).u32(uint32(ValueArray)).u64(1).u32(uint32(ValueInt8)).u64(1).u8(0xff).bytes())
	f.Add(newFile(3, 0, 1).kv("arr", ValueArray).u32(uint32(ValueUint32)).u64(1 << 61).zeros(16).bytes())
	f.Add(newFile(3, 2, 0).tensor("a", []uint64{16}, F32, 0).tensor("b", []uint64{8}, F32, 32).pad(32).zeros(96).bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		before := totalAlloc()
		file, err := readBytes(data)
		if grew := totalAlloc() - before; grew > allocBound(len(data)) {
			t.Fatalf("Read of %d bytes allocated %d, more than %d", len(data), grew, allocBound(len(data)))
		}
		if !bytes.Equal(data, orig) {
			t.Fatal("Read changed its input")
		}
		file2, err2 := readBytes(data)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || !reflect.DeepEqual(file, file2) {
			t.Fatalf("Read gave different results on the same input: %v, then %v", err, err2)
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Read error %v is not a *FormatError", err)
			}
			return
		}
		checkInvariants(t, file)
		rewrite(t, file, data)
	})
}

// checkInvariants checks the layout rules on a file Read accepted.
func checkInvariants(t *testing.T, f *File) {
	if f.Version != 2 && f.Version != 3 {
		t.Fatalf("accepted version %d", f.Version)
	}
	if f.Alignment == 0 || f.Alignment&(f.Alignment-1) != 0 || f.DataOffset%f.Alignment != 0 {
		t.Fatalf("alignment %d, data offset %d", f.Alignment, f.DataOffset)
	}
	for _, ti := range f.Tensors {
		if len(ti.Dims) < 1 || len(ti.Dims) > maxDims || slices.Contains(ti.Dims, 0) || ti.Elements() == 0 {
			t.Fatalf("tensor %q has dimensions %v", ti.Name, ti.Dims)
		}
		if ti.Offset%f.Alignment != 0 {
			t.Fatalf("tensor %q at misaligned offset %d", ti.Name, ti.Offset)
		}
		if n, err := ti.Bytes(); err == nil && f.DataOffset+ti.Offset+n > uint64(f.Size) {
			t.Fatalf("tensor %q runs past the end", ti.Name)
		}
	}
}

// rewrite writes what Read gave and reads it back. Write may refuse
// (a tensor of unknown type, a long name, an alignment it does not write)
// but what it writes must read back the same.
func rewrite(t *testing.T, f *File, data []byte) {
	if f.Alignment > 4096 {
		return // Write would pad to it: up to 2 GiB of zeros, too slow here
	}
	var ws []WriteTensor
	for _, ti := range f.Tensors {
		b, err := f.TensorData(bytes.NewReader(data), ti)
		if err != nil {
			return // unknown type
		}
		ws = append(ws, WriteTensor{Name: ti.Name, Dims: ti.Dims, Type: ti.Type, Data: b})
	}
	var buf bytes.Buffer
	if err := Write(&buf, f.KV, ws); err != nil {
		return
	}
	g, err := readBytes(buf.Bytes())
	if err != nil {
		t.Fatalf("reading what Write wrote: %v", err)
	}
	if len(g.KV) != len(f.KV) || len(g.Tensors) != len(f.Tensors) {
		t.Fatalf("rewritten file has %d pairs and %d tensors, want %d and %d", len(g.KV), len(g.Tensors), len(f.KV), len(f.Tensors))
	}
	for i, kv := range f.KV {
		if g.KV[i].Key != kv.Key || !g.KV[i].Value.Equal(kv.Value) {
			t.Fatalf("pair %d: %q changed on rewriting", i, kv.Key)
		}
	}
	for i, w := range ws {
		ti := g.Tensors[i]
		b, err := g.TensorData(bytes.NewReader(buf.Bytes()), ti)
		if ti.Name != w.Name || ti.Type != w.Type || !slices.Equal(ti.Dims, w.Dims) || err != nil || !bytes.Equal(b, w.Data) {
			t.Fatalf("tensor %q changed on rewriting", w.Name)
		}
	}
}
