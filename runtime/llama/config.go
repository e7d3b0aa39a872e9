// Package llama runs Llama-architecture decoders from GGUF files, with
// llama.cpp's conventions (tensor names, metadata keys, the rotary layout
// of adjacent pairs), on a backend of deterministic kernels: RMSNorm,
// rotary embeddings, grouped-query attention with a KV cache, SwiGLU.
package llama

import (
	"fmt"

	"github.com/mycelnet/mycel/runtime/gguf"
)

// Config is a model's shape.
type Config struct {
	Vocab    int     `json:"vocab"`
	Dim      int     `json:"embedding_length"`
	Layers   int     `json:"block_count"`
	Heads    int     `json:"head_count"`
	KVHeads  int     `json:"head_count_kv"`
	HeadDim  int     `json:"head_dim"`
	FFN      int     `json:"feed_forward_length"`
	Context  int     `json:"context_length"`
	RopeBase float64 `json:"rope_freq_base"`
	Eps      float32 `json:"layer_norm_rms_epsilon"`
}

// Params counts the weights of a model of this shape with a separate
// output matrix.
func (c Config) Params() int64 {
	attn := int64(c.Dim)*int64(c.Heads*c.HeadDim)*2 + int64(c.Dim)*int64(c.KVHeads*c.HeadDim)*2
	ffn := 3 * int64(c.Dim) * int64(c.FFN)
	return int64(c.Vocab)*int64(c.Dim)*2 + int64(c.Layers)*(attn+ffn+2*int64(c.Dim)) + int64(c.Dim)
}

// ConfigOf reads a model's shape from GGUF metadata (llama.* keys).
func ConfigOf(f *gguf.File) (Config, error) {
	arch := f.Architecture()
	if arch != "llama" {
		return Config{}, fmt.Errorf("architecture %q: mycel runs llama", arch)
	}
	u := func(key string, required bool, def uint64) (int, error) {
		v, ok := f.Uint64("llama." + key)
		if !ok {
			if required {
				return 0, fmt.Errorf("metadata llama.%s is missing", key)
			}
			v = def
		}
		if v == 0 || v > 1<<24 {
			return 0, fmt.Errorf("metadata llama.%s = %d is out of range", key, v)
		}
		return int(v), nil
	}
	var c Config
	var err error
	if c.Dim, err = u("embedding_length", true, 0); err != nil {
		return c, err
	}
	if c.Layers, err = u("block_count", true, 0); err != nil {
		return c, err
	}
	if c.Heads, err = u("attention.head_count", true, 0); err != nil {
		return c, err
	}
	if c.KVHeads, err = u("attention.head_count_kv", false, uint64(c.Heads)); err != nil {
		return c, err
	}
	if c.FFN, err = u("feed_forward_length", true, 0); err != nil {
		return c, err
	}
	if c.Context, err = u("context_length", false, 2048); err != nil {
		return c, err
	}
	if c.Dim%c.Heads != 0 || c.Heads%c.KVHeads != 0 {
		return c, fmt.Errorf("%d heads and %d KV heads do not divide an embedding of %d", c.Heads, c.KVHeads, c.Dim)
	}
	c.HeadDim = c.Dim / c.Heads
	if c.HeadDim%2 != 0 {
		return c, fmt.Errorf("head dimension %d is odd", c.HeadDim)
	}
	if rd, ok := f.Uint64("llama.rope.dimension_count"); ok && int(rd) != c.HeadDim {
		return c, fmt.Errorf("rotary dimension %d differs from the head dimension %d: partial rotary embeddings are not supported", rd, c.HeadDim)
	}
	// Variants this runtime does not compute are refused, not run wrong.
	if n, ok := f.Uint64("llama.expert_count"); ok && n > 0 {
		return c, fmt.Errorf("a mixture of %d experts: %s runs dense Llama models only", n, "mycel-rt/1")
	}
	for _, key := range []string{"llama.attention.key_length", "llama.attention.value_length"} {
		if n, ok := f.Uint64(key); ok && int(n) != c.HeadDim {
			return c, fmt.Errorf("metadata %s = %d differs from the head dimension %d: not supported", key, n, c.HeadDim)
		}
	}
	if st, ok := f.String("llama.rope.scaling.type"); ok && st != "none" {
		return c, fmt.Errorf("rotary scaling %q is not supported by mycel-rt/1", st)
	}
	if _, ok := f.Tensor("rope_freqs.weight"); ok {
		return c, fmt.Errorf("rotary frequency factors (rope_freqs.weight, Llama 3.1's scaling) are not supported by mycel-rt/1")
	}
	c.RopeBase = 10000
	if b, ok := f.Float32("llama.rope.freq_base"); ok {
		c.RopeBase = float64(b)
	}
	c.Eps = 1e-5
	if e, ok := f.Float32("llama.attention.layer_norm_rms_epsilon"); ok {
		c.Eps = e
	}
	t, ok := f.Tensor("token_embd.weight")
	if !ok {
		return c, fmt.Errorf("tensor token_embd.weight is missing")
	}
	if len(t.Dims) != 2 || int(t.Dims[0]) != c.Dim {
		return c, fmt.Errorf("token_embd.weight has dims %v, want [%d vocab]", t.Dims, c.Dim)
	}
	c.Vocab = int(t.Dims[1])
	return c, nil
}

// Metadata returns the metadata ConfigOf reads back, for a model named
// name: general.architecture and general.name, then the llama.* keys. It
// is the writer's half of ConfigOf, which the trainer writes through.
// (runtime/synth keeps its own copy: llama's tests import synth, so synth
// cannot import llama.)
func (c Config) Metadata(name string) []gguf.KV {
	return []gguf.KV{
		{Key: "general.architecture", Value: gguf.Str("llama")},
		{Key: "general.name", Value: gguf.Str(name)},
		{Key: "llama.context_length", Value: gguf.Uint32(uint32(c.Context))},
		{Key: "llama.embedding_length", Value: gguf.Uint32(uint32(c.Dim))},
		{Key: "llama.block_count", Value: gguf.Uint32(uint32(c.Layers))},
		{Key: "llama.feed_forward_length", Value: gguf.Uint32(uint32(c.FFN))},
		{Key: "llama.attention.head_count", Value: gguf.Uint32(uint32(c.Heads))},
		{Key: "llama.attention.head_count_kv", Value: gguf.Uint32(uint32(c.KVHeads))},
		{Key: "llama.rope.dimension_count", Value: gguf.Uint32(uint32(c.HeadDim))},
		{Key: "llama.rope.freq_base", Value: gguf.Float32(float32(c.RopeBase))},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: gguf.Float32(c.Eps)},
	}
}
