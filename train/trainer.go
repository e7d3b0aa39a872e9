package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/mycelnet/mycel/runtime/backend/cpu"
)

// Options are a training run's settings. Everything that changes the
// weights is here, so a checkpoint that stores them resumes the same run.
type Options struct {
	Config
	Seed        uint64  `json:"seed"`
	Batch       int     `json:"batch"` // sequences of Context tokens per step
	Steps       int     `json:"steps"`
	LR          float64 `json:"lr"`           // peak learning rate
	MinLR       float64 `json:"min_lr_frac"`  // final learning rate as a fraction of LR
	Warmup      int     `json:"warmup"`       // steps
	WeightDecay float64 `json:"weight_decay"` // AdamW's λ, matrices only
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	AdamEps     float64 `json:"adam_eps"`
	Clip        float64 `json:"clip"` // global gradient norm limit; 0 = none
}

// DefaultOptions are the settings of mycel's KJV model (models/kjv).
func DefaultOptions() Options {
	return Options{
		Config: Config{Vocab: 4096, Dim: 256, Layers: 4, Heads: 8, KVHeads: 4, FFN: 704, Context: 256,
			RopeBase: 10000, Eps: 1e-5},
		Seed: 1, Batch: 8, Steps: 1500, LR: 2e-3, MinLR: 0.1, Warmup: 60,
		WeightDecay: 0.1, Beta1: 0.9, Beta2: 0.95, AdamEps: 1e-8, Clip: 1,
	}
}

// Check reports whether the options can run.
func (o Options) Check() error {
	if err := o.Config.Check(); err != nil {
		return err
	}
	switch {
	case o.Batch <= 0 || o.Steps <= 0:
		return fmt.Errorf("batch %d and steps %d must be positive", o.Batch, o.Steps)
	case !(o.LR > 0) || o.MinLR < 0 || o.MinLR > 1 || o.Warmup < 0:
		return fmt.Errorf("learning rate %v, final fraction %v and warm-up %d out of range", o.LR, o.MinLR, o.Warmup)
	case o.Beta1 < 0 || o.Beta1 >= 1 || o.Beta2 < 0 || o.Beta2 >= 1 || !(o.AdamEps > 0) || o.WeightDecay < 0 || o.Clip < 0:
		return fmt.Errorf("AdamW settings out of range (betas in [0, 1), ε > 0, decay and clip ≥ 0)")
	}
	return nil
}

// Trainer trains one model on a token stream.
type Trainer struct {
	Opts Options
	Tok  Vocab
	net  *net
	opt  adamw
	Step int // steps done
	pcg  *rand.PCG
	rng  *rand.Rand
	data []int32
	// Tokens counts the tokens trained on so far, including before a
	// resume.
	Tokens int64
}

// New starts a run: weights drawn from the seed, on data (the training
// corpus as tokens of tok), with threads goroutines.
func New(o Options, tok Vocab, data []int32, threads int) (*Trainer, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Vocab != tok.Size() {
		return nil, fmt.Errorf("model vocabulary %d differs from the tokenizer's %d", o.Vocab, tok.Size())
	}
	if len(data) < o.Context+2 {
		return nil, fmt.Errorf("corpus of %d tokens is shorter than one sequence of %d", len(data), o.Context+1)
	}
	for i, t := range data {
		if t < 0 || int(t) >= o.Vocab {
			return nil, fmt.Errorf("corpus token %d at %d is outside the vocabulary of %d", t, i, o.Vocab)
		}
	}
	threads = max(1, threads)
	tr := &Trainer{Opts: o, Tok: tok, net: newNet(o.Config, o.Batch, threads, cpu.New), data: data}
	tr.opt = adamw{beta1: o.Beta1, beta2: o.Beta2, eps: o.AdamEps, decay: o.WeightDecay,
		m: make([]float32, len(tr.net.w)), v: make([]float32, len(tr.net.w))}
	initWeights(o.Config, tr.net.ts, tr.net.w, o.Seed)
	tr.pcg = rand.NewPCG(o.Seed, 0x64617461) // "data"
	tr.rng = rand.New(tr.pcg)
	return tr, nil
}

// Weights returns the flat weights (for tests that compare runs).
func (t *Trainer) Weights() []float32 { return t.net.w }

// Progress is what a training step reports.
type Progress struct {
	Step, Steps  int
	Loss         float64 // this step's batch
	LR           float64
	GradNorm     float64
	TokensPerSec float64 // over the steps of this run so far
	Left         time.Duration
}

// batch draws the next batch: Batch windows of Context+1 tokens at
// random offsets.
func (t *Trainer) batch(dst []int32) []int32 {
	w := t.Opts.Context + 1
	dst = dst[:0]
	for range t.Opts.Batch {
		at := t.rng.IntN(len(t.data) - w + 1)
		dst = append(dst, t.data[at:at+w]...)
	}
	return dst
}

// TrainStep runs one optimizer step and reports it (timing left zero).
func (t *Trainer) TrainStep() (Progress, error) {
	if t.Step >= t.Opts.Steps {
		return Progress{}, fmt.Errorf("all %d steps are done", t.Opts.Steps)
	}
	o := t.Opts
	tokens := t.batch(make([]int32, 0, o.Batch*(o.Context+1)))
	loss, err := t.net.step(tokens)
	if err != nil {
		return Progress{}, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return Progress{}, fmt.Errorf("step %d: loss is %v: lower the learning rate", t.Step+1, loss)
	}
	norm := gradNorm(t.net.threads, t.net.g)
	scale := 1.0
	if o.Clip > 0 && norm > o.Clip {
		scale = o.Clip / norm
	}
	lr := lrAt(t.Step, o.Steps, o.Warmup, o.LR, o.MinLR)
	t.opt.update(t.net.threads, t.net.ts, t.net.w, t.net.g, t.Step+1, lr, scale)
	t.Step++
	t.Tokens += int64(o.Batch * o.Context)
	return Progress{Step: t.Step, Steps: o.Steps, Loss: loss, LR: lr, GradNorm: norm}, nil
}

// Run trains until all steps are done or ctx ends, calling report after
// every step and save every saveEvery steps (0: never) and when ctx ends,
// so that an interrupted run loses at most saveEvery steps.
func (t *Trainer) Run(ctx context.Context, report func(Progress), saveEvery int, save func() error) error {
	start, startStep := time.Now(), t.Step
	for t.Step < t.Opts.Steps {
		if err := ctx.Err(); err != nil {
			if save != nil {
				if serr := save(); serr != nil {
					return errors.Join(err, serr)
				}
			}
			return err
		}
		p, err := t.TrainStep()
		if err != nil {
			return err
		}
		el := time.Since(start)
		done := t.Step - startStep
		p.TokensPerSec = float64(done*t.Opts.Batch*t.Opts.Context) / el.Seconds()
		p.Left = time.Duration(float64(el) / float64(done) * float64(t.Opts.Steps-t.Step))
		if report != nil {
			report(p)
		}
		if save != nil && saveEvery > 0 && (t.Step%saveEvery == 0 || t.Step == t.Opts.Steps) {
			if err := save(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Eval returns the mean next-token loss (nats) of the current weights on
// tokens, over as many whole windows of Context+1 tokens (stepping by
// Context, so every token but the first is predicted once) as fit, at
// most maxWindows (0: all).
func (t *Trainer) Eval(tokens []int32, maxWindows int) (float64, int, error) {
	T := t.Opts.Context
	var windows [][]int32
	for at := 0; at+T+1 <= len(tokens); at += T {
		windows = append(windows, tokens[at:at+T+1])
		if maxWindows > 0 && len(windows) == maxWindows {
			break
		}
	}
	if len(windows) == 0 {
		return 0, 0, fmt.Errorf("evaluation text of %d tokens is shorter than one window of %d", len(tokens), T+1)
	}
	B := t.Opts.Batch
	var sum float64
	var n int
	batch := make([]int32, 0, B*(T+1))
	for i := 0; i < len(windows); i += B {
		batch = batch[:0]
		k := min(B, len(windows)-i)
		for j := 0; j < B; j++ {
			batch = append(batch, windows[i+min(j, k-1)]...) // pad with the last window
		}
		if _, err := t.net.forward(batch, false); err != nil {
			return 0, 0, err
		}
		for r := 0; r < k*T; r++ {
			sum += t.net.loss[r]
		}
		n += k * T
	}
	return sum / float64(n), n, nil
}

// Flops returns the floating-point operations of one training step's
// forward and backward passes.
func (t *Trainer) Flops() int64 { return t.Opts.flops(t.Opts.Batch * t.Opts.Context) }
