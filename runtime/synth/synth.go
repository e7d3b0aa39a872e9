// Package synth writes Llama models with random weights as GGUF files,
// with a byte-level tokenizer: test and benchmark models that the
// repository makes itself rather than downloads.
package synth

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/mycelnet/mycel/runtime/gguf"
)

// Spec shapes a model.
type Spec struct {
	Name             string
	Vocab            int // at least 256 + 3: bytes and specials come first
	Dim, Layers, FFN int
	Heads, KVHeads   int
	Context          int
	// Type of the matrices: gguf.F32, gguf.F16 or gguf.Q8_0.
	Type gguf.Type
	Seed uint64
	// TiedOutput leaves out output.weight.
	TiedOutput bool
	RopeBase   float32
}

// Tokens returns the vocabulary: three specials, the 256 byte-level
// symbols of GPT-2's byte-to-Unicode table, then merged pairs of letters
// up to the vocabulary size.
func Tokens(n int) (tokens []string, types []int32, merges []string) {
	tokens = append(tokens, "<|begin_of_text|>", "<|end_of_text|>", "<|pad|>")
	types = append(types, 3, 3, 3)
	sym := byteSymbols()
	for b := 0; b < 256; b++ {
		tokens = append(tokens, string(sym[b]))
		types = append(types, 1)
	}
	letters := "etaoinshrdlucmfwypvbgkjqxz"
	for _, a := range letters {
		for _, b := range letters {
			if len(tokens) >= n {
				return
			}
			tokens = append(tokens, string(a)+string(b))
			types = append(types, 1)
			merges = append(merges, string(a)+" "+string(b))
		}
	}
	for i := 0; len(tokens) < n; i++ {
		tokens = append(tokens, fmt.Sprintf("<unused%d>", i))
		types = append(types, 5)
	}
	return
}

// byteSymbols is GPT-2's bytes-to-Unicode table.
func byteSymbols() [256]rune {
	var out [256]rune
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out[b] = rune(b)
		} else {
			out[b] = rune(256 + n)
			n++
		}
	}
	return out
}

// Check reports whether the spec describes a model the runtime can run.
func (s Spec) Check() error {
	switch {
	case s.Vocab < 259:
		return fmt.Errorf("vocabulary of %d: at least 259 (specials and bytes)", s.Vocab)
	case s.Dim <= 0 || s.Layers <= 0 || s.FFN <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.Context <= 0:
		return fmt.Errorf("dimensions, layers, heads and context must be positive")
	case s.Dim%s.Heads != 0 || (s.Dim/s.Heads)%2 != 0:
		return fmt.Errorf("%d heads: the embedding of %d must split into heads of even size", s.Heads, s.Dim)
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("%d KV heads do not divide %d heads", s.KVHeads, s.Heads)
	case s.Type == gguf.Q8_0 && (s.Dim%32 != 0 || s.FFN%32 != 0):
		return fmt.Errorf("Q8_0 needs the embedding (%d) and feed-forward (%d) dimensions to be multiples of 32", s.Dim, s.FFN)
	case s.Type != gguf.F32 && s.Type != gguf.F16 && s.Type != gguf.Q8_0:
		return fmt.Errorf("type %s: F32, F16 or Q8_0", s.Type)
	}
	return nil
}

// Params counts the model's weights.
func (s Spec) Params() int64 {
	hd := int64(s.Dim / max(s.Heads, 1))
	d, f := int64(s.Dim), int64(s.FFN)
	attn := d*hd*int64(s.Heads)*2 + d*hd*int64(s.KVHeads)*2
	out := int64(s.Vocab) * d
	if s.TiedOutput {
		out = 0
	}
	return int64(s.Vocab)*d + out + int64(s.Layers)*(attn+3*d*f+2*d) + d
}

// Write writes the model.
func Write(w io.Writer, s Spec) error {
	if err := s.Check(); err != nil {
		return err
	}
	if s.RopeBase == 0 {
		s.RopeBase = 10000
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6d7963656c))
	headDim := s.Dim / s.Heads
	tokens, types, merges := Tokens(s.Vocab)
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.Str("llama")},
		{Key: "general.name", Value: gguf.Str(s.Name)},
		{Key: "llama.context_length", Value: gguf.Uint32(uint32(s.Context))},
		{Key: "llama.embedding_length", Value: gguf.Uint32(uint32(s.Dim))},
		{Key: "llama.block_count", Value: gguf.Uint32(uint32(s.Layers))},
		{Key: "llama.feed_forward_length", Value: gguf.Uint32(uint32(s.FFN))},
		{Key: "llama.attention.head_count", Value: gguf.Uint32(uint32(s.Heads))},
		{Key: "llama.attention.head_count_kv", Value: gguf.Uint32(uint32(s.KVHeads))},
		{Key: "llama.rope.dimension_count", Value: gguf.Uint32(uint32(headDim))},
		{Key: "llama.rope.freq_base", Value: gguf.Float32(s.RopeBase)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: gguf.Float32(1e-5)},
		{Key: "tokenizer.ggml.model", Value: gguf.Str("gpt2")},
		{Key: "tokenizer.ggml.pre", Value: gguf.Str("gpt2")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.StrArray(tokens)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Int32Array(types)},
		{Key: "tokenizer.ggml.merges", Value: gguf.StrArray(merges)},
		{Key: "tokenizer.ggml.bos_token_id", Value: gguf.Uint32(0)},
		{Key: "tokenizer.ggml.eos_token_id", Value: gguf.Uint32(1)},
		{Key: "tokenizer.ggml.padding_token_id", Value: gguf.Uint32(2)},
		{Key: "tokenizer.ggml.add_bos_token", Value: gguf.Bool(true)},
	}
	var ts []gguf.WriteTensor
	mat := func(name string, rows, cols int) {
		// Scaled so activations stay near unit size through the layers.
		scale := float32(1 / math.Sqrt(float64(cols)))
		x := make([]float32, rows*cols)
		for i := range x {
			// Uniform in [-1, 1) from 24 bits, exactly, then scaled by
			// multiplications only: no multiply-add that a compiler could
			// fuse on one architecture and not another.
			u := float32(int32(rng.Uint32()>>8)-1<<23) * (1.0 / (1 << 23))
			x[i] = u * scale * 1.7
		}
		ts = append(ts, gguf.WriteTensor{Name: name, Dims: []uint64{uint64(cols), uint64(rows)}, Type: s.Type, Data: gguf.Encode(x, s.Type)})
	}
	vec := func(name string, n int) {
		x := make([]float32, n)
		for i := range x {
			x[i] = 0.8 + float32(float32(rng.Uint32()>>8)*(0.4/(1<<24)))
		}
		ts = append(ts, gguf.WriteTensor{Name: name, Dims: []uint64{uint64(n)}, Type: gguf.F32, Data: gguf.Encode(x, gguf.F32)})
	}
	mat("token_embd.weight", s.Vocab, s.Dim)
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		vec(p+"attn_norm.weight", s.Dim)
		mat(p+"attn_q.weight", s.Heads*headDim, s.Dim)
		mat(p+"attn_k.weight", s.KVHeads*headDim, s.Dim)
		mat(p+"attn_v.weight", s.KVHeads*headDim, s.Dim)
		mat(p+"attn_output.weight", s.Dim, s.Heads*headDim)
		vec(p+"ffn_norm.weight", s.Dim)
		mat(p+"ffn_gate.weight", s.FFN, s.Dim)
		mat(p+"ffn_up.weight", s.FFN, s.Dim)
		mat(p+"ffn_down.weight", s.Dim, s.FFN)
	}
	vec("output_norm.weight", s.Dim)
	if !s.TiedOutput {
		mat("output.weight", s.Vocab, s.Dim)
	}
	return gguf.Write(w, kv, ts)
}
