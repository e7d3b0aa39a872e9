package gguf

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadHostile feeds headers built to break a reader. Each must fail
// with the right kind of error, naming the item and the byte offset.
// Offsets: the header is 24 bytes; a string is its 8-byte length then its
// bytes; a tensor info is name, 4-byte dimension count, 8 bytes a
// dimension, 4-byte type, 8-byte offset.
func TestReadHostile(t *testing.T) {
	const max64 = math.MaxUint64
	tests := []struct {
		name string
		data []byte
		kind error
		want string
	}{
		// Header.
		{"empty file", nil, ErrTruncated, "header at byte 0: the file has 0 bytes, fewer than the 24"},
		{"start of the magic only", []byte("GG"), ErrTruncated, "fewer than the 24"},
		{"bad magic", append([]byte("GGML"), make([]byte, 20)...), ErrNotGGUF, `header at byte 0: magic "GGML" is not "GGUF"`},
		{"not even the magic", []byte("PK"), ErrNotGGUF, `magic "PK"`},
		{"version 1", newFile(1, 0, 0).bytes(), ErrVersion, "header at byte 4: version 1 (the first GGUF, with 32-bit counts) is not supported"},
		{"version 4", newFile(4, 0, 0).bytes(), ErrVersion, "version 4 is not supported"},
		{"version 0", newFile(0, 0, 0).bytes(), ErrVersion, "version 0 is not supported"},
		{"big-endian", append([]byte("GGUF\x00\x00\x00\x03"), make([]byte, 16)...), ErrVersion, "big-endian GGUF (version 3)"},
		{"huge tensor count", newFile(3, 1<<62, 0).zeros(64).bytes(), ErrTruncated, "header at byte 8: 4611686018427387904 tensors and 0 metadata pairs cannot fit in the 64 bytes"},
		{"huge KV count", newFile(3, 0, max64).zeros(64).bytes(), ErrTruncated, "0 tensors and 18446744073709551615 metadata pairs cannot fit"},
		{"counts fit alone, not together", newFile(3, 1, 1).zeros(40).bytes(), ErrTruncated, "1 tensors and 1 metadata pairs cannot fit in the 40 bytes"},

		// Metadata.
		{"huge key length", newFile(3, 0, 1).u64(1 << 60).zeros(20).bytes(), ErrTruncated, "key #0 at byte 24: string length 1152921504606846976 exceeds the 20 bytes left"},
		{"huge string length", newFile(3, 0, 1).kv("a", ValueString).u64(max64).zeros(8).bytes(), ErrTruncated, `key "a" at byte 37: string length 18446744073709551615 exceeds the 8 bytes left`},
		{"huge array count", newFile(3, 0, 1).kv("arr", ValueArray).u32(uint32(ValueUint32)).u64(1 << 61).zeros(16).bytes(), ErrTruncated, `key "arr" at byte 43: array of 2305843009213693952 uint32s cannot fit in the 16 bytes left`},
		{"huge string array count", newFile(3, 0, 1).kv("arr", ValueArray).u32(uint32(ValueString)).u64(3).str("a").bytes(), ErrTruncated, "array of 3 strings cannot fit in the 9 bytes left in the file (at least 8 bytes each)"},
		{"huge nested array count", newFile(3, 0, 1).kv("arr", ValueArray).u32(uint32(ValueArray)).u64(2).zeros(12).bytes(), ErrTruncated, "array of 2 arrays cannot fit in the 12 bytes left"},
		{"arrays nested too deep", newFile(3, 0, 1).kv("deep", ValueArray).
			u32(uint32(ValueArray)).u64(1).u32(uint32(ValueArray)).u64(1).
			u32(uint32(ValueArray)).u64(1).u32(uint32(ValueArray)).u64(1).
			u32(uint32(ValueUint8)).u64(0).bytes(),
			ErrMalformed, `key "deep" at byte 88: element 0: element 0: element 0: element 0: arrays nested deeper than 4 levels`},
		{"unknown value type", newFile(3, 0, 1).kv("weird", 13).zeros(8).bytes(), ErrUnknownType, `key "weird" at byte 37: unknown value type 13`},
		{"unknown array element type", newFile(3, 0, 1).kv("arr", ValueArray).u32(99).u64(0).bytes(), ErrUnknownType, `key "arr" at byte 39: array of unknown value type 99`},
		{"bool byte 2", newFile(3, 0, 1).kv("b", ValueBool).u8(2).bytes(), ErrMalformed, `key "b" at byte 37: bool byte 2 is neither 0 nor 1`},
		{"bool array byte 7", newFile(3, 0, 1).kv("b", ValueArray).u32(uint32(ValueBool)).u64(3).raw(1, 0, 7).bytes(), ErrMalformed, `key "b" at byte 51: element 2: bool byte 7`},
		{"empty key", newFile(3, 0, 1).str("").u32(uint32(ValueUint8)).u8(0).zeros(1).bytes(), ErrMalformed, "key #0 at byte 24: empty key"},
		{"duplicate key", newFile(3, 0, 2).kv("a", ValueUint8).u8(1).kv("a", ValueUint8).u8(2).bytes(), ErrDuplicate, `key "a" at byte 38: key appears twice (first as pair #0)`},
		{"alignment 48", newFile(3, 0, 1).kv("general.alignment", ValueUint32).u32(48).bytes(), ErrMalformed, `key "general.alignment" at byte 49: alignment must be a power of two that fits a uint32, not 48`},
		{"alignment 0", newFile(3, 0, 1).kv("general.alignment", ValueUint32).u32(0).bytes(), ErrMalformed, "not 0"},
		{"alignment 2^32", newFile(3, 0, 1).kv("general.alignment", ValueUint64).u64(1 << 32).bytes(), ErrMalformed, "not 4294967296"},
		{"alignment -32", newFile(3, 0, 1).kv("general.alignment", ValueInt32).u32(uint32(0xffffffe0)).bytes(), ErrMalformed, "not -32"},
		{"alignment a string", newFile(3, 0, 1).kv("general.alignment", ValueString).str("32").bytes(), ErrMalformed, "not a string"},

		// Tensor infos.
		{"empty tensor name", newFile(3, 1, 0).tensor("", []uint64{1}, F32, 0).pad(32).zeros(32).bytes(), ErrMalformed, "tensor #0 at byte 24: empty name"},
		{"no dimensions", newFile(3, 1, 0).str("t").u32(0).zeros(30).bytes(), ErrMalformed, `tensor "t" at byte 33: 0 dimensions, not 1 to 4`},
		{"five dimensions", newFile(3, 1, 0).str("t").u32(5).zeros(60).bytes(), ErrMalformed, `tensor "t" at byte 33: 5 dimensions, not 1 to 4`},
		{"a zero dimension", newFile(3, 1, 0).tensor("t", []uint64{4, 0}, F32, 0).pad(32).bytes(), ErrMalformed, `tensor "t" at byte 45: dimension 1 is 0`},
		{"elements overflow", newFile(3, 1, 0).tensor("t", []uint64{1 << 40, 1 << 40}, F32, 0).pad(32).bytes(), ErrMalformed, `tensor "t" at byte 37: dimensions [1099511627776 1099511627776] overflow a 64-bit element count`},
		{"bytes overflow", newFile(3, 1, 0).tensor("t", []uint64{1 << 31, 1 << 31}, F32, 0).pad(32).bytes(), ErrMalformed, `tensor "t" at byte 24: 4611686018427387904 elements of F32 overflow a 64-bit byte count`},
		{"huge dimensions", newFile(3, 1, 0).tensor("t", []uint64{1 << 30, 1 << 31}, F32, 0).pad(32).zeros(32).bytes(), ErrTruncated, `tensor "t" at byte 24: 9223372036854775808 bytes of F32 data at data offset 0 run past the end of the file (the data section has 32 bytes, from byte 96)`},
		{"partial block", newFile(3, 1, 0).tensor("q", []uint64{31}, Q8_0, 0).pad(32).zeros(64).bytes(), ErrMalformed, `tensor "q" at byte 24: first dimension 31 is not a whole number of Q8_0 blocks of 32`},
		{"misaligned offset", newFile(3, 1, 0).tensor("t", []uint64{4}, F32, 16).pad(32).zeros(64).bytes(), ErrMalformed, `tensor "t" at byte 24: data offset 16 is not a multiple of the alignment 32`},
		{"misaligned for general.alignment", newFile(3, 1, 1).kv("general.alignment", ValueUint32).u32(64).tensor("t", []uint64{4}, F32, 32).pad(64).zeros(64).bytes(), ErrMalformed, "data offset 32 is not a multiple of the alignment 64"},
		{"data past the end", newFile(3, 1, 0).tensor("t", []uint64{16}, F32, 0).pad(32).zeros(32).bytes(), ErrTruncated, "64 bytes of F32 data at data offset 0 run past the end of the file (the data section has 32 bytes"},
		{"offset past the end", newFile(3, 1, 0).tensor("t", []uint64{1}, F32, 1<<40).pad(32).zeros(32).bytes(), ErrTruncated, "at data offset 1099511627776 run past the end"},
		{"offset wraps around", newFile(3, 1, 0).tensor("t", []uint64{8}, F32, max64&^31).pad(32).zeros(32).bytes(), ErrTruncated, "run past the end"},
		{"no data section", newFile(3, 1, 0).tensor("t", []uint64{1}, F32, 0).bytes(), ErrTruncated, "the data section has 0 bytes, from byte 64"},
		{"overlap", newFile(3, 2, 0).tensor("a", []uint64{16}, F32, 0).tensor("b", []uint64{8}, F32, 32).pad(32).zeros(96).bytes(), ErrMalformed, `tensor "b" at byte 57: data [32, 64) overlaps tensor "a"'s data [0, 64)`},
		{"same offset", newFile(3, 2, 0).tensor("a", []uint64{8}, F32, 0).tensor("b", []uint64{8}, F32, 0).pad(32).zeros(64).bytes(), ErrMalformed, `tensor "b" at byte 57: data [0, 32) overlaps tensor "a"'s data [0, 32)`},
		{"overlap listed backwards", newFile(3, 2, 0).tensor("a", []uint64{8}, F32, 32).tensor("b", []uint64{16}, F32, 0).pad(32).zeros(96).bytes(), ErrMalformed, `tensor "a" at byte 24: data [32, 64) overlaps tensor "b"'s data [0, 64)`},
		{"unknown type on top of another", newFile(3, 2, 0).tensor("a", []uint64{8}, F32, 0).tensor("u", []uint64{8}, Type(99), 0).pad(32).zeros(64).bytes(), ErrMalformed, `tensor "u" at byte 57: data [0, 1) overlaps tensor "a"'s data [0, 32)`},
		{"unknown type past the end", newFile(3, 1, 0).tensor("u", []uint64{8}, Type(99), 64).pad(32).zeros(32).bytes(), ErrTruncated, "1 bytes of type(99) data at data offset 64 run past the end"},
		{"duplicate tensor name", newFile(3, 2, 0).tensor("a", []uint64{8}, F32, 0).tensor("a", []uint64{8}, F32, 32).pad(32).zeros(64).bytes(), ErrDuplicate, `tensor "a" at byte 57: name appears twice (first as tensor #0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readBytes(tt.data)
			var fe *FormatError
			if !errors.Is(err, tt.kind) || !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read: %v\nwant a *FormatError wrapping %v and containing %q", err, tt.kind, tt.want)
			}
		})
	}
}

// TestReadVersion2 reads a version 2 file built by hand. Version 2 has the
// layout of version 3 (64-bit counts and lengths since version 2; version
// 3 only added big-endian files), so the reader treats them alike.
func TestReadVersion2(t *testing.T) {
	weights := []float32{1, -2, 0.5, 3}
	data := newFile(2, 1, 4).
		kv("general.architecture", ValueString).str("llama").
		kv("llama.block_count", ValueUint32).u32(2).
		kv("llama.rope.freq_base", ValueFloat32).u32(math.Float32bits(10000)).
		kv("tokenizer.ggml.tokens", ValueArray).u32(uint32(ValueString)).u64(2).str("a").str("▁b").
		tensor("output_norm.weight", []uint64{4}, F32, 0).
		pad(32).raw(EncodeF32(weights)...).bytes()
	f, err := readBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 || f.Architecture() != "llama" || f.DataOffset != 256 {
		t.Errorf("version %d, architecture %q, data offset %d; want 2, llama, 256", f.Version, f.Architecture(), f.DataOffset)
	}
	if n, ok := f.Uint64("llama.block_count"); !ok || n != 2 {
		t.Errorf("block_count = %d, %v", n, ok)
	}
	if base, ok := f.Float32("llama.rope.freq_base"); !ok || base != 10000 {
		t.Errorf("freq_base = %v, %v", base, ok)
	}
	v, _ := f.Get("tokenizer.ggml.tokens")
	if tokens, ok := v.Strings(); !ok || !slices.Equal(tokens, []string{"a", "▁b"}) {
		t.Errorf("tokens = %q, %v", tokens, ok)
	}
	ti, _ := f.Tensor("output_norm.weight")
	b, err := f.TensorData(bytes.NewReader(data), ti)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 4)
	DecodeF32(b, got)
	if !slices.Equal(got, weights) {
		t.Errorf("data = %v, want %v", got, weights)
	}
}

// TestWriteMatchesHandBuilt checks Write's bytes against the layout built
// field by field from the specification.
func TestWriteMatchesHandBuilt(t *testing.T) {
	q := QuantizeQ8_0(make([]float32, 32))
	got := writeBytes(t,
		[]KV{{"general.architecture", Str("llama")}, {"x", Array(ValueInt16, []Value{Int16(-2)})}},
		[]WriteTensor{
			{Name: "a", Dims: []uint64{3}, Type: F32, Data: EncodeF32([]float32{1, 2, 3})},
			{Name: "q", Dims: []uint64{32, 1}, Type: Q8_0, Data: q},
		})
	want := newFile(3, 2, 2).
		kv("general.architecture", ValueString).str("llama").
		kv("x", ValueArray).u32(uint32(ValueInt16)).u64(1).raw(0xfe, 0xff).
		tensor("a", []uint64{3}, F32, 0).
		tensor("q", []uint64{32, 1}, Q8_0, 32).
		pad(32).raw(EncodeF32([]float32{1, 2, 3})...).pad(32).raw(q...).pad(32).bytes()
	if !bytes.Equal(got, want) {
		t.Fatalf("Write gave\n%x\nwant\n%x", got, want)
	}
}

// TestReadTruncated cuts a valid file at every byte. Each cut must fail
// with a FormatError, unless it only drops padding after the last
// tensor's data; a reader shorter than the size given must fail too.
func TestReadTruncated(t *testing.T) {
	full := writeBytes(t, sampleKV(), sampleTensors())
	f, err := readBytes(full)
	if err != nil {
		t.Fatal(err)
	}
	var end uint64 // where the last tensor's data ends
	for _, ti := range f.Tensors {
		n, _ := ti.Bytes()
		end = max(end, f.DataOffset+ti.Offset+n)
	}
	for n := range len(full) {
		_, err := readBytes(full[:n])
		var fe *FormatError
		if uint64(n) < end && !errors.As(err, &fe) {
			t.Fatalf("cut at %d of %d: Read = %v, want a *FormatError", n, len(full), err)
		}
		if uint64(n) >= end && err != nil {
			t.Fatalf("cut at %d, after the data ends at %d: %v", n, end, err)
		}
		_, err = Read(bytes.NewReader(full[:n]), int64(len(full)))
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("reader of %d bytes, size %d: Read = %v, want ErrTruncated", n, len(full), err)
		}
	}
}

// TestReadShortReaderLargeFile: for a file larger than one chunk the
// reader checks the stated size before reading past the first chunk.
func TestReadShortReaderLargeFile(t *testing.T) {
	full := writeBytes(t, sampleKV(), []WriteTensor{{Name: "big", Dims: []uint64{1 << 16}, Type: F32, Data: make([]byte, 4<<16)}})
	_, err := Read(bytes.NewReader(full[:len(full)-1]), int64(len(full)))
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "before its stated size") {
		t.Fatalf("Read = %v, want ErrTruncated about the stated size", err)
	}
}

type errReaderAt struct{ err error }

func (r errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, r.err }

func TestReadPassesOnReadErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := Read(errReaderAt{boom}, 1000)
	if !errors.Is(err, boom) {
		t.Fatalf("Read = %v, want it to wrap the reader's error", err)
	}
	if _, err := Read(nil, 10); err == nil {
		t.Error("Read(nil) succeeded")
	}
	if _, err := Read(bytes.NewReader(nil), -1); err == nil {
		t.Error("Read with size -1 succeeded")
	}
}

// TestUnknownTensorType: a tensor of a type this package does not know
// still reads, so tools can list it; its size is what fails.
func TestUnknownTensorType(t *testing.T) {
	data := newFile(3, 2, 0).
		tensor("known", []uint64{8}, F32, 0).
		tensor("future", []uint64{256, 2}, Type(77), 32).
		pad(32).zeros(96).bytes()
	f, err := readBytes(data)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	ti, ok := f.Tensor("future")
	if !ok || ti.Type.String() != "type(77)" || ti.Elements() != 512 {
		t.Fatalf("Tensor(future) = %+v, %v", ti, ok)
	}
	_, err = ti.Bytes()
	if !errors.Is(err, ErrUnknownType) || !strings.Contains(err.Error(), `tensor "future": unknown tensor type 77`) {
		t.Errorf("Bytes() = %v, want it to name the tensor and type 77", err)
	}
	if _, err := f.TensorData(bytes.NewReader(data), ti); !errors.Is(err, ErrUnknownType) {
		t.Errorf("TensorData = %v, want ErrUnknownType", err)
	}
	known, _ := f.Tensor("known")
	if b, err := f.TensorData(bytes.NewReader(data), known); err != nil || len(b) != 32 {
		t.Errorf("TensorData(known) = %d bytes, %v", len(b), err)
	}
}

func TestTensorDataChecksBounds(t *testing.T) {
	data := writeBytes(t, nil, sampleTensors())
	f, err := readBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	ti := f.Tensors[0]
	ti.Offset = uint64(len(data))
	if _, err := f.TensorData(bytes.NewReader(data), ti); !errors.Is(err, ErrTruncated) {
		t.Errorf("TensorData past the end = %v, want ErrTruncated", err)
	}
	ti.Offset = math.MaxUint64 &^ 31
	if _, err := f.TensorData(bytes.NewReader(data), ti); !errors.Is(err, ErrTruncated) {
		t.Errorf("TensorData at a wrapping offset = %v, want ErrTruncated", err)
	}
	sr, err := f.TensorSection(bytes.NewReader(data), f.Tensors[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(sr)
	if want := sampleTensors()[1].Data; !bytes.Equal(b, want) {
		t.Errorf("TensorSection read %d bytes, not the %d written", len(b), len(want))
	}
}

func TestTypeBlock(t *testing.T) {
	tests := []struct {
		t            Type
		name         string
		elems, bytes uint64
		ok           bool
	}{
		{F32, "F32", 1, 4, true},
		{F16, "F16", 1, 2, true},
		{BF16, "BF16", 1, 2, true},
		{Q4_0, "Q4_0", 32, 18, true},
		{Q4_1, "Q4_1", 32, 20, true},
		{Q5_0, "Q5_0", 32, 22, true},
		{Q5_1, "Q5_1", 32, 24, true},
		{Q8_0, "Q8_0", 32, 34, true},
		{Q8_1, "Q8_1", 32, 36, true},
		{Q2_K, "Q2_K", 256, 84, true},
		{Q3_K, "Q3_K", 256, 110, true},
		{Q4_K, "Q4_K", 256, 144, true},
		{Q5_K, "Q5_K", 256, 176, true},
		{Q6_K, "Q6_K", 256, 210, true},
		{Q8_K, "Q8_K", 256, 292, true},
		{IQ2_XXS, "IQ2_XXS", 256, 66, true},
		{IQ2_XS, "IQ2_XS", 256, 74, true},
		{IQ3_XXS, "IQ3_XXS", 256, 98, true},
		{IQ1_S, "IQ1_S", 256, 50, true},
		{IQ4_NL, "IQ4_NL", 32, 18, true},
		{IQ3_S, "IQ3_S", 256, 110, true},
		{IQ2_S, "IQ2_S", 256, 82, true},
		{IQ4_XS, "IQ4_XS", 256, 136, true},
		{IQ1_M, "IQ1_M", 256, 56, true},
		{TQ1_0, "TQ1_0", 256, 54, true},
		{TQ2_0, "TQ2_0", 256, 66, true},
		{MXFP4, "MXFP4", 32, 17, true},
		{I8, "I8", 1, 1, true},
		{I64, "I64", 1, 8, true},
		{F64, "F64", 1, 8, true},
		{Type(4), "type(4)", 0, 0, false}, // Q4_2, removed
		{Type(99), "type(99)", 0, 0, false},
	}
	for _, tt := range tests {
		elems, bytes, ok := tt.t.Block()
		if tt.t.String() != tt.name || elems != tt.elems || bytes != tt.bytes || ok != tt.ok {
			t.Errorf("%d: %q %d %d %v; want %q %d %d %v", uint32(tt.t), tt.t.String(), elems, bytes, ok, tt.name, tt.elems, tt.bytes, tt.ok)
		}
	}
}

// TestReadMemoryBound reads headers made of the smallest items, where a
// reader's bookkeeping weighs most against the bytes: its allocations must
// stay within allocBound of the file's size.
func TestReadMemoryBound(t *testing.T) {
	const n = 20000
	emptyStrings := newFile(3, 0, 1).kv("s", ValueArray).u32(uint32(ValueString)).u64(n)
	emptyArrays := newFile(3, 0, 1).kv("a", ValueArray).u32(uint32(ValueArray)).u64(n)
	manyKVs := newFile(3, 0, n)
	manyTensors := newFile(3, n, 0)
	for i := range n {
		emptyStrings.u64(0)
		emptyArrays.u32(uint32(ValueUint8)).u64(0)
		manyKVs.kv(string(rune('a'+i%26))+string(rune(i+0x100)), ValueUint8).u8(1)
		manyTensors.tensor(string(rune(i+0x100)), []uint64{1}, I8, uint64(32*i))
	}
	manyTensors.pad(32).zeros(32 * n)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty strings", emptyStrings.bytes()},
		{"empty arrays", emptyArrays.bytes()},
		{"many pairs", manyKVs.bytes()},
		{"many tensors", manyTensors.bytes()},
		{"lying count", newFile(3, 0, 1).kv("a", ValueArray).u32(uint32(ValueUint64)).u64(1 << 20).zeros(1 << 20).bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := totalAlloc()
			_, err := readBytes(tt.data)
			grew := totalAlloc() - before
			if grew > allocBound(len(tt.data)) {
				t.Errorf("Read of %d bytes allocated %d (err %v), more than %d", len(tt.data), grew, err, allocBound(len(tt.data)))
			}
			t.Logf("%d bytes: allocated %d (%.1fx), err %v", len(tt.data), grew, float64(grew)/float64(len(tt.data)), err)
		})
	}
}

// holeReaderAt fails reads that touch [from, to), like a disk with a bad
// sector: the stated size is right, the bytes are not there.
type holeReaderAt struct {
	r        io.ReaderAt
	from, to int64
}

func (h holeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < h.to && off+int64(len(p)) > h.from {
		return 0, errors.New("bad sector")
	}
	return h.r.ReadAt(p, off)
}

// TestReadLargeValues covers values larger than the reader's chunk, which
// it reads in steps straight from the io.ReaderAt.
func TestReadLargeValues(t *testing.T) {
	long := strings.Repeat("▁token", 40000) // 360000 bytes
	floats := make([]float32, 300000)
	for i := range floats {
		floats[i] = float32(i) / 7
	}
	kv := []KV{{"long", Str(long)}, {"floats", Float32Array(floats)}, {"after", Uint8(9)}}
	data := writeBytes(t, kv, sampleTensors())
	f, err := readBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range kv {
		if got, _ := f.Get(want.Key); !got.Equal(want.Value) {
			t.Errorf("%q did not read back", want.Key)
		}
	}
	// A read error in the middle of the long string names the read.
	_, err = Read(holeReaderAt{bytes.NewReader(data), 200000, 200001}, int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), "bad sector") {
		t.Errorf("Read over a bad sector = %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Open(filepath.Join(dir, "missing.gguf")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.gguf")
	if err := os.WriteFile(bad, []byte("GGUF\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, fh, err := Open(bad); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), bad) || fh != nil {
		t.Errorf("Open(bad) = %v, %v; want ErrTruncated naming the path and no file", fh, err)
	}
}
