package llama

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/tokenizer"
)

func f32(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

func sha256Reader(r io.Reader) ([32]byte, error) {
	var out [32]byte
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return out, err
	}
	copy(out[:], h.Sum(nil))
	return out, nil
}

// TokenizerOf builds the tokenizer that a GGUF file's tokenizer.ggml.*
// metadata describes, with llama.cpp's defaults for what it leaves out.
func TokenizerOf(f *gguf.File) (*tokenizer.Tokenizer, error) {
	model, ok := f.String("tokenizer.ggml.model")
	if !ok {
		return nil, fmt.Errorf("metadata tokenizer.ggml.model is missing")
	}
	pre, _ := f.String("tokenizer.ggml.pre")
	v := tokenizer.DefaultVocab(model, pre)
	get := func(key string) (gguf.Value, bool) { return f.Get("tokenizer.ggml." + key) }
	tv, ok := get("tokens")
	if !ok {
		return nil, fmt.Errorf("metadata tokenizer.ggml.tokens is missing")
	}
	if v.Tokens, ok = tv.Strings(); !ok {
		return nil, fmt.Errorf("metadata tokenizer.ggml.tokens is not an array of strings")
	}
	if sv, ok := get("scores"); ok {
		if v.Scores, ok = sv.Float32s(); !ok {
			return nil, fmt.Errorf("metadata tokenizer.ggml.scores is not an array of float32")
		}
	}
	if tt, ok := get("token_type"); ok {
		if v.Types, ok = tt.Int32s(); !ok {
			return nil, fmt.Errorf("metadata tokenizer.ggml.token_type is not an array of int32")
		}
	}
	if mv, ok := get("merges"); ok {
		if v.Merges, ok = mv.Strings(); !ok {
			return nil, fmt.Errorf("metadata tokenizer.ggml.merges is not an array of strings")
		}
	}
	n := uint64(len(v.Tokens))
	for _, id := range []struct {
		key string
		dst *int32
	}{
		{"bos_token_id", &v.BOS}, {"eos_token_id", &v.EOS}, {"unknown_token_id", &v.UNK},
		{"padding_token_id", &v.PAD}, {"eot_token_id", &v.EOT},
	} {
		if x, ok := f.Uint64("tokenizer.ggml." + id.key); ok {
			if x >= n {
				return nil, fmt.Errorf("metadata tokenizer.ggml.%s = %d is outside the vocabulary of %d", id.key, x, n)
			}
			*id.dst = int32(x)
		} else if *id.dst >= 0 && uint64(*id.dst) >= n {
			*id.dst = -1 // a default out of range, which llama.cpp drops too
		}
	}
	if b, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok {
		v.AddBOS = b
	}
	if b, ok := f.Bool("tokenizer.ggml.add_eos_token"); ok {
		v.AddEOS = b
	}
	if b, ok := f.Bool("tokenizer.ggml.add_space_prefix"); ok {
		v.AddSpacePrefix = b
	}
	// An AddBOS default without a BOS token is dropped, not refused.
	v.AddBOS = v.AddBOS && v.BOS >= 0
	v.AddEOS = v.AddEOS && v.EOS >= 0
	t, err := tokenizer.New(v)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return t, nil
}
