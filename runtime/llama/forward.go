package llama

import (
	"fmt"
)

// State is one sequence's KV cache and position.
type State struct {
	k, v [][]float32 // per layer: positions × KVHeads×HeadDim
	Pos  int
	max  int
}

// NewState returns an empty cache for up to maxPos positions (0: the
// model's context length).
func (m *Model) NewState(maxPos int) *State {
	if maxPos <= 0 || maxPos > m.Context {
		maxPos = m.Context
	}
	s := &State{max: maxPos}
	kv := m.KVHeads * m.HeadDim
	for range m.Blocks {
		s.k = append(s.k, make([]float32, 0, maxPos*kv))
		s.v = append(s.v, make([]float32, 0, maxPos*kv))
	}
	return s
}

// Trace, if set on a Forward call, sees the residual stream after each
// layer (and the final norm as layer -1), for tests that compare with a
// reference.
type Trace func(layer int, x []float32)

// Forward runs tokens through the model from the state's position,
// extending the cache, and returns the logits of the last token (all
// tokens' when all is true: n×Vocab).
func (m *Model) Forward(s *State, tokens []int32, all bool, trace Trace) ([]float32, error) {
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("no tokens")
	}
	if s.Pos+n > s.max {
		return nil, fmt.Errorf("context full: %d positions, %d more asked", s.max, n)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= m.Vocab {
			return nil, fmt.Errorf("token %d outside the vocabulary of %d", t, m.Vocab)
		}
	}
	be := m.Backend
	dim, qDim, kvDim, ffn := m.Dim, m.Heads*m.HeadDim, m.KVHeads*m.HeadDim, m.FFN
	x := make([]float32, n*dim)
	for i, t := range tokens {
		be.Row(x[i*dim:(i+1)*dim], m.Embed, int(t))
	}
	h := make([]float32, n*dim)
	q := make([]float32, n*qDim)
	k := make([]float32, n*kvDim)
	v := make([]float32, n*kvDim)
	att := make([]float32, n*qDim)
	o := make([]float32, n*dim)
	g := make([]float32, n*ffn)
	u := make([]float32, n*ffn)
	for li, l := range m.Blocks {
		be.RMSNorm(h, x, l.AttnNorm, m.Eps)
		be.MatMul(q, l.Q, h, n)
		be.MatMul(k, l.K, h, n)
		be.MatMul(v, l.V, h, n)
		for i := 0; i < n; i++ {
			be.RoPE(q[i*qDim:(i+1)*qDim], s.Pos+i, m.HeadDim, m.RopeBase)
			be.RoPE(k[i*kvDim:(i+1)*kvDim], s.Pos+i, m.HeadDim, m.RopeBase)
		}
		s.k[li] = append(s.k[li], k...)
		s.v[li] = append(s.v[li], v...)
		for i := 0; i < n; i++ {
			// Causal: position Pos+i sees the cache up to itself.
			be.Attention(att[i*qDim:(i+1)*qDim], q[i*qDim:(i+1)*qDim], s.k[li], s.v[li], s.Pos+i+1, m.Heads, m.KVHeads, m.HeadDim)
		}
		be.MatMul(o, l.O, att, n)
		be.Add(x, x, o)
		be.RMSNorm(h, x, l.FFNNorm, m.Eps)
		be.MatMul(g, l.Gate, h, n)
		be.MatMul(u, l.Up, h, n)
		be.SwiGLU(g, g, u)
		be.MatMul(o, l.Down, g, n)
		be.Add(x, x, o)
		if trace != nil {
			trace(li, x)
		}
	}
	s.Pos += n
	if !all {
		x = x[(n-1)*dim:]
		h = h[:dim]
		n = 1
	}
	be.RMSNorm(h, x, m.OutNorm, m.Eps)
	if trace != nil {
		trace(-1, h)
	}
	logits := make([]float32, n*m.Vocab)
	be.MatMul(logits, m.Out, h, n)
	return logits, nil
}
