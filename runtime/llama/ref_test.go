package llama

import (
	"fmt"
	"math"
	"testing"

	"github.com/mycelnet/mycel/runtime/gguf"
)

// refModel is an independent float64 Llama, written the way Hugging
// Face's modeling_llama.py computes it: rotary embeddings by rotate_half
// on the unpermuted Q and K weights. The GGUF stores Q and K rows as
// llama.cpp's converter permutes them (adjacent pairs); refModel undoes
// that permutation, so agreeing with it also checks the layout.
type refModel struct {
	cfg                    Config
	embed, out             [][]float64
	outNorm                []float64
	layers                 []refLayer
	headDim                int
	ropeBase, eps          float64
	nHead, nKVHead, vocabN int
}

type refLayer struct {
	attnNorm, ffnNorm          []float64
	q, k, v, o, gate, up, down [][]float64
}

func loadRef(t *testing.T, path string, permuted bool) *refModel {
	t.Helper()
	f, file, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	cfg, err := ConfigOf(f)
	if err != nil {
		t.Fatal(err)
	}
	tensor := func(name string) ([]float64, []uint64) {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("no tensor %s", name)
		}
		b, err := f.TensorData(file, ti)
		if err != nil {
			t.Fatal(err)
		}
		n := int(ti.Elements())
		x := make([]float32, n)
		switch ti.Type {
		case gguf.F32:
			gguf.DecodeF32(b, x)
		case gguf.F16:
			gguf.DequantizeF16(b, x)
		case gguf.Q8_0:
			gguf.DequantizeQ8_0(b, x)
		default:
			t.Fatalf("%s: type %s", name, ti.Type)
		}
		out := make([]float64, n)
		for i, v := range x {
			out[i] = float64(v)
		}
		return out, ti.Dims
	}
	mat := func(name string) [][]float64 {
		x, dims := tensor(name)
		cols, rows := int(dims[0]), int(dims[1])
		m := make([][]float64, rows)
		for r := range m {
			m[r] = x[r*cols : (r+1)*cols]
		}
		return m
	}
	vec := func(name string) []float64 { x, _ := tensor(name); return x }
	// unpermute reverses convert_hf_to_gguf.py's permute: within each
	// head, GGUF row 2i is HF row i and GGUF row 2i+1 is HF row hd/2+i.
	unpermute := func(m [][]float64) [][]float64 {
		if !permuted {
			return m
		}
		hd := cfg.HeadDim
		out := make([][]float64, len(m))
		for h := 0; h < len(m)/hd; h++ {
			for i := 0; i < hd/2; i++ {
				out[h*hd+i] = m[h*hd+2*i]
				out[h*hd+hd/2+i] = m[h*hd+2*i+1]
			}
		}
		return out
	}
	r := &refModel{cfg: cfg, headDim: cfg.HeadDim, ropeBase: cfg.RopeBase, eps: float64(cfg.Eps)}
	r.embed = mat("token_embd.weight")
	r.out = r.embed
	if _, ok := f.Tensor("output.weight"); ok {
		r.out = mat("output.weight")
	}
	r.outNorm = vec("output_norm.weight")
	for i := 0; i < cfg.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		r.layers = append(r.layers, refLayer{
			attnNorm: vec(p + "attn_norm.weight"),
			ffnNorm:  vec(p + "ffn_norm.weight"),
			q:        unpermute(mat(p + "attn_q.weight")),
			k:        unpermute(mat(p + "attn_k.weight")),
			v:        mat(p + "attn_v.weight"),
			o:        mat(p + "attn_output.weight"),
			gate:     mat(p + "ffn_gate.weight"),
			up:       mat(p + "ffn_up.weight"),
			down:     mat(p + "ffn_down.weight"),
		})
	}
	return r
}

func refMatVec(m [][]float64, x []float64) []float64 {
	out := make([]float64, len(m))
	for r, row := range m {
		var s float64
		for i, w := range row {
			s += w * x[i]
		}
		out[r] = s
	}
	return out
}

func refRMSNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * inv * w[i]
	}
	return out
}

// refRoPE is Hugging Face's apply_rotary_pos_emb: each head's first half
// pairs with its second half.
func refRoPE(x []float64, pos, hd int, base float64) {
	for h := 0; h < len(x)/hd; h++ {
		v := x[h*hd : (h+1)*hd]
		for i := 0; i < hd/2; i++ {
			theta := float64(pos) / math.Pow(base, float64(2*i)/float64(hd))
			c, s := math.Cos(theta), math.Sin(theta)
			a, b := v[i], v[i+hd/2]
			v[i] = a*c - b*s
			v[i+hd/2] = b*c + a*s
		}
	}
}

// forward runs tokens from position 0 and returns the residual stream
// after every layer (per token), the final norm and the logits.
func (r *refModel) forward(tokens []int32) (layers [][][]float64, norm, logits [][]float64) {
	c := r.cfg
	hd := c.HeadDim
	group := c.Heads / c.KVHeads
	xs := make([][]float64, len(tokens))
	for i, tok := range tokens {
		xs[i] = append([]float64(nil), r.embed[tok]...)
	}
	for _, l := range r.layers {
		var ks, vs [][]float64
		for pos, x := range xs {
			h := refRMSNorm(x, l.attnNorm, r.eps)
			q := refMatVec(l.q, h)
			k := refMatVec(l.k, h)
			v := refMatVec(l.v, h)
			refRoPE(q, pos, hd, r.ropeBase)
			refRoPE(k, pos, hd, r.ropeBase)
			ks, vs = append(ks, k), append(vs, v)
			att := make([]float64, c.Heads*hd)
			for head := 0; head < c.Heads; head++ {
				kvh := head / group
				qh := q[head*hd : (head+1)*hd]
				scores := make([]float64, pos+1)
				mx := math.Inf(-1)
				for t := range scores {
					var s float64
					for d := 0; d < hd; d++ {
						s += qh[d] * ks[t][kvh*hd+d]
					}
					scores[t] = s / math.Sqrt(float64(hd))
					mx = math.Max(mx, scores[t])
				}
				var sum float64
				for t := range scores {
					scores[t] = math.Exp(scores[t] - mx)
					sum += scores[t]
				}
				for t, p := range scores {
					for d := 0; d < hd; d++ {
						att[head*hd+d] += p / sum * vs[t][kvh*hd+d]
					}
				}
			}
			o := refMatVec(l.o, att)
			for i := range x {
				x[i] += o[i]
			}
		}
		// The FFN after all positions' attention, as the layer order
		// requires (attention of later positions reads only K and V).
		for _, x := range xs {
			h := refRMSNorm(x, l.ffnNorm, r.eps)
			g := refMatVec(l.gate, h)
			u := refMatVec(l.up, h)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			d := refMatVec(l.down, g)
			for i := range x {
				x[i] += d[i]
			}
		}
		snap := make([][]float64, len(xs))
		for i, x := range xs {
			snap[i] = append([]float64(nil), x...)
		}
		layers = append(layers, snap)
	}
	for _, x := range xs {
		h := refRMSNorm(x, r.outNorm, r.eps)
		norm = append(norm, h)
		logits = append(logits, refMatVec(r.out, h))
	}
	return layers, norm, logits
}

// relErr is max |got - want| over max |want|: the error relative to the
// tensor's scale, which is what rounding and quantization bound.
func relErr(got []float32, want [][]float64, width int) float64 {
	var maxDiff, maxWant float64
	for i, row := range want {
		for j, w := range row {
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i*width+j])-w))
			maxWant = math.Max(maxWant, math.Abs(w))
		}
	}
	return maxDiff / maxWant
}

// TestForwardMatchesFloat64Reference checks every layer's output, the
// final norm and the logits of the runtime against refModel, on models
// with two layers and grouped-query attention (4 query heads over 2 KV
// heads), in each weight type. The tolerances are relative to each
// tensor's largest element: float32 rounding for F32 and F16 weights
// (which convert exactly), and for Q8_0 the quantization of activations
// to 8 bits per block of 32 (about 1/254 of a block's largest element per
// element), compounded through the layers.
func TestForwardMatchesFloat64Reference(t *testing.T) {
	for _, tc := range []struct {
		typ gguf.Type
		tol float64
	}{
		{gguf.F32, 4e-6},
		{gguf.F16, 4e-6},
		{gguf.Q8_0, 4e-2},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			path := writeModel(t, tinySpec(tc.typ))
			m := loadModel(t, path, 2)
			ref := loadRef(t, path, true)
			refLayers, refNorm, refLogits := ref.forward(testPrompt)

			var worst float64
			check := func(what string, got []float32, want [][]float64, width int) {
				t.Helper()
				e := relErr(got, want, width)
				worst = math.Max(worst, e)
				if e > tc.tol || math.IsNaN(e) {
					t.Errorf("%s: relative error %.3g, tolerance %.3g", what, e, tc.tol)
				}
			}
			st := m.NewState(0)
			logits, err := m.Forward(st, testPrompt, true, func(layer int, x []float32) {
				if layer < 0 {
					check("final norm", x, refNorm, m.Dim)
					return
				}
				check(fmt.Sprintf("layer %d", layer), x, refLayers[layer], m.Dim)
			})
			if err != nil {
				t.Fatal(err)
			}
			check("logits", logits, refLogits, m.Vocab)
			t.Logf("%s: worst relative error %.3g (tolerance %.3g)", tc.typ, worst, tc.tol)
		})
	}
}

// TestReferenceSeesLayout checks that the comparison above can fail: a
// reference that reads Q and K as if they were not permuted (rotating
// first half with second half on llama.cpp's interleaved rows) disagrees
// far beyond the tolerance.
func TestReferenceSeesLayout(t *testing.T) {
	path := writeModel(t, tinySpec(gguf.F32))
	m := loadModel(t, path, 1)
	_, _, want := loadRef(t, path, false).forward(testPrompt)
	got, err := m.Forward(m.NewState(0), testPrompt, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(got, want, m.Vocab); e < 1e-2 {
		t.Fatalf("a reference with the wrong rotary layout agrees to %.3g", e)
	}
}
