package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/synth"
	"github.com/mycelnet/mycel/train"
)

// TrainOptions size the training benchmark.
type TrainOptions struct {
	Threads int `json:"threads"` // 0: all cores, for both the trainer and OpenBLAS
	Steps   int `json:"steps"`   // timed steps, after one warm-up step
	// Quick trains a tiny model: the benchmark's own test.
	Quick    bool      `json:"quick,omitempty"`
	Python   string    `json:"-"`
	Progress io.Writer `json:"-"`
}

// TrainResult is the training benchmark's outcome. Ratio is the
// trainer's forward-backward GFLOP/s over OpenBLAS's on the same step's
// matrix products (higher is better): the trainer's time includes
// everything a step does, the baseline's only the products.
type TrainResult struct {
	Model          string       `json:"model"`
	Parameters     int          `json:"parameters"`
	Backend        string       `json:"backend"`
	Threads        int          `json:"threads"`
	TokensPerStep  int          `json:"tokens_per_step"`
	StepSeconds    float64      `json:"step_seconds"`
	TokensPerSec   float64      `json:"tokens_per_second"`
	GFLOPS         float64      `json:"gflops"`
	OpenBLASGFLOPS float64      `json:"openblas_gflops"`
	Ratio          float64      `json:"ratio"`
	BaselineError  string       `json:"baseline_error,omitempty"`
	Hint           string       `json:"hint,omitempty"`
	Options        TrainOptions `json:"options"`
}

// Train measures `mycel model train` on the shape of mycel's KJV model
// (train.DefaultOptions) with a random token stream: tokens per second
// and forward-backward GFLOP/s (the model's useful floating-point
// operations per step over the step's time), beside OpenBLAS (Debian's
// numpy) computing the same step's matrix products with as many threads.
func Train(ctx context.Context, o TrainOptions) (TrainResult, error) {
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	if o.Steps <= 0 {
		o.Steps = 5
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	res := TrainResult{Options: o, Threads: o.Threads, Backend: cpu.New(1).Name(), Hint: cpu.BuildHint()}
	opts := train.DefaultOptions()
	res.Model = "kjv shape"
	if o.Quick {
		opts.Config = train.Config{Vocab: 512, Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 128, Context: 64, RopeBase: 10000, Eps: 1e-5}
		opts.Batch, o.Steps, res.Model = 2, 1, "quick"
	}
	opts.Steps = o.Steps + 1
	tokens, _, merges := synth.Tokens(opts.Vocab)
	vocab := train.Vocab{Tokens: tokens, Merges: merges, EOS: 1}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]int32, 1<<18)
	for i := range data {
		data[i] = int32(rng.IntN(opts.Vocab))
	}
	tr, err := train.New(opts, vocab, data, o.Threads)
	if err != nil {
		return res, err
	}
	res.Parameters, res.TokensPerStep = opts.Params(), opts.Batch*opts.Context
	say(o.Progress, "train: %.1fM parameters, %d tokens per step, %s, %d threads: one warm-up step and %d timed ...",
		float64(res.Parameters)/1e6, res.TokensPerStep, res.Backend, o.Threads, o.Steps)
	if _, err := tr.TrainStep(); err != nil {
		return res, err
	}
	start := time.Now()
	for i := 0; i < o.Steps; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if _, err := tr.TrainStep(); err != nil {
			return res, err
		}
	}
	res.StepSeconds = time.Since(start).Seconds() / float64(o.Steps)
	res.TokensPerSec = float64(res.TokensPerStep) / res.StepSeconds
	flops := float64(tr.Flops())
	res.GFLOPS = flops / res.StepSeconds / 1e9

	say(o.Progress, "train: OpenBLAS on the step's matrix products ...")
	products := opts.Products()
	var shapes []kernelShape
	for _, p := range products {
		shapes = append(shapes, kernelShape{"sgemm", p.M, p.K, p.N, backend.F32})
	}
	base, err := openBLAS(ctx, o.Python, shapes, o.Threads)
	if err != nil {
		res.BaselineError = err.Error()
		return res, nil
	}
	var seconds float64
	for _, p := range products {
		g := base[fmt.Sprintf("sgemm %d %d %d", p.M, p.K, p.N)]
		if g <= 0 {
			res.BaselineError = fmt.Sprintf("no baseline figure for %d×%d×%d", p.M, p.K, p.N)
			return res, nil
		}
		seconds += float64(p.Count) * 2 * float64(p.M) * float64(p.K) * float64(p.N) / (g * 1e9)
	}
	res.OpenBLASGFLOPS = flops / seconds / 1e9
	res.Ratio = res.GFLOPS / res.OpenBLASGFLOPS
	return res, nil
}
