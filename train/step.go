package train

import (
	"fmt"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// net holds a model's weights and gradients and the activations a
// forward pass over one batch saves for the backward pass.
type net struct {
	cfg     Config
	ts      []tensor
	w, g    []float32 // weights and gradients, flat (layout)
	pw, pg  params
	be      backend.Backend
	threads int
	att     *attention
	rope    *ropeTable
	batch   int // sequences per step

	// Saved per layer: the residual stream entering the block and after
	// attention, the normalized inputs, q and k after rotation, v, the
	// attention probabilities and output, the FFN's gate, up and product.
	xIn, h1, q, k, v, p, att2, xMid, h2, gate, up, act [][]float32
	xOut, hf, logits                                   []float32
	// Scratch for transposes and gradients.
	t1, t2, t3, dx, dh, tmp, dq, dAtt, dk, dv, dAct, dGate, dUp []float32
	loss                                                        []float64
}

func newNet(c Config, batch, threads int, newBackend func(threads int) backend.Backend) *net {
	ts, total := layout(c)
	n := &net{cfg: c, ts: ts, w: make([]float32, total), g: make([]float32, total),
		be: newBackend(threads), threads: threads, batch: batch}
	n.pw, n.pg = view(c, ts, n.w), view(c, ts, n.g)
	n.att = newAttention(c, threads, newBackend)
	n.rope = newRopeTable(c.Context, c.HeadDim(), c.RopeBase)
	rows := batch * c.Context
	qd, kvd := c.Heads*c.HeadDim(), c.KVHeads*c.HeadDim()
	mk := func(size int) [][]float32 {
		s := make([][]float32, c.Layers)
		for i := range s {
			s[i] = make([]float32, size)
		}
		return s
	}
	n.xIn, n.h1, n.xMid, n.h2 = mk(rows*c.Dim), mk(rows*c.Dim), mk(rows*c.Dim), mk(rows*c.Dim)
	n.q, n.att2, n.k, n.v = mk(rows*qd), mk(rows*qd), mk(rows*kvd), mk(rows*kvd)
	n.p = mk(batch * c.Heads * c.Context * c.Context)
	n.gate, n.up, n.act = mk(rows*c.FFN), mk(rows*c.FFN), mk(rows*c.FFN)
	n.xOut, n.hf, n.logits = make([]float32, rows*c.Dim), make([]float32, rows*c.Dim), make([]float32, rows*c.Vocab)
	wide := max(c.Vocab, c.FFN, qd, c.Dim)
	n.t1, n.t2 = make([]float32, rows*wide), make([]float32, rows*wide)
	n.t3 = make([]float32, wide*max(c.Dim, c.FFN))
	n.dx, n.dh, n.tmp = make([]float32, rows*c.Dim), make([]float32, rows*c.Dim), make([]float32, rows*c.Dim)
	n.dq, n.dAtt, n.dk, n.dv = make([]float32, rows*qd), make([]float32, rows*qd), make([]float32, rows*kvd), make([]float32, rows*kvd)
	n.dAct, n.dGate, n.dUp = make([]float32, rows*c.FFN), make([]float32, rows*c.FFN), make([]float32, rows*c.FFN)
	n.loss = make([]float64, rows)
	return n
}

// linear computes y = x·Wᵀ for rows of x.
func (n *net) linear(y, x, w []float32, rows, in, out int) {
	mm(n.be, y, x, rows, w, out, in)
}

// linearBack sets dw = dyᵀ·x and, when dx is not nil, dx = dy·W (or
// adds it, when add is true).
func (n *net) linearBack(dx, dw, dy, x, w []float32, rows, in, out int, add bool) {
	dyT, xT := n.t1[:out*rows], n.t2[:in*rows]
	transpose(dyT, dy[:rows*out], rows, out)
	transpose(xT, x[:rows*in], rows, in)
	mm(n.be, dw, dyT, out, xT, in, rows)
	if dx == nil {
		return
	}
	wT := n.t3[:in*out]
	transpose(wT, w, out, in)
	if !add {
		mm(n.be, dx, dy, rows, wT, in, out)
		return
	}
	tmp := n.t1[:rows*in]
	mm(n.be, tmp, dy, rows, wT, in, out)
	add32(n.threads, dx[:rows*in], tmp)
}

func add32(threads int, dst, src []float32) {
	chunks(threads, len(dst), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] += src[i]
		}
	})
}

// step runs the forward and backward passes over one batch: tokens holds
// batch sequences of Context+1 tokens, each predicting its next. It
// overwrites the gradients and returns the mean cross-entropy in nats.
func (n *net) step(tokens []int32) (float64, error) {
	loss, err := n.forward(tokens, true)
	if err != nil {
		return 0, err
	}
	n.backward(tokens)
	return loss, nil
}

// forward runs the batch through the model and returns the mean loss;
// with grad it also leaves dLoss/dlogits in n.logits.
func (n *net) forward(tokens []int32, grad bool) (float64, error) {
	c, T, B := n.cfg, n.cfg.Context, n.batch
	if len(tokens) != B*(T+1) {
		return 0, fmt.Errorf("batch of %d tokens, want %d sequences of %d", len(tokens), B, T+1)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= c.Vocab {
			return 0, fmt.Errorf("token %d outside the vocabulary of %d", t, c.Vocab)
		}
	}
	rows, D, F := B*T, c.Dim, c.FFN
	qd, kvd := c.Heads*c.HeadDim(), c.KVHeads*c.HeadDim()
	x := n.xOut // the residual stream, advanced in place
	for b := 0; b < B; b++ {
		for i := 0; i < T; i++ {
			tok := int(tokens[b*(T+1)+i])
			copy(x[(b*T+i)*D:(b*T+i+1)*D], n.pw.Embed[tok*D:(tok+1)*D])
		}
	}
	for l, L := range n.pw.Layers {
		copy(n.xIn[l], x)
		n.be.RMSNorm(n.h1[l], x, L.AttnNorm, c.Eps)
		n.linear(n.q[l], n.h1[l], L.Q, rows, D, qd)
		n.linear(n.k[l], n.h1[l], L.K, rows, D, kvd)
		n.linear(n.v[l], n.h1[l], L.V, rows, D, kvd)
		n.rope.rope(n.threads, n.q[l], qd, T, false)
		n.rope.rope(n.threads, n.k[l], kvd, T, false)
		n.att.forward(n.att2[l], n.p[l], n.q[l], n.k[l], n.v[l], B)
		n.linear(n.tmp, n.att2[l], L.O, rows, qd, D)
		n.be.Add(x, x, n.tmp)
		copy(n.xMid[l], x)
		n.be.RMSNorm(n.h2[l], x, L.FFNNorm, c.Eps)
		n.linear(n.gate[l], n.h2[l], L.Gate, rows, D, F)
		n.linear(n.up[l], n.h2[l], L.Up, rows, D, F)
		n.be.SwiGLU(n.act[l], n.gate[l], n.up[l])
		n.linear(n.tmp, n.act[l], L.Down, rows, F, D)
		n.be.Add(x, x, n.tmp)
	}
	n.be.RMSNorm(n.hf, x, n.pw.OutNorm, c.Eps)
	n.linear(n.logits, n.hf, n.pw.Embed, rows, D, c.Vocab)
	return n.crossEntropy(tokens, grad), nil
}

// crossEntropy returns the mean of −log softmax(logits)[next token] and,
// with grad, replaces the logits by the loss's gradient (softmax − one-hot)/rows.
func (n *net) crossEntropy(tokens []int32, grad bool) float64 {
	c, T := n.cfg, n.cfg.Context
	rows, V := n.batch*T, c.Vocab
	inv := 1 / float32(rows)
	chunks(n.threads, rows, 32, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, i := r/T, r%T
			target := int(tokens[b*(T+1)+i+1])
			row := n.logits[r*V : (r+1)*V]
			m := row[0]
			for _, v := range row[1:] {
				m = max(m, v)
			}
			var sum float64
			for _, v := range row {
				sum += float64(detmath.Exp32(v - m))
			}
			n.loss[r] = detmath.Log(sum) + float64(m) - float64(row[target])
			if grad {
				is := float32(1 / sum)
				for j, v := range row {
					row[j] = float32(detmath.Exp32(v-m)*is) * inv
				}
				row[target] -= inv
			}
		}
	})
	var total float64
	for _, l := range n.loss {
		total += l
	}
	return total / float64(rows)
}

// backward fills n.g from the gradient left in n.logits.
func (n *net) backward(tokens []int32) {
	c, T, B := n.cfg, n.cfg.Context, n.batch
	rows, D, F := B*T, c.Dim, c.FFN
	qd, kvd := c.Heads*c.HeadDim(), c.KVHeads*c.HeadDim()
	clear(n.g) // the norms' gains accumulate; the matrices are overwritten
	// Logits = hf·Embedᵀ: the embedding's gradient starts with its use as
	// the output matrix; the lookups add to it last.
	n.linearBack(n.dh, n.pg.Embed, n.logits, n.hf, n.pw.Embed, rows, D, c.Vocab, false)
	rmsnormBack(n.threads, n.dx, n.pg.OutNorm, n.dh, n.xOut, n.pw.OutNorm, c.Eps)
	for l := c.Layers - 1; l >= 0; l-- {
		L, G := n.pw.Layers[l], n.pg.Layers[l]
		// x = xMid + act·Downᵀ
		n.linearBack(n.dAct, G.Down, n.dx, n.act[l], L.Down, rows, F, D, false)
		swigluBack(n.threads, n.dGate, n.dUp, n.dAct, n.gate[l], n.up[l])
		n.linearBack(n.dh, G.Gate, n.dGate, n.h2[l], L.Gate, rows, D, F, false)
		n.linearBack(n.dh, G.Up, n.dUp, n.h2[l], L.Up, rows, D, F, true)
		rmsnormBack(n.threads, n.tmp, G.FFNNorm, n.dh, n.xMid[l], L.FFNNorm, c.Eps)
		add32(n.threads, n.dx, n.tmp)
		// xMid = xIn + att·Oᵀ
		n.linearBack(n.dAtt, G.O, n.dx, n.att2[l], L.O, rows, qd, D, false)
		n.att.backward(n.dq, n.dk, n.dv, n.dAtt, n.p[l], n.q[l], n.k[l], n.v[l], B)
		n.rope.rope(n.threads, n.dq, qd, T, true)
		n.rope.rope(n.threads, n.dk, kvd, T, true)
		n.linearBack(n.dh, G.Q, n.dq, n.h1[l], L.Q, rows, D, qd, false)
		n.linearBack(n.dh, G.K, n.dk, n.h1[l], L.K, rows, D, kvd, true)
		n.linearBack(n.dh, G.V, n.dv, n.h1[l], L.V, rows, D, kvd, true)
		rmsnormBack(n.threads, n.tmp, G.AttnNorm, n.dh, n.xIn[l], L.AttnNorm, c.Eps)
		add32(n.threads, n.dx, n.tmp)
	}
	// The lookups, in token order so the sums are fixed.
	for b := 0; b < B; b++ {
		for i := 0; i < T; i++ {
			tok := int(tokens[b*(T+1)+i])
			g, d := n.pg.Embed[tok*D:(tok+1)*D], n.dx[(b*T+i)*D:(b*T+i+1)*D]
			for j := range g {
				g[j] += d[j]
			}
		}
	}
}

// flops returns the floating-point operations of one forward and backward
// pass over rows positions: two per multiply-add, the backward pass twice
// the forward's multiply-adds; causal attention counts the half of the
// scores it uses (a position attends to T/2 others on average).
func (c Config) flops(rows int) int64 {
	hd := c.HeadDim()
	qd, kvd := c.Heads*hd, c.KVHeads*hd
	perTok := int64(c.Dim)*int64(qd+2*kvd) + int64(qd)*int64(c.Dim) + 3*int64(c.Dim)*int64(c.FFN)
	perTok = int64(c.Layers)*perTok + int64(c.Vocab)*int64(c.Dim)
	// QKᵀ and P·V: T/2 multiply-adds of hd for each head, twice.
	attn := int64(c.Layers) * int64(c.Heads) * int64(hd) * int64(c.Context)
	return 6 * int64(rows) * (perTok + attn)
}

// Product is a matrix product of one training step: M×K times K×N,
// Count times.
type Product struct{ M, K, N, Count int }

// Products lists the matrix products of one training step of o, forward
// and backward, as the trainer computes them (attention's full T×T
// scores, masked afterwards): what a BLAS would have to multiply to do
// the same step, the benchmark's baseline.
func (o Options) Products() []Product {
	c, rows := o.Config, o.Batch*o.Context
	hd := c.HeadDim()
	qd, kvd := c.Heads*hd, c.KVHeads*hd
	var ps []Product
	linear := func(in, out, count int) {
		ps = append(ps,
			Product{rows, in, out, count}, // y = x·Wᵀ
			Product{rows, out, in, count}, // dx = dy·W
			Product{out, rows, in, count}) // dW = dyᵀ·x
	}
	linear(c.Dim, qd, c.Layers)
	linear(c.Dim, kvd, 2*c.Layers)
	linear(qd, c.Dim, c.Layers)
	linear(c.Dim, c.FFN, 2*c.Layers)
	linear(c.FFN, c.Dim, c.Layers)
	linear(c.Dim, c.Vocab, 1)
	heads := o.Batch * c.Heads * c.Layers
	T := c.Context
	ps = append(ps, Product{T, hd, T, 2 * heads}, Product{T, T, hd, 4 * heads})
	return ps
}
