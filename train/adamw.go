package train

import (
	"math"

	"github.com/mycelnet/mycel/runtime/detmath"
)

// lrAt is the learning rate of step (0-based): linear warm-up to peak
// over warmup steps, then a cosine down to minFrac·peak at the last step.
func lrAt(step, steps, warmup int, peak, minFrac float64) float64 {
	if step < warmup {
		return peak * float64(step+1) / float64(warmup)
	}
	span := max(1, steps-warmup-1)
	frac := min(1, float64(step-warmup)/float64(span))
	cos := 0.5 * (1 + detmath.Cos(math.Pi*frac))
	return peak * (minFrac + float64((1-minFrac)*cos))
}

// gradNorm returns the L2 norm of g, summed in fixed blocks in order so
// the result does not depend on the thread count.
func gradNorm(threads int, g []float32) float64 {
	const block = 1 << 14
	parts := make([]float64, (len(g)+block-1)/block)
	chunks(threads, len(g), block, func(lo, hi int) {
		var s float64
		for _, v := range g[lo:hi] {
			s += float64(float64(v) * float64(v))
		}
		parts[lo/block] = s
	})
	var s float64
	for _, p := range parts {
		s += p
	}
	return math.Sqrt(s)
}

// adamw holds AdamW's settings and moments.
type adamw struct {
	beta1, beta2, eps, decay float64
	m, v                     []float32
}

// update applies one AdamW step (1-based t) at learning rate lr to w from
// g scaled by gscale (gradient clipping), with decoupled weight decay on
// the tensors that take it: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g²,
// w −= lr·(m̂/(√v̂ + ε) + λ·w).
func (o *adamw) update(threads int, ts []tensor, w, g []float32, t int, lr, gscale float64) {
	b1, b2 := float32(o.beta1), float32(o.beta2)
	c1 := float32(1 / (1 - detmath.Pow(o.beta1, float64(t))))
	c2 := float32(1 / (1 - detmath.Pow(o.beta2, float64(t))))
	eps, gs, lr32 := float32(o.eps), float32(gscale), float32(lr)
	for _, ten := range ts {
		decay := float32(0)
		if ten.Decay {
			decay = float32(o.decay)
		}
		lo, hi := ten.Off, ten.Off+ten.size()
		chunks(threads, hi-lo, 1<<14, func(a, b int) {
			for i := lo + a; i < lo+b; i++ {
				gi := g[i] * gs
				m := float32(b1*o.m[i]) + float32((1-b1)*gi)
				v := float32(b2*o.v[i]) + float32(float32((1-b2)*gi)*gi)
				o.m[i], o.v[i] = m, v
				step := float32(m*c1) / (float32(math.Sqrt(float64(v*c2))) + eps)
				w[i] -= float32(lr32 * (step + float32(decay*w[i])))
			}
		})
	}
}
