package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/llama"
	"github.com/mycelnet/mycel/runtime/tokenizer"
)

// Vocab is a byte-level BPE vocabulary as GGUF stores it: GPT-2's 256
// byte symbols, the learned merges' tokens, then the end-of-text token.
type Vocab struct {
	Tokens []string
	Merges []string
	EOS    int32
}

// EndOfText is the special token that ends a text.
const EndOfText = "<|endoftext|>"

// LearnVocab learns a vocabulary of about size tokens (end-of-text
// included) from text with GPT-2's pre-tokenizer.
func LearnVocab(text string, size int, progress func(merges, total int)) (Vocab, error) {
	tokens, merges, err := tokenizer.LearnBPE(text, tokenizer.LearnOptions{Pre: "gpt2", Vocab: size - 1, Progress: progress})
	if err != nil {
		return Vocab{}, fmt.Errorf("learn vocabulary: %w", err)
	}
	return Vocab{Tokens: append(tokens, EndOfText), Merges: merges, EOS: int32(len(tokens))}, nil
}

// Size is the number of tokens.
func (v Vocab) Size() int { return len(v.Tokens) }

func (v Vocab) types() []int32 {
	types := make([]int32, len(v.Tokens))
	for i := range types {
		types[i] = tokenizer.TypeNormal
	}
	types[v.EOS] = tokenizer.TypeControl
	return types
}

func (v Vocab) metadata() []gguf.KV {
	types := v.types()
	return []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: gguf.Str(tokenizer.ModelGPT2)},
		{Key: "tokenizer.ggml.pre", Value: gguf.Str("gpt2")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.StrArray(v.Tokens)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Int32Array(types)},
		{Key: "tokenizer.ggml.merges", Value: gguf.StrArray(v.Merges)},
		{Key: "tokenizer.ggml.bos_token_id", Value: gguf.Uint32(uint32(v.EOS))},
		{Key: "tokenizer.ggml.eos_token_id", Value: gguf.Uint32(uint32(v.EOS))},
		{Key: "tokenizer.ggml.add_bos_token", Value: gguf.Bool(false)},
	}
}

// Tokenizer returns the runtime's tokenizer for v: the one that encodes
// the training corpus and that every user of the model runs.
func (v Vocab) Tokenizer() (*tokenizer.Tokenizer, error) {
	tv := tokenizer.DefaultVocab(tokenizer.ModelGPT2, "gpt2")
	tv.Tokens, tv.Merges, tv.Types = v.Tokens, v.Merges, v.types()
	tv.BOS, tv.EOS = v.EOS, v.EOS
	return tokenizer.New(tv)
}

func vocabOf(f *gguf.File) (Vocab, error) {
	var v Vocab
	tv, _ := f.Get("tokenizer.ggml.tokens")
	mv, _ := f.Get("tokenizer.ggml.merges")
	eos, ok3 := f.Uint64("tokenizer.ggml.eos_token_id")
	var ok1, ok2 bool
	v.Tokens, ok1 = tv.Strings()
	v.Merges, ok2 = mv.Strings()
	if !ok1 || !ok2 || !ok3 || eos >= uint64(len(v.Tokens)) {
		return Vocab{}, fmt.Errorf("tokenizer metadata is missing or malformed")
	}
	v.EOS = int32(eos)
	return v, nil
}

// modelMetadata is the llama.* and general.* metadata of the model.
func (t *Trainer) modelMetadata(name string) []gguf.KV {
	c := t.Opts.Config
	lc := llama.Config{Vocab: c.Vocab, Dim: c.Dim, Layers: c.Layers, Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim(),
		FFN: c.FFN, Context: c.Context, RopeBase: c.RopeBase, Eps: c.Eps}
	kv := append(lc.Metadata(name), gguf.KV{Key: "llama.vocab_size", Value: gguf.Uint32(uint32(c.Vocab))})
	return append(kv, t.Tok.metadata()...)
}

// WriteModel writes the model as a GGUF file the runtime (and llama.cpp)
// runs: matrices in typ (F32, F16 or Q8_0), norms in F32, the output
// matrix tied to the embedding (no output.weight), and extra metadata
// such as provenance appended.
func (t *Trainer) WriteModel(w io.Writer, name string, typ gguf.Type, extra []gguf.KV) error {
	switch typ {
	case gguf.F32, gguf.F16, gguf.Q8_0:
	default:
		return fmt.Errorf("type %s: F32, F16 or Q8_0", typ)
	}
	kv := append(t.modelMetadata(name), gguf.KV{Key: "general.file_type", Value: gguf.Uint32(fileType(typ))})
	kv = append(kv, extra...)
	var ts []gguf.WriteTensor
	for _, ten := range t.net.ts {
		x := t.net.w[ten.Off : ten.Off+ten.size()]
		tt := typ
		if ten.Rows == 1 || (typ == gguf.Q8_0 && ten.Cols%32 != 0) {
			tt = gguf.F32
		}
		ts = append(ts, gguf.WriteTensor{Name: ten.Name, Dims: dims(ten), Type: tt, Data: gguf.Encode(x, tt)})
	}
	return gguf.Write(w, kv, ts)
}

// fileType is llama.cpp's general.file_type (enum llama_ftype).
func fileType(t gguf.Type) uint32 {
	switch t {
	case gguf.F16:
		return 1
	case gguf.Q8_0:
		return 7
	}
	return 0
}

func dims(t tensor) []uint64 {
	if t.Rows == 1 {
		return []uint64{uint64(t.Cols)}
	}
	return []uint64{uint64(t.Cols), uint64(t.Rows)}
}

// DataHash identifies a token stream, so a checkpoint refuses to resume
// on another corpus.
func DataHash(data []int32) string {
	h := sha256.New()
	var b [4]byte
	for _, t := range data {
		binary.LittleEndian.PutUint32(b[:], uint32(t))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Checkpoint metadata keys.
const (
	keyOptions = "mycel.train.options"
	keyStep    = "mycel.train.step"
	keyTokens  = "mycel.train.tokens"
	keyRNG     = "mycel.train.rng"
	keyData    = "mycel.train.data_sha256"
)

// SaveCheckpoint writes everything a resumed run needs (options,
// tokenizer, weights, AdamW's moments, the step and the data sampler's
// state) to path, atomically: a crash leaves the old checkpoint whole.
func (t *Trainer) SaveCheckpoint(path string) error {
	opts, err := json.Marshal(t.Opts)
	if err != nil {
		return err
	}
	rng, err := t.pcg.MarshalBinary()
	if err != nil {
		return err
	}
	kv := append(t.modelMetadata("checkpoint"),
		gguf.KV{Key: keyOptions, Value: gguf.Str(string(opts))},
		gguf.KV{Key: keyStep, Value: gguf.Uint64(uint64(t.Step))},
		gguf.KV{Key: keyTokens, Value: gguf.Uint64(uint64(t.Tokens))},
		gguf.KV{Key: keyRNG, Value: gguf.Str(hex.EncodeToString(rng))},
		gguf.KV{Key: keyData, Value: gguf.Str(DataHash(t.data))},
	)
	var ts []gguf.WriteTensor
	for _, part := range []struct {
		prefix string
		flat   []float32
	}{{"", t.net.w}, {"adam_m.", t.opt.m}, {"adam_v.", t.opt.v}} {
		for _, ten := range t.net.ts {
			ts = append(ts, gguf.WriteTensor{Name: part.prefix + ten.Name, Dims: dims(ten), Type: gguf.F32,
				Data: gguf.Encode(part.flat[ten.Off:ten.Off+ten.size()], gguf.F32)})
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := gguf.Write(tmp, kv, ts); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// Resume continues the run saved in the checkpoint at path on data (which
// must be the same token stream) with threads goroutines. The resumed run
// computes exactly what the uninterrupted run would have.
func Resume(path string, data []int32, threads int) (*Trainer, error) {
	f, file, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	defer file.Close()
	fail := func(format string, args ...any) (*Trainer, error) {
		return nil, fmt.Errorf("resume from %s: %s", path, fmt.Sprintf(format, args...))
	}
	var o Options
	js, _ := f.String(keyOptions)
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		return fail("%s is missing or malformed (is this a training checkpoint?): %v", keyOptions, err)
	}
	v, err := vocabOf(f)
	if err != nil {
		return fail("%v", err)
	}
	if want, _ := f.String(keyData); want != DataHash(data) {
		return fail("the checkpoint was trained on another corpus or vocabulary (token stream sha256 %.12s…, this one %.12s…)", want, DataHash(data))
	}
	t, err := New(o, v, data, threads)
	if err != nil {
		return fail("%v", err)
	}
	step, ok1 := f.Uint64(keyStep)
	tokens, ok2 := f.Uint64(keyTokens)
	rs, _ := f.String(keyRNG)
	rb, err := hex.DecodeString(rs)
	if !ok1 || !ok2 || err != nil || step > uint64(o.Steps) {
		return fail("step, token count or sampler state is missing or malformed")
	}
	if err := t.pcg.UnmarshalBinary(rb); err != nil {
		return fail("sampler state: %v", err)
	}
	t.Step, t.Tokens = int(step), int64(tokens)
	for _, part := range []struct {
		prefix string
		flat   []float32
	}{{"", t.net.w}, {"adam_m.", t.opt.m}, {"adam_v.", t.opt.v}} {
		for _, ten := range t.net.ts {
			info, ok := f.Tensor(part.prefix + ten.Name)
			if !ok || info.Type != gguf.F32 || info.Elements() != uint64(ten.size()) {
				return fail("tensor %s%s is missing or has the wrong type or shape", part.prefix, ten.Name)
			}
			b, err := f.TensorData(file, info)
			if err != nil {
				return fail("%v", err)
			}
			dst := part.flat[ten.Off : ten.Off+ten.size()]
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
	}
	return t, nil
}

// CheckpointVocab returns the vocabulary of the checkpoint at path, to
// encode the corpus with before Resume.
func CheckpointVocab(path string) (Vocab, error) {
	f, file, err := gguf.Open(path)
	if err != nil {
		return Vocab{}, fmt.Errorf("read checkpoint: %w", err)
	}
	defer file.Close()
	v, err := vocabOf(f)
	if err != nil {
		return Vocab{}, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return v, nil
}
