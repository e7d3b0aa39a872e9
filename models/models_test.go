package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/llama"
	"github.com/mycelnet/mycel/runtime/sample"
	"github.com/mycelnet/mycel/train"
)

func loadKJV(t *testing.T) *llama.Model {
	t.Helper()
	b := KJV()
	f, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := llama.FromGGUF(f, bytes.NewReader(b), cpu.New(0))
	if err != nil {
		t.Fatal(err)
	}
	m.Hash = sha256.Sum256(b)
	if name, _ := f.String("general.name"); name != KJVName {
		t.Errorf("general.name %q, want %q", name, KJVName)
	}
	return m
}

// TestKJVShape checks that the committed model is the one the README
// describes: the default trainer options' shape, tokenizer included.
func TestKJVShape(t *testing.T) {
	m := loadKJV(t)
	want := train.DefaultOptions().Config
	got := train.Config{Vocab: m.Vocab, Dim: m.Dim, Layers: m.Layers, Heads: m.Heads, KVHeads: m.KVHeads,
		FFN: m.FFN, Context: m.Context, RopeBase: m.RopeBase, Eps: m.Eps}
	if got != want {
		t.Fatalf("model shape %+v, want %+v", got, want)
	}
	verse := "In the beginning God created the heaven and the earth.\n"
	ids := m.Tok.Encode(verse, false)
	if m.Tok.Decode(ids) != verse {
		t.Fatalf("tokenizer round trip: %q", m.Tok.Decode(ids))
	}
	// A vocabulary learned from the KJV spells its common words whole.
	if len(ids) > 14 {
		t.Errorf("the first verse takes %d tokens: the vocabulary was not learned from this text", len(ids))
	}
}

// heldOutMargin is how far below the unigram entropy of the held-out
// text the model's loss must be (nats per token). The README states it.
const heldOutMargin = 2.0

// TestKJVHeldOutLoss measures the committed model, through the runtime,
// on chapters kept out of its training (models/kjv/heldout.txt) against
// the best any unigram model can do on that text: its own unigram
// entropy.
func TestKJVHeldOutLoss(t *testing.T) {
	m := loadKJV(t)
	text, err := os.ReadFile("kjv/heldout.txt")
	if err != nil {
		t.Fatal(err)
	}
	ids := m.Tok.Encode(string(text), false)
	// The first 8,192 of the ~21,600 tokens keep the test near 15 s on the
	// portable build; mycel model eval measures the whole text (README).
	loss, n, err := train.ModelLoss(context.Background(), m, ids, 8192)
	if err != nil {
		t.Fatal(err)
	}
	uni := train.UnigramEntropy(ids[1 : n+1])
	t.Logf("held-out loss %.3f nats/token over %d tokens; unigram entropy %.3f; margin %.3f", loss, n, uni, uni-loss)
	if uni-loss < heldOutMargin {
		t.Fatalf("held-out loss %.3f is only %.3f below the unigram entropy %.3f (want at least %.1f)", loss, uni-loss, uni, heldOutMargin)
	}
}

// TestKJVSample regenerates every sample in models/kjv/sample.txt from
// the command written above it: the runtime is deterministic, so the
// committed text is exactly what the model says.
func TestKJVSample(t *testing.T) {
	m := loadKJV(t)
	b, err := os.ReadFile("kjv/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	samples := parseSamples(t, string(b))
	if len(samples) == 0 {
		t.Fatal("kjv/sample.txt holds no samples")
	}
	for _, s := range samples {
		res, err := m.Generate(context.Background(), llama.Request{Prompt: m.Tok.Encode(s.prompt, true), MaxTokens: s.maxTokens,
			Sample: sample.Params{Temperature: s.temperature, TopK: s.topK, Seed: s.seed}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimRight(res.Text, "\n"); got != s.text {
			t.Errorf("%s\ngenerates %q\nsample.txt has %q", s.command, got, s.text)
		}
	}
}

type sampleRun struct {
	command     string
	prompt      string
	maxTokens   int
	temperature float32
	topK        int
	seed        uint64
	text        string
}

// parseSamples reads blocks of a command line, "$ mycel model run
// models/kjv/kjv.gguf --prompt "..." --max-tokens N --temperature T
// --top-k K --seed S", then what it printed, up to the next command;
// trailing newlines do not count.
func parseSamples(t *testing.T, s string) []sampleRun {
	var out []sampleRun
	for _, block := range strings.Split(s, "\n$ ")[1:] {
		cmd, text, ok := strings.Cut(block, "\n")
		if !ok {
			t.Fatalf("sample without output: %q", block)
		}
		r := sampleRun{command: "$ " + cmd, text: strings.TrimRight(text, "\n")}
		_, rest, ok := strings.Cut(cmd, `--prompt "`)
		if !ok {
			t.Fatalf("sample command without --prompt: %q", cmd)
		}
		r.prompt, rest, _ = strings.Cut(rest, `"`)
		f := strings.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			var err error
			switch f[i] {
			case "--max-tokens":
				r.maxTokens, err = strconv.Atoi(f[i+1])
			case "--temperature":
				var v float64
				v, err = strconv.ParseFloat(f[i+1], 32)
				r.temperature = float32(v)
			case "--top-k":
				r.topK, err = strconv.Atoi(f[i+1])
			case "--seed":
				r.seed, err = strconv.ParseUint(f[i+1], 10, 64)
			default:
				err = fmt.Errorf("unknown flag")
			}
			if err != nil {
				t.Fatalf("sample command %q: %s: %v", cmd, f[i], err)
			}
		}
		out = append(out, r)
	}
	return out
}
