package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// builder writes GGUF bytes by hand, for files that Write would refuse to
// make: other versions, hostile counts, broken layouts.
type builder struct{ b []byte }

// newFile starts a file with the magic, a version and the two counts.
func newFile(version uint32, tensors, kvs uint64) *builder {
	b := &builder{b: []byte("GGUF")}
	return b.u32(version).u64(tensors).u64(kvs)
}

func (b *builder) raw(p ...byte) *builder { b.b = append(b.b, p...); return b }
func (b *builder) u8(v uint8) *builder    { b.b = append(b.b, v); return b }
func (b *builder) u32(v uint32) *builder {
	b.b = binary.LittleEndian.AppendUint32(b.b, v)
	return b
}
func (b *builder) u64(v uint64) *builder {
	b.b = binary.LittleEndian.AppendUint64(b.b, v)
	return b
}
func (b *builder) str(s string) *builder { return b.u64(uint64(len(s))).raw([]byte(s)...) }

// kv starts a pair: its key and value type; the value follows.
func (b *builder) kv(key string, t ValueType) *builder { return b.str(key).u32(uint32(t)) }

// tensor writes a tensor info.
func (b *builder) tensor(name string, dims []uint64, t Type, offset uint64) *builder {
	b.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		b.u64(d)
	}
	return b.u32(uint32(t)).u64(offset)
}

// pad pads with zeros to a multiple of align.
func (b *builder) pad(align int) *builder {
	for len(b.b)%align != 0 {
		b.b = append(b.b, 0)
	}
	return b
}

// zeros appends n zero bytes (tensor data).
func (b *builder) zeros(n int) *builder { b.b = append(b.b, make([]byte, n)...); return b }

func (b *builder) bytes() []byte { return b.b }

// sampleKV has every value type, arrays of most, an empty array and
// arrays nested three deep.
func sampleKV() []KV {
	return []KV{
		{"general.architecture", Str("llama")},
		{"general.name", Str("tiny ünïcødé ▁model")},
		{"test.uint8", Uint8(200)},
		{"test.int8", Int8(-100)},
		{"test.uint16", Uint16(60000)},
		{"test.int16", Int16(-30000)},
		{"test.uint32", Uint32(4000000000)},
		{"test.int32", Int32(-2000000000)},
		{"test.float32", Float32(0.1)},
		{"test.float32.negzero", Float32(float32(math.Copysign(0, -1)))},
		{"test.float32.inf", Float32(float32(math.Inf(1)))},
		{"test.float32.nan", Float32(float32(math.NaN()))},
		{"test.bool.true", Bool(true)},
		{"test.bool.false", Bool(false)},
		{"test.string.empty", Str("")},
		{"test.uint64", Uint64(math.MaxUint64)},
		{"test.int64", Int64(math.MinInt64)},
		{"test.float64", Float64(math.Pi)},
		{"test.float64.tiny", Float64(5e-324)},
		{"tokenizer.ggml.tokens", StrArray([]string{"<unk>", "<s>", "▁hello", "", "<0x0A>"})},
		{"tokenizer.ggml.scores", Float32Array([]float32{0, -1000, -1.5, 3.25, float32(math.Inf(-1))})},
		{"tokenizer.ggml.token_type", Int32Array([]int32{2, 3, 1, 1, 6})},
		{"test.array.uint32", Uint32Array([]uint32{0, 1, math.MaxUint32})},
		{"test.array.uint8", Array(ValueUint8, []Value{Uint8(0), Uint8(255)})},
		{"test.array.int8", Array(ValueInt8, []Value{Int8(-128), Int8(127)})},
		{"test.array.uint16", Array(ValueUint16, []Value{Uint16(65535)})},
		{"test.array.int16", Array(ValueInt16, []Value{Int16(-32768), Int16(1)})},
		{"test.array.uint64", Array(ValueUint64, []Value{Uint64(0), Uint64(math.MaxUint64), Uint64(1 << 53)})},
		{"test.array.int64", Array(ValueInt64, []Value{Int64(math.MinInt64), Int64(-1), Int64(math.MaxInt64)})},
		{"test.array.float64", Array(ValueFloat64, []Value{Float64(-2.5), Float64(1e300)})},
		{"test.array.bool", Array(ValueBool, []Value{Bool(true), Bool(false), Bool(true)})},
		{"test.array.empty", Array(ValueInt32, nil)},
		{"test.array.nested", Array(ValueArray, []Value{
			Uint32Array([]uint32{1, 2}),
			StrArray([]string{"a", "bc"}),
			Array(ValueArray, []Value{Float32Array([]float32{1.5}), Array(ValueString, nil)}),
		})},
	}
}

// sampleTensors has F32, F16 and Q8_0 tensors of 1 to 3 dimensions and a
// Q4_K one of random bytes.
func sampleTensors() []WriteTensor {
	rng := rand.New(rand.NewPCG(1, 2))
	floats := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	q4k := make([]byte, 144)
	for i := range q4k {
		q4k[i] = byte(rng.Uint32())
	}
	return []WriteTensor{
		{Name: "token_embd.weight", Dims: []uint64{8, 4}, Type: F32, Data: EncodeF32(floats(32))},
		{Name: "blk.0.attn_q.weight", Dims: []uint64{16, 2}, Type: F16, Data: EncodeF16(floats(32))},
		{Name: "blk.0.ffn_up.weight", Dims: []uint64{64, 3}, Type: Q8_0, Data: QuantizeQ8_0(floats(192))},
		{Name: "blk.0.cube", Dims: []uint64{2, 3, 4}, Type: F32, Data: EncodeF32(floats(24))},
		{Name: "blk.0.q4k", Dims: []uint64{256}, Type: Q4_K, Data: q4k},
		{Name: "output_norm.weight", Dims: []uint64{8}, Type: F32, Data: EncodeF32(floats(8))},
	}
}

func writeBytes(t testing.TB, kv []KV, tensors []WriteTensor) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, kv, tensors); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func readBytes(data []byte) (*File, error) {
	return Read(bytes.NewReader(data), int64(len(data)))
}

// totalAlloc is the bytes allocated so far by the whole program.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// allocBound is the most Read may allocate for an n-byte file: a multiple
// of the input, plus the fixed cost of a File and its small maps.
func allocBound(n int) uint64 { return 64*uint64(n) + 64<<10 }
