package llama

import (
	"fmt"
	"io"
	"os"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/tokenizer"
)

// Layer holds one decoder block's weights.
type Layer struct {
	AttnNorm, FFNNorm []float32
	Q, K, V, O        *backend.Weight
	Gate, Up, Down    *backend.Weight
}

// Model is a loaded decoder.
type Model struct {
	Config
	Tok     *tokenizer.Tokenizer
	Backend backend.Backend
	Embed   *backend.Weight
	Out     *backend.Weight // output.weight, or the embedding when tied
	OutNorm []float32
	Blocks  []Layer // one per layer (Config.Layers)
	// Hash is the sha256 of the file the model came from, its identity in
	// receipts; set by Load.
	Hash [32]byte
}

// Load reads a GGUF file into a model running on be.
func Load(path string, be backend.Backend) (*Model, error) {
	f, file, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	m, err := FromGGUF(f, file, be)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if m.Hash, err = hashFile(path); err != nil {
		return nil, err
	}
	return m, nil
}

// FromGGUF builds a model from a parsed file and its bytes.
func FromGGUF(f *gguf.File, r io.ReaderAt, be backend.Backend) (*Model, error) {
	cfg, err := ConfigOf(f)
	if err != nil {
		return nil, err
	}
	tok, err := TokenizerOf(f)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() != cfg.Vocab {
		return nil, fmt.Errorf("the tokenizer has %d tokens, the embedding %d rows", tok.VocabSize(), cfg.Vocab)
	}
	m := &Model{Config: cfg, Tok: tok, Backend: be}
	l := loader{f: f, r: r}
	qDim, kvDim := cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	m.Embed = l.weight("token_embd.weight", cfg.Vocab, cfg.Dim)
	m.OutNorm = l.vector("output_norm.weight", cfg.Dim)
	if _, ok := f.Tensor("output.weight"); ok {
		m.Out = l.weight("output.weight", cfg.Vocab, cfg.Dim)
	} else {
		m.Out = m.Embed
	}
	for i := 0; i < cfg.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		m.Blocks = append(m.Blocks, Layer{
			AttnNorm: l.vector(p+"attn_norm.weight", cfg.Dim),
			FFNNorm:  l.vector(p+"ffn_norm.weight", cfg.Dim),
			Q:        l.weight(p+"attn_q.weight", qDim, cfg.Dim),
			K:        l.weight(p+"attn_k.weight", kvDim, cfg.Dim),
			V:        l.weight(p+"attn_v.weight", kvDim, cfg.Dim),
			O:        l.weight(p+"attn_output.weight", cfg.Dim, qDim),
			Gate:     l.weight(p+"ffn_gate.weight", cfg.FFN, cfg.Dim),
			Up:       l.weight(p+"ffn_up.weight", cfg.FFN, cfg.Dim),
			Down:     l.weight(p+"ffn_down.weight", cfg.Dim, cfg.FFN),
		})
	}
	if l.err != nil {
		return nil, l.err
	}
	return m, nil
}

// Params counts the model's weights, the output matrix once when it is
// the embedding's.
func (m *Model) Params() int64 {
	n := m.Config.Params()
	if m.Out == m.Embed {
		n -= int64(m.Vocab) * int64(m.Dim)
	}
	return n
}

// loader reads tensors, keeping the first error.
type loader struct {
	f   *gguf.File
	r   io.ReaderAt
	err error
}

func (l *loader) data(name string, dims ...uint64) (gguf.TensorInfo, []byte) {
	if l.err != nil {
		return gguf.TensorInfo{}, nil
	}
	t, ok := l.f.Tensor(name)
	if !ok {
		l.err = fmt.Errorf("tensor %s is missing", name)
		return t, nil
	}
	if len(t.Dims) != len(dims) {
		l.err = fmt.Errorf("tensor %s has dims %v, want %v", name, t.Dims, dims)
		return t, nil
	}
	for i := range dims {
		if t.Dims[i] != dims[i] {
			l.err = fmt.Errorf("tensor %s has dims %v, want %v", name, t.Dims, dims)
			return t, nil
		}
	}
	b, err := l.f.TensorData(l.r, t)
	if err != nil {
		l.err = fmt.Errorf("tensor %s: %w", name, err)
	}
	return t, b
}

// weight reads a rows×cols matrix (GGUF dims [cols, rows]).
func (l *loader) weight(name string, rows, cols int) *backend.Weight {
	t, b := l.data(name, uint64(cols), uint64(rows))
	if l.err != nil {
		return nil
	}
	w := &backend.Weight{Rows: rows, Cols: cols, Data: b}
	switch t.Type {
	case gguf.F32:
		w.Type = backend.F32
	case gguf.F16:
		w.Type = backend.F16
	case gguf.Q8_0:
		w.Type = backend.Q8_0
	default:
		l.err = fmt.Errorf("tensor %s has type %s; %s runs F32, F16 and Q8_0", name, t.Type, "mycel-rt/1")
		return nil
	}
	return w
}

// vector reads a 1-D F32 or F16 tensor.
func (l *loader) vector(name string, n int) []float32 {
	t, b := l.data(name, uint64(n))
	if l.err != nil {
		return nil
	}
	out := make([]float32, n)
	switch t.Type {
	case gguf.F32:
		for i := range out {
			out[i] = f32(b[4*i:])
		}
	case gguf.F16:
		gguf.DequantizeF16(b, out)
	default:
		l.err = fmt.Errorf("tensor %s has type %s; norms must be F32 or F16", name, t.Type)
	}
	return out
}

func hashFile(path string) ([32]byte, error) {
	var h [32]byte
	f, err := os.Open(path)
	if err != nil {
		return h, err
	}
	defer f.Close()
	return sha256Reader(f)
}
