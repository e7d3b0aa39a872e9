package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
)

// Gradient checks: each backward pass against central finite differences
// of its forward pass, through the scalar L = Σ r⊙y for a fixed random r
// (so every output matters), summed in float64.

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((rng.Float64()*2 - 1) * scale)
	}
	return x
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkGrad compares the analytic gradient got of f with respect to x
// with central differences at a sample of coordinates: every error must
// be within tol of the largest gradient component (float32 forward
// passes leave about 1e-4 of relative noise in the differences).
func checkGrad(t *testing.T, name string, x []float32, got []float32, f func() float64, h float64, tol float64) {
	t.Helper()
	var scale float64
	for _, g := range got {
		scale = max(scale, math.Abs(float64(g)))
	}
	if scale == 0 {
		t.Fatalf("%s: gradient is all zero: the check would prove nothing", name)
	}
	step := max(1, len(x)/64)
	worst := 0.0
	for i := 0; i < len(x); i += step {
		old := x[i]
		x[i] = old + float32(h)
		up := f()
		x[i] = old - float32(h)
		down := f()
		x[i] = old
		hh := float64(float32(old+float32(h))-float32(old-float32(h))) / 2 // the step actually taken
		num := (up - down) / (2 * hh)
		err := math.Abs(num-float64(got[i])) / scale
		worst = max(worst, err)
		if err > tol {
			t.Errorf("%s[%d]: analytic %.6g, numeric %.6g (error %.3g of the largest component %.3g)", name, i, got[i], num, err, scale)
			return
		}
	}
	t.Logf("%s: worst error %.2g of the largest component %.3g", name, worst, scale)
}

func TestGradRMSNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	be := cpu.New(1)
	const rows, d = 3, 40
	x, w, r := randVec(rng, rows*d, 2), randVec(rng, d, 1.5), randVec(rng, rows*d, 1)
	y := make([]float32, rows*d)
	f := func() float64 { be.RMSNorm(y, x, w, 1e-5); return dot64(r, y) }
	dx, dw := make([]float32, rows*d), make([]float32, d)
	rmsnormBack(2, dx, dw, r, x, w, 1e-5)
	checkGrad(t, "dx", x, dx, f, 1e-2, 2e-3)
	checkGrad(t, "dw", w, dw, f, 1e-2, 2e-3)
}

func TestGradSwiGLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	be := cpu.New(1)
	const n = 300
	g, u, r := randVec(rng, n, 4), randVec(rng, n, 2), randVec(rng, n, 1)
	y := make([]float32, n)
	f := func() float64 { be.SwiGLU(y, g, u); return dot64(r, y) }
	dg, du := make([]float32, n), make([]float32, n)
	swigluBack(2, dg, du, r, g, u)
	checkGrad(t, "dgate", g, dg, f, 1e-2, 2e-3)
	checkGrad(t, "dup", u, du, f, 1e-2, 2e-3)
}

func TestGradRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const seq, width, hd = 7, 24, 8
	rt := newRopeTable(seq, hd, 10000)
	x, r := randVec(rng, 2*seq*width, 1), randVec(rng, 2*seq*width, 1)
	y := make([]float32, len(x))
	f := func() float64 { copy(y, x); rt.rope(1, y, width, seq, false); return dot64(r, y) }
	dx := append([]float32(nil), r...)
	rt.rope(2, dx, width, seq, true)
	checkGrad(t, "dx", x, dx, f, 1e-2, 1e-3)
	// The forward rotation is the runtime's, bit for bit.
	be := cpu.New(1)
	copy(y, x)
	rt.rope(2, y, width, seq, false)
	for row := 0; row < 2*seq; row++ {
		want := append([]float32(nil), x[row*width:(row+1)*width]...)
		be.RoPE(want, row%seq, hd, 10000)
		for i, v := range want {
			if math.Float32bits(v) != math.Float32bits(y[row*width+i]) {
				t.Fatalf("row %d element %d: %v, runtime %v", row, i, y[row*width+i], v)
			}
		}
	}
}

func TestGradAttention(t *testing.T) {
	for _, c := range []struct{ heads, kv int }{{4, 4}, {4, 2}, {6, 1}} {
		t.Run(fmt.Sprintf("%dheads_%dkv", c.heads, c.kv), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(c.kv)))
			cfg := Config{Heads: c.heads, KVHeads: c.kv, Dim: c.heads * 8, Context: 6}
			a := newAttention(cfg, 2, cpu.New)
			const batch = 2
			rows, qd, kvd := batch*cfg.Context, c.heads*8, c.kv*8
			q, k, v := randVec(rng, rows*qd, 1.5), randVec(rng, rows*kvd, 1.5), randVec(rng, rows*kvd, 1)
			r := randVec(rng, rows*qd, 1)
			out, p := make([]float32, rows*qd), make([]float32, batch*c.heads*cfg.Context*cfg.Context)
			f := func() float64 { a.forward(out, p, q, k, v, batch); return dot64(r, out) }
			f()
			dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
			a.backward(dq, dk, dv, r, p, q, k, v, batch)
			checkGrad(t, "dq", q, dq, f, 1e-2, 2e-3)
			checkGrad(t, "dk", k, dk, f, 1e-2, 2e-3)
			checkGrad(t, "dv", v, dv, f, 1e-2, 2e-3)
		})
	}
}

func TestAttentionMatchesRuntime(t *testing.T) {
	// The trainer's batched attention computes what the runtime's
	// one-position kernel computes, position by position, to rounding
	// (the scaling happens in another order).
	rng := rand.New(rand.NewPCG(9, 9))
	cfg := Config{Heads: 4, KVHeads: 2, Dim: 32, Context: 9}
	a := newAttention(cfg, 1, cpu.New)
	rows, qd, kvd := cfg.Context, 32, 16
	q, k, v := randVec(rng, rows*qd, 1), randVec(rng, rows*kvd, 1), randVec(rng, rows*kvd, 1)
	out, p := make([]float32, rows*qd), make([]float32, 4*rows*rows)
	a.forward(out, p, q, k, v, 1)
	be := cpu.New(1)
	want := make([]float32, qd)
	for i := 0; i < rows; i++ {
		be.Attention(want, q[i*qd:(i+1)*qd], k, v, i+1, 4, 2, 8)
		for j, w := range want {
			if d := math.Abs(float64(w - out[i*qd+j])); d > 1e-5 {
				t.Fatalf("position %d element %d: %v, runtime %v", i, j, out[i*qd+j], w)
			}
		}
	}
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	cfg := tinyConfig()
	n := newNet(cfg, 1, 2, cpu.New)
	const rows, in, out = 5, 24, 20
	x, w, r := randVec(rng, rows*in, 1), randVec(rng, out*in, 1), randVec(rng, rows*out, 1)
	y := make([]float32, rows*out)
	f := func() float64 { n.linear(y, x, w, rows, in, out); return dot64(r, y) }
	dx, dw := randVec(rng, rows*in, 1), make([]float32, out*in)
	base := append([]float32(nil), dx...)
	n.linearBack(dx, dw, r, x, w, rows, in, out, true)
	for i := range dx {
		dx[i] -= base[i] // add mode must add
	}
	checkGrad(t, "dx", x, dx, f, 1e-2, 1e-3)
	checkGrad(t, "dw", w, dw, f, 1e-2, 1e-3)
}

func tinyConfig() Config {
	return Config{Vocab: 300, Dim: 16, Layers: 2, Heads: 4, KVHeads: 2, FFN: 24, Context: 6, RopeBase: 10000, Eps: 1e-5}
}

// TestGradModel checks the whole network's gradient, every tensor, with
// weights larger than training starts with so every path carries signal.
func TestGradModel(t *testing.T) {
	cfg := tinyConfig()
	n := newNet(cfg, 2, 2, cpu.New)
	rng := rand.New(rand.NewPCG(12, 13))
	for i := range n.w {
		n.w[i] = float32((rng.Float64()*2 - 1) * 0.4)
	}
	for _, L := range n.pw.Layers {
		for i := range L.AttnNorm {
			L.AttnNorm[i] += 1
			L.FFNNorm[i] += 1
		}
	}
	for i := range n.pw.OutNorm {
		n.pw.OutNorm[i] += 1
	}
	tokens := make([]int32, 2*(cfg.Context+1))
	for i := range tokens {
		tokens[i] = int32(rng.IntN(cfg.Vocab))
	}
	loss, err := n.step(tokens)
	if err != nil {
		t.Fatal(err)
	}
	if !(loss > 0) {
		t.Fatalf("loss %v", loss)
	}
	grad := append([]float32(nil), n.g...)
	f := func() float64 {
		l, err := n.forward(tokens, false)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for _, ts := range n.ts {
		checkGrad(t, ts.Name, n.w[ts.Off:ts.Off+ts.size()], grad[ts.Off:ts.Off+ts.size()], f, 1e-2, 5e-3)
	}
}

var _ backend.Backend = cpu.New(1)
