package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/llama"
	"github.com/mycelnet/mycel/runtime/sample"
	"github.com/mycelnet/mycel/runtime/synth"
)

// RuntimeOptions size the runtime benchmark.
type RuntimeOptions struct {
	// Threads for the model's tokens per second (0: all cores); the
	// kernels are measured on one thread, like the baseline.
	Threads      int `json:"threads"`
	PromptTokens int `json:"prompt_tokens"`
	GenTokens    int `json:"generated_tokens"`
	// Quick runs a tiny model and small shapes: the benchmark's own test.
	Quick    bool      `json:"quick,omitempty"`
	Python   string    `json:"-"`
	Progress io.Writer `json:"-"`
}

// KernelFigure is one shape's speed, ours and OpenBLAS's.
type KernelFigure struct {
	Op       string  `json:"op"`
	Shape    string  `json:"shape"`
	GFLOPS   float64 `json:"gflops"`
	OpenBLAS float64 `json:"openblas_gflops"`
	Ratio    float64 `json:"ratio"`
}

// RuntimeResult is the benchmark's outcome. Ratio is the F32 matrix
// multiply's GFLOP/s over OpenBLAS sgemm's at n=1024 (higher is better).
type RuntimeResult struct {
	Model         string         `json:"model"`
	Parameters    int64          `json:"parameters"`
	Backend       string         `json:"backend"`
	Threads       int            `json:"threads"`
	PromptPerSec  float64        `json:"prompt_tokens_per_second"`
	GenPerSec     float64        `json:"generated_tokens_per_second"`
	Kernels       []KernelFigure `json:"kernels"`
	Ratio         float64        `json:"ratio"`
	MatVecRatio   float64        `json:"matvec_ratio"`
	BaselineError string         `json:"baseline_error,omitempty"`
	// Hint says how a faster build would run, when this one is portable.
	Hint    string         `json:"hint,omitempty"`
	Options RuntimeOptions `json:"options"`
}

// Runtime measures the inference runtime: tokens per second of a
// generated ~100M-parameter Q8_0 Llama model, and the F32 matrix multiply
// and Q8_0 matrix-vector kernels beside OpenBLAS (Debian's numpy) on the
// same shapes, in the same run, on one thread.
func Runtime(ctx context.Context, o RuntimeOptions) (RuntimeResult, error) {
	if o.PromptTokens <= 0 {
		o.PromptTokens = 128
	}
	if o.GenTokens <= 0 {
		o.GenTokens = 64
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	res := RuntimeResult{Options: o}
	dir, err := os.MkdirTemp("", "mycel-bench-runtime-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	spec := benchModel
	shapes := []kernelShape{
		{"sgemm", 1024, 1024, 1024, backend.F32},
		{"sgemm", 2048, 768, 128, backend.F32},
		{"sgemm", 768, 2048, 128, backend.F32},
		{"sgemv", 2048, 768, 1, backend.Q8_0},
		{"sgemv", 32000, 768, 1, backend.Q8_0},
	}
	if o.Quick {
		spec = quickModel
		shapes = []kernelShape{{"sgemm", 64, 64, 64, backend.F32}, {"sgemv", 512, 64, 1, backend.Q8_0}}
	}
	path := filepath.Join(dir, "model.gguf")
	say(o.Progress, "runtime: generating a %d-layer %d-dim Q8_0 model ...", spec.Layers, spec.Dim)
	f, err := os.Create(path)
	if err != nil {
		return res, err
	}
	if err := synth.Write(f, spec); err != nil {
		f.Close()
		return res, err
	}
	if err := f.Close(); err != nil {
		return res, err
	}
	be := cpu.New(o.Threads)
	m, err := llama.Load(path, be)
	if err != nil {
		return res, err
	}
	res.Model, res.Parameters, res.Backend, res.Threads = spec.Name, m.Params(), be.Name(), be.Threads()
	res.Hint = cpu.BuildHint()
	prompt := make([]int32, o.PromptTokens)
	for i := range prompt {
		prompt[i] = int32(3 + i%250)
	}
	say(o.Progress, "runtime: %d-token prompt and %d generated tokens on %s, %d threads ...", o.PromptTokens, o.GenTokens, be.Name(), be.Threads())
	st := m.NewState(o.PromptTokens + o.GenTokens + 1)
	start := time.Now()
	logits, err := m.Forward(st, prompt, false, nil)
	if err != nil {
		return res, err
	}
	res.PromptPerSec = float64(o.PromptTokens) / time.Since(start).Seconds()
	start = time.Now()
	for i := 0; i < o.GenTokens; i++ {
		tok := sample.Argmax(logits)
		if logits, err = m.Forward(st, []int32{tok}, false, nil); err != nil {
			return res, err
		}
	}
	res.GenPerSec = float64(o.GenTokens) / time.Since(start).Seconds()

	one := cpu.New(1)
	var base map[string]float64
	base, err = openBLAS(ctx, o.Python, shapes, 1)
	if err != nil {
		res.BaselineError = err.Error()
	}
	for _, s := range shapes {
		say(o.Progress, "runtime: %s %d×%d × %d ...", s.op, s.m, s.k, s.n)
		g := kernelGFLOPS(one, s.m, s.k, s.n, s.typ, o.Quick)
		fig := KernelFigure{Op: s.op, Shape: fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), GFLOPS: g}
		if s.typ == backend.Q8_0 {
			fig.Op = "q8_0 matvec vs sgemv"
		}
		if b := base[fmt.Sprintf("%s %d %d %d", s.op, s.m, s.k, s.n)]; b > 0 {
			fig.OpenBLAS, fig.Ratio = b, g/b
		}
		res.Kernels = append(res.Kernels, fig)
	}
	res.Ratio = res.Kernels[0].Ratio
	res.MatVecRatio = res.Kernels[len(res.Kernels)-1].Ratio
	return res, nil
}

// The generated models the runtime and gateway benchmarks run: a Llama of
// about 125M parameters in Q8_0, and a tiny one for the benchmarks' own
// tests.
var (
	benchModel = synth.Spec{Name: "bench-100m", Vocab: 32000, Dim: 768, Layers: 12, FFN: 2048, Heads: 12, KVHeads: 4,
		Context: 1024, Type: gguf.Q8_0, Seed: 1}
	quickModel = synth.Spec{Name: "bench-quick", Vocab: 512, Dim: 64, Layers: 2, FFN: 128, Heads: 4, KVHeads: 2,
		Context: 256, Type: gguf.Q8_0, Seed: 1}
)

// kernelShape is one measured product: an m×k weight times n vectors,
// named by OpenBLAS's routine for the same shape.
type kernelShape struct {
	op      string
	m, k, n int
	typ     backend.DType
}

// kernelGFLOPS times MatMul of an m×k weight by n vectors, best of a few
// runs (2mkn flops each; one run when quick).
func kernelGFLOPS(be backend.Backend, m, k, n int, t backend.DType, quick bool) float64 {
	rng := rand.New(rand.NewPCG(uint64(m), uint64(k)))
	x := make([]float32, k*n)
	for i := range x {
		x[i] = float32(rng.Uint32()>>8)/(1<<24) - 0.5
	}
	w := &backend.Weight{Type: t, Rows: m, Cols: k}
	raw := make([]float32, m*k)
	for i := range raw {
		raw[i] = float32(rng.Uint32()>>8)/(1<<24) - 0.5
	}
	if t == backend.Q8_0 {
		w.Data = gguf.QuantizeQ8_0(raw)
	} else {
		w.Data = f32Bytes(raw)
	}
	out := make([]float32, m*n)
	best := time.Duration(1 << 62)
	budget := time.Now().Add(3 * time.Second)
	runs := 10
	if quick {
		runs = 1
	}
	for i := 0; i < runs && (i < 2 || time.Now().Before(budget)); i++ {
		start := time.Now()
		be.MatMul(out, w, x, n)
		best = min(best, time.Since(start))
	}
	return 2 * float64(m) * float64(k) * float64(n) / best.Seconds() / 1e9
}

func f32Bytes(x []float32) []byte {
	var b bytes.Buffer
	for _, v := range x {
		var le [4]byte
		u := math.Float32bits(v)
		le[0], le[1], le[2], le[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		b.Write(le[:])
	}
	return b.Bytes()
}

// openBLASScript times numpy's float32 matmul (sgemm) and matrix-vector
// product (sgemv) on the benchmark's shapes, best of several runs.
const openBLASScript = `
import json, sys, time, numpy as np
out = {}
for op, m, k, n in json.loads(sys.argv[1]):
    rng = np.random.default_rng(m)
    w = rng.random((m, k), dtype=np.float32) - 0.5
    x = rng.random((k, n), dtype=np.float32) - 0.5
    if n == 1:
        x = x[:, 0].copy()
    best = 1e9
    t_end = time.perf_counter() + 3
    i = 0
    while i < 10 and (i < 2 or time.perf_counter() < t_end):
        t = time.perf_counter(); y = w @ x; best = min(best, time.perf_counter() - t); i += 1
    out["%s %d %d %d" % (op, m, k, n)] = 2.0*m*k*n/best/1e9
print(json.dumps(out))
`

// openBLAS runs the baseline with the given number of OpenBLAS threads
// and without the machine's OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
// workarounds, so the library picks the processor's best kernel. It
// returns GFLOP/s by "op m k n".
func openBLAS(ctx context.Context, python string, shapes []kernelShape, threads int) (map[string]float64, error) {
	var arg [][4]any
	for _, s := range shapes {
		arg = append(arg, [4]any{s.op, s.m, s.k, s.n})
	}
	shapesJSON, err := json.Marshal(arg)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") || strings.HasPrefix(kv, "OPENBLAS_L2_SIZE=") ||
			strings.HasPrefix(kv, "OPENBLAS_NUM_THREADS=") || strings.HasPrefix(kv, "OMP_NUM_THREADS=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, fmt.Sprintf("OPENBLAS_NUM_THREADS=%d", threads), fmt.Sprintf("OMP_NUM_THREADS=%d", threads))
	cmd := exec.CommandContext(ctx, python, "-c", openBLASScript, string(shapesJSON))
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("OpenBLAS baseline (%s with numpy): %v: %s (install with: apt-get install python3-numpy libopenblas0-pthread)", python, err, strings.TrimSpace(stderr.String()))
	}
	var m map[string]float64
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("OpenBLAS baseline output %q: %w", out, err)
	}
	return m, nil
}
