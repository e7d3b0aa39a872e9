package train

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/llama"
)

// tinyCorpus makes a small text with structure a model can learn:
// sentences from a little grammar.
func tinyCorpus(n int) string {
	rng := rand.New(rand.NewPCG(42, 42))
	subj := []string{"the farmer", "a shepherd", "the king", "his servant", "the prophet"}
	verb := []string{"went unto", "spake unto", "saw", "blessed", "called"}
	obj := []string{"the city.", "the people.", "his house.", "the river.", "the mountain."}
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "And %s %s %s\n", subj[rng.IntN(len(subj))], verb[rng.IntN(len(verb))], obj[rng.IntN(len(obj))])
	}
	return b.String()
}

type tinyRun struct {
	vocab Vocab
	data  []int32
	opts  Options
}

func newTinyRun(t testing.TB, steps int) tinyRun {
	t.Helper()
	text := tinyCorpus(20000)
	v, err := LearnVocab(text, 320, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.Config = Config{Vocab: v.Size(), Dim: 32, Layers: 2, Heads: 4, KVHeads: 2, FFN: 64, Context: 16, RopeBase: 10000, Eps: 1e-5}
	o.Batch, o.Steps, o.Warmup, o.LR, o.Seed = 4, steps, 10, 1e-2, 7
	return tinyRun{vocab: v, data: tok.Encode(text, false), opts: o}
}

func (r tinyRun) trainer(t testing.TB, threads int) *Trainer {
	t.Helper()
	tr, err := New(r.opts, r.vocab, r.data, threads)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTrainingLowersLoss(t *testing.T) {
	r := newTinyRun(t, 300)
	tr := r.trainer(t, 2)
	before, _, err := tr.Eval(r.data, 20)
	if err != nil {
		t.Fatal(err)
	}
	var first, last []float64
	err = tr.Run(context.Background(), func(p Progress) {
		if p.Step <= 10 {
			first = append(first, p.Loss)
		}
		if p.Step > 290 {
			last = append(last, p.Loss)
		}
	}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, _, err := tr.Eval(r.data, 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %.3f → %.3f (first steps %.3f, last steps %.3f); uniform would be %.3f",
		before, after, mean(first), mean(last), math.Log(float64(r.vocab.Size())))
	if before < math.Log(float64(r.vocab.Size()))-0.5 {
		t.Errorf("untrained loss %.3f is far below uniform: the initialization is not neutral", before)
	}
	// The grammar leaves about log(5) nats per choice word; a model that
	// learned it is far below the start.
	if after > before/2 {
		t.Errorf("300 steps lowered the loss only from %.3f to %.3f", before, after)
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func TestSameSeedSameWeights(t *testing.T) {
	r := newTinyRun(t, 30)
	a, b := r.trainer(t, 1), r.trainer(t, 3) // thread counts differ on purpose
	for _, tr := range []*Trainer{a, b} {
		if err := tr.Run(context.Background(), nil, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !sameBits(a.Weights(), b.Weights()) {
		t.Fatal("two runs with the same seed differ")
	}
	r.opts.Seed++
	c := r.trainer(t, 2)
	if err := c.Run(context.Background(), nil, 0, nil); err != nil {
		t.Fatal(err)
	}
	if sameBits(a.Weights(), c.Weights()) {
		t.Fatal("another seed gave the same weights")
	}
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

func TestResumeIsExact(t *testing.T) {
	r := newTinyRun(t, 24)
	whole := r.trainer(t, 2)
	if err := whole.Run(context.Background(), nil, 0, nil); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "ckpt.gguf")
	part := r.trainer(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	err := part.Run(ctx, func(p Progress) {
		if p.Step == 10 {
			cancel() // interrupted: Run saves before returning
		}
	}, 4, func() error { return part.SaveCheckpoint(path) })
	if err != context.Canceled {
		t.Fatalf("interrupted run returned %v", err)
	}
	resumed, err := Resume(path, r.data, 1)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Step != 10 {
		t.Fatalf("resumed at step %d, want 10", resumed.Step)
	}
	if err := resumed.Run(context.Background(), nil, 0, nil); err != nil {
		t.Fatal(err)
	}
	if !sameBits(whole.Weights(), resumed.Weights()) {
		t.Fatal("interrupted and resumed run differs from the uninterrupted one")
	}
	if resumed.Tokens != whole.Tokens {
		t.Fatalf("tokens %d, want %d", resumed.Tokens, whole.Tokens)
	}

	// Another corpus is refused.
	other := slices.Clone(r.data)
	other[0] = (other[0] + 1) % int32(r.vocab.Size())
	if _, err := Resume(path, other, 1); err == nil || !strings.Contains(err.Error(), "another corpus") {
		t.Fatalf("resume on another corpus: %v", err)
	}
}

// TestExportRuns writes the model as GGUF and checks that the runtime
// loads it, computes the trainer's logits, and that the tokenizer in the
// file is the one trained with.
func TestExportRuns(t *testing.T) {
	r := newTinyRun(t, 40)
	tr := r.trainer(t, 2)
	if err := tr.Run(context.Background(), nil, 0, nil); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []gguf.Type{gguf.F32, gguf.Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := tr.WriteModel(&buf, "tiny", typ, nil); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			m, err := llama.FromGGUF(f, bytes.NewReader(buf.Bytes()), cpu.New(2))
			if err != nil {
				t.Fatal(err)
			}
			text := "And the king went unto the river.\n"
			ids := m.Tok.Encode(text, false)
			want := r.vocabTokenizer(t).Encode(text, false)
			if !slices.Equal(ids, want) {
				t.Fatalf("the file's tokenizer gives %v, the trainer's %v", ids, want)
			}
			logits, err := m.Forward(m.NewState(0), ids, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The trainer's forward pass on the same tokens (one sequence
			// padded into the batch).
			T := tr.Opts.Context
			seq := make([]int32, T+1)
			copy(seq, ids)
			batch := slices.Repeat(seq, tr.Opts.Batch)
			if _, err := tr.net.forward(batch, false); err != nil {
				t.Fatal(err)
			}
			V := tr.Opts.Vocab
			var worst float64
			for i := range ids {
				for j := 0; j < V; j++ {
					worst = max(worst, math.Abs(float64(logits[i*V+j]-tr.net.logits[i*V+j])))
				}
			}
			tol := 1e-4
			if typ == gguf.Q8_0 {
				tol = 0.1
			}
			t.Logf("largest logit difference runtime vs trainer: %.3g", worst)
			if worst > tol {
				t.Fatalf("runtime logits differ from the trainer's by %.3g (tolerance %.3g)", worst, tol)
			}
		})
	}
}

func (r tinyRun) vocabTokenizer(t testing.TB) interface{ Encode(string, bool) []int32 } {
	tok, err := r.vocab.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestOptionErrors(t *testing.T) {
	r := newTinyRun(t, 10)
	for _, c := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"heads", func(o *Options) { o.Heads = 5 }, "heads"},
		{"kv", func(o *Options) { o.KVHeads = 3 }, "KV heads"},
		{"vocab", func(o *Options) { o.Vocab++ }, "differs from the tokenizer"},
		{"lr", func(o *Options) { o.LR = 0 }, "learning rate"},
		{"steps", func(o *Options) { o.Steps = 0 }, "steps"},
		{"beta", func(o *Options) { o.Beta2 = 1 }, "AdamW"},
	} {
		o := r.opts
		c.edit(&o)
		_, err := New(o, r.vocab, r.data, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
		}
	}
	if _, err := New(r.opts, r.vocab, r.data[:5], 1); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("short corpus: %v", err)
	}
}
