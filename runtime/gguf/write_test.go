package gguf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	withAlign := func(a uint32) []KV {
		return append([]KV{{"general.alignment", Uint32(a)}}, sampleKV()...)
	}
	tests := []struct {
		name    string
		kv      []KV
		tensors []WriteTensor
		align   uint64
	}{
		{"default alignment", sampleKV(), sampleTensors(), 32},
		{"alignment 64", withAlign(64), sampleTensors(), 64},
		{"alignment 8", withAlign(8), sampleTensors(), 8},
		{"alignment 4096", withAlign(4096), sampleTensors()[:2], 4096},
		{"no tensors", sampleKV(), nil, 32},
		{"no metadata", nil, sampleTensors(), 32},
		{"empty", nil, nil, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.gguf")
			if err := os.WriteFile(path, writeBytes(t, tt.kv, tt.tensors), 0o644); err != nil {
				t.Fatal(err)
			}
			f, fh, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer fh.Close()

			if f.Version != 3 || f.Alignment != tt.align || f.DataOffset%tt.align != 0 {
				t.Errorf("version %d, alignment %d, data offset %d; want 3, %d, a multiple of it", f.Version, f.Alignment, f.DataOffset, tt.align)
			}
			st, _ := fh.Stat()
			if f.Size != st.Size() {
				t.Errorf("Size = %d, want %d", f.Size, st.Size())
			}
			if len(f.KV) != len(tt.kv) {
				t.Fatalf("%d pairs, want %d", len(f.KV), len(tt.kv))
			}
			for i, kv := range tt.kv {
				if f.KV[i].Key != kv.Key || !f.KV[i].Value.Equal(kv.Value) {
					t.Errorf("pair %d: %q %v, want %q %v", i, f.KV[i].Key, f.KV[i].Value.Type(), kv.Key, kv.Value.Type())
				}
				if v, ok := f.Get(kv.Key); !ok || !v.Equal(kv.Value) {
					t.Errorf("Get(%q) = %v, %v", kv.Key, v.Type(), ok)
				}
			}
			if len(f.Tensors) != len(tt.tensors) {
				t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tt.tensors))
			}
			// The writer packs the tensors in order, each at the next
			// multiple of the alignment.
			var offset uint64
			for i, want := range tt.tensors {
				got, ok := f.Tensor(want.Name)
				if !ok || got.Name != f.Tensors[i].Name {
					t.Fatalf("Tensor(%q) missing or out of order", want.Name)
				}
				if !slices.Equal(got.Dims, want.Dims) || got.Type != want.Type || got.Offset != offset {
					t.Errorf("tensor %q: dims %v type %v offset %d; want %v %v %d", want.Name, got.Dims, got.Type, got.Offset, want.Dims, want.Type, offset)
				}
				data, err := f.TensorData(fh, got)
				if err != nil || !bytes.Equal(data, want.Data) {
					t.Errorf("TensorData(%q) = %d bytes, %v; want the %d written", want.Name, len(data), err, len(want.Data))
				}
				offset = alignUp(offset+uint64(len(want.Data)), tt.align)
			}
			if f.DataOffset+offset != uint64(f.Size) {
				t.Errorf("data section ends at %d, file at %d: the last tensor should be padded", f.DataOffset+offset, f.Size)
			}
		})
	}
}

func TestFileAccessors(t *testing.T) {
	f, err := readBytes(writeBytes(t, sampleKV(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Architecture(); got != "llama" {
		t.Errorf("Architecture() = %q", got)
	}
	if got, ok := f.Uint64("test.uint32"); !ok || got != 4000000000 {
		t.Errorf("Uint64(test.uint32) = %d, %v", got, ok)
	}
	if got, ok := f.Float32("test.float64"); !ok || got != float32(3.141592653589793) {
		t.Errorf("Float32(test.float64) = %v, %v", got, ok)
	}
	if got, ok := f.Bool("test.bool.true"); !ok || !got {
		t.Errorf("Bool(test.bool.true) = %v, %v", got, ok)
	}
	if got, ok := f.String("general.name"); !ok || got != "tiny ünïcødé ▁model" {
		t.Errorf("String(general.name) = %q, %v", got, ok)
	}
	if _, ok := f.String("no.such.key"); ok {
		t.Error("String(no.such.key) found something")
	}
	if _, ok := f.Uint64("general.name"); ok {
		t.Error("Uint64 of a string succeeded")
	}
	g, err := readBytes(writeBytes(t, nil, sampleTensors()))
	if err != nil {
		t.Fatal(err)
	}
	// Edits to KV and Tensors must not confuse the indexes behind Get and
	// Tensor.
	g.Tensors = slices.Clone(g.Tensors[2:])
	slices.Reverse(g.Tensors)
	if ti, ok := g.Tensor("blk.0.cube"); !ok || ti.Name != "blk.0.cube" {
		t.Errorf("Tensor(blk.0.cube) after reordering = %q, %v", ti.Name, ok)
	}
	if _, ok := g.Tensor("token_embd.weight"); ok {
		t.Error("Tensor found a removed tensor")
	}
	// Edits to KV must not confuse the index behind Get.
	f.KV = f.KV[1:]
	if got := f.Architecture(); got != "" {
		t.Errorf("Architecture() after removing it = %q", got)
	}
	if _, ok := f.Get("general.name"); !ok {
		t.Error("Get(general.name) lost after the slice moved")
	}
}

func TestWriteRefuses(t *testing.T) {
	ok := []WriteTensor{{Name: "w", Dims: []uint64{32}, Type: Q8_0, Data: make([]byte, 34)}}
	tensor := func(name string, dims []uint64, ty Type, n int) []WriteTensor {
		return []WriteTensor{{Name: name, Dims: dims, Type: ty, Data: make([]byte, n)}}
	}
	deep := Uint32Array([]uint32{1})
	for range MaxArrayDepth {
		deep = Array(ValueArray, []Value{deep})
	}
	tests := []struct {
		name    string
		kv      []KV
		tensors []WriteTensor
		want    string
	}{
		{"empty key", []KV{{"", Uint8(1)}}, ok, "key #0 is empty"},
		{"duplicate key", []KV{{"a", Uint8(1)}, {"a", Uint8(2)}}, ok, `key "a" appears twice`},
		{"zero value", []KV{{"a", Value{}}}, ok, `key "a": zero Value`},
		{"mixed array", []KV{{"a", Array(ValueUint32, []Value{Uint32(1), Str("x")})}}, ok, "element 1 is a string"},
		{"array of unknown type", []KV{{"a", Array(ValueType(13), nil)}}, ok, "unknown value type 13"},
		{"arrays too deep", []KV{{"a", deep}}, ok, "nested deeper than 4"},
		{"alignment as uint64", []KV{{"general.alignment", Uint64(64)}}, ok, "must be a uint32"},
		{"alignment 4", []KV{{"general.alignment", Uint32(4)}}, ok, "power of two ≥ 8, not 4"},
		{"alignment 48", []KV{{"general.alignment", Uint32(48)}}, ok, "not 48"},
		{"no name", nil, tensor("", []uint64{1}, F32, 4), "tensor #0 has no name"},
		{"long name", nil, tensor(strings.Repeat("x", 64), []uint64{1}, F32, 4), "longer than the 63 bytes"},
		{"duplicate name", nil, append(ok, ok...), `tensor "w" appears twice`},
		{"no dimensions", nil, tensor("w", nil, F32, 4), "0 dimensions"},
		{"five dimensions", nil, tensor("w", []uint64{1, 1, 1, 1, 1}, F32, 4), "5 dimensions"},
		{"zero dimension", nil, tensor("w", []uint64{4, 0}, F32, 0), "dimension 1 is 0"},
		{"unknown type", nil, tensor("w", []uint64{4}, Type(99), 4), "unknown tensor type 99"},
		{"partial block", nil, tensor("w", []uint64{31}, Q8_0, 34), "not a whole number of Q8_0 blocks of 32"},
		{"short data", nil, tensor("w", []uint64{32, 2}, Q8_0, 34), "34 bytes of data, but [32 2] Q8_0 takes 68"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.kv, tt.tensors)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write: %v; want an error containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.after {
		return w.after, errors.New("disk full")
	}
	w.after -= len(p)
	return len(p), nil
}

func TestWriteReportsWriterError(t *testing.T) {
	big := []WriteTensor{{Name: "w", Dims: []uint64{1 << 18}, Type: F32, Data: make([]byte, 4<<18)}}
	err := Write(&failWriter{after: 1000}, nil, big)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
}
