package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Config shapes the model: the Llama architecture of the runtime with the
// output matrix tied to the embedding.
type Config struct {
	Vocab    int     `json:"vocab"`
	Dim      int     `json:"dim"`
	Layers   int     `json:"layers"`
	Heads    int     `json:"heads"`
	KVHeads  int     `json:"kv_heads"`
	FFN      int     `json:"ffn"`
	Context  int     `json:"context"` // the training sequence length, and the model's context
	RopeBase float64 `json:"rope_base"`
	Eps      float32 `json:"eps"`
}

// HeadDim is Dim/Heads.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// Check reports whether the shape can be trained and run.
func (c Config) Check() error {
	switch {
	case c.Vocab < 257:
		return fmt.Errorf("vocabulary of %d: at least 256 byte tokens and one special", c.Vocab)
	case c.Dim <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.KVHeads <= 0 || c.FFN <= 0 || c.Context < 2:
		return fmt.Errorf("dimensions, layers and heads must be positive and the context at least 2")
	case c.Dim%c.Heads != 0 || c.HeadDim()%2 != 0:
		return fmt.Errorf("%d heads: the embedding of %d must split into heads of even size", c.Heads, c.Dim)
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%d KV heads do not divide %d heads", c.KVHeads, c.Heads)
	case c.RopeBase <= 1 || !(c.Eps > 0):
		return fmt.Errorf("rope base %v and norm epsilon %v must be above 1 and 0", c.RopeBase, c.Eps)
	}
	return nil
}

// tensor is one parameter matrix (or vector, Rows = 1) inside the flat
// parameter slice, named as llama.cpp's GGUF files name it.
type tensor struct {
	Name       string
	Rows, Cols int
	Off        int
	// Decay says whether AdamW's weight decay applies (matrices, not the
	// norms' gains).
	Decay bool
}

func (t tensor) size() int { return t.Rows * t.Cols }

// layerParams are views of one block's weights in a flat slice.
type layerParams struct {
	AttnNorm, Q, K, V, O, FFNNorm, Gate, Up, Down []float32
}

// params are views of every weight in a flat slice; the same layout holds
// gradients and AdamW's moments.
type params struct {
	Embed   []float32 // Vocab×Dim, also the output matrix
	Layers  []layerParams
	OutNorm []float32
}

// layout lists the tensors of a model of shape c in the order they sit in
// the flat slice (and in the GGUF file).
func layout(c Config) (ts []tensor, total int) {
	hd := c.HeadDim()
	add := func(name string, rows, cols int, decay bool) {
		ts = append(ts, tensor{Name: name, Rows: rows, Cols: cols, Off: total, Decay: decay})
		total += rows * cols
	}
	add("token_embd.weight", c.Vocab, c.Dim, true)
	for i := 0; i < c.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", 1, c.Dim, false)
		add(p+"attn_q.weight", c.Heads*hd, c.Dim, true)
		add(p+"attn_k.weight", c.KVHeads*hd, c.Dim, true)
		add(p+"attn_v.weight", c.KVHeads*hd, c.Dim, true)
		add(p+"attn_output.weight", c.Dim, c.Heads*hd, true)
		add(p+"ffn_norm.weight", 1, c.Dim, false)
		add(p+"ffn_gate.weight", c.FFN, c.Dim, true)
		add(p+"ffn_up.weight", c.FFN, c.Dim, true)
		add(p+"ffn_down.weight", c.Dim, c.FFN, true)
	}
	add("output_norm.weight", 1, c.Dim, false)
	return ts, total
}

// Params counts the weights of a model of shape c.
func (c Config) Params() int {
	_, n := layout(c)
	return n
}

// view cuts flat into the named weights of shape c.
func view(c Config, ts []tensor, flat []float32) params {
	at := func(i int) []float32 { t := ts[i]; return flat[t.Off : t.Off+t.size() : t.Off+t.size()] }
	p := params{Embed: at(0), OutNorm: at(len(ts) - 1)}
	for l := 0; l < c.Layers; l++ {
		b := 1 + 9*l
		p.Layers = append(p.Layers, layerParams{
			AttnNorm: at(b), Q: at(b + 1), K: at(b + 2), V: at(b + 3), O: at(b + 4),
			FFNNorm: at(b + 5), Gate: at(b + 6), Up: at(b + 7), Down: at(b + 8),
		})
	}
	return p
}

// initWeights fills flat with the starting weights: norms' gains at 1;
// matrices uniform with standard deviation 0.02, the two that write into
// the residual stream (attention output and FFN down) scaled by
// 1/sqrt(2·layers) as in GPT-2, so the stream's variance does not grow
// with depth. Uniform rather than normal keeps the draw to integer
// arithmetic and one multiplication per weight.
func initWeights(c Config, ts []tensor, flat []float32, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x747261696e)) // "train"
	for _, t := range ts {
		w := flat[t.Off : t.Off+t.size()]
		if !t.Decay {
			for i := range w {
				w[i] = 1
			}
			continue
		}
		std := 0.02
		if isResidualOut(t.Name) {
			std /= math.Sqrt(2 * float64(c.Layers))
		}
		// Uniform on [-a, a) has standard deviation a/sqrt(3).
		a := float32(std * math.Sqrt(3) / (1 << 23))
		for i := range w {
			w[i] = float32(int32(rng.Uint32()>>8)-1<<23) * a
		}
	}
}

func isResidualOut(name string) bool {
	return strings.HasSuffix(name, ".attn_output.weight") || strings.HasSuffix(name, ".ffn_down.weight")
}
