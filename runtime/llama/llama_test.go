package llama

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mycelnet/mycel/internal/crosstest"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/sample"
	"github.com/mycelnet/mycel/runtime/synth"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

// tinySpec is a two-layer model with grouped-query attention: 4 query
// heads share 2 KV heads of dimension 16.
func tinySpec(t gguf.Type) synth.Spec {
	return synth.Spec{Name: "tiny-" + t.String(), Vocab: 320, Dim: 64, Layers: 2, FFN: 160,
		Heads: 4, KVHeads: 2, Context: 64, Type: t, Seed: 7}
}

// smallSpec is big enough that every matrix product and the attention
// are split between threads (cpu's parallel threshold is 2^15
// multiply-adds; its row grain is 48).
func smallSpec(t gguf.Type) synth.Spec {
	return synth.Spec{Name: "small-" + t.String(), Vocab: 600, Dim: 192, Layers: 2, FFN: 512,
		Heads: 6, KVHeads: 2, Context: 128, Type: t, Seed: 11, RopeBase: 500000}
}

func writeModel(t testing.TB, s synth.Spec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), s.Name+".gguf")
	var buf bytes.Buffer
	if err := synth.Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadModel(t testing.TB, path string, threads int) *Model {
	t.Helper()
	m, err := Load(path, cpu.New(threads))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fingerprint runs a prompt as one batch (all logits), then decodes four
// tokens one at a time, and hashes every logit's bits.
func fingerprint(t testing.TB, m *Model, prompt []int32) string {
	t.Helper()
	h := sha256.New()
	put := func(x []float32) {
		var b [4]byte
		for _, v := range x {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	st := m.NewState(0)
	logits, err := m.Forward(st, prompt, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	put(logits)
	last := logits[len(logits)-m.Vocab:]
	for range 4 {
		tok := sample.Argmax(last)
		if last, err = m.Forward(st, []int32{tok}, false, nil); err != nil {
			t.Fatal(err)
		}
		put(last)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var testPrompt = []int32{0, 17, 300, 42, 99, 5, 258, 61, 123, 7, 200, 31}

// TestThreadsAndRunsAgree checks that the logits' bits do not depend on
// the thread count or the run.
func TestThreadsAndRunsAgree(t *testing.T) {
	for _, typ := range []gguf.Type{gguf.F32, gguf.Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			path := writeModel(t, smallSpec(typ))
			want := ""
			for _, threads := range []int{1, 2, 8, 1, 8} {
				got := fingerprint(t, loadModel(t, path, threads), testPrompt)
				if want == "" {
					want = got
				} else if got != want {
					t.Fatalf("%d threads: logits hash %s, 1 thread %s", threads, got, want)
				}
			}
		})
	}
}

// TestIncrementalEqualsBatch checks the KV cache: feeding the prompt one
// token at a time gives the same bits as one batch.
func TestIncrementalEqualsBatch(t *testing.T) {
	m := loadModel(t, writeModel(t, tinySpec(gguf.Q8_0)), 2)
	batch, err := m.Forward(m.NewState(0), testPrompt, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := m.NewState(0)
	for i, tok := range testPrompt {
		one, err := m.Forward(st, []int32{tok}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := batch[i*m.Vocab : (i+1)*m.Vocab]
		for j := range one {
			if math.Float32bits(one[j]) != math.Float32bits(want[j]) {
				t.Fatalf("position %d logit %d: incremental %v, batch %v", i, j, one[j], want[j])
			}
		}
	}
	if st.Pos != len(testPrompt) {
		t.Errorf("Pos = %d, want %d", st.Pos, len(testPrompt))
	}
}

// goldenCases are the models whose logits' hashes testdata/golden.txt
// records: every build (portable, GOEXPERIMENT=simd) and architecture
// must reproduce them.
func goldenCases() []synth.Spec {
	tied := tinySpec(gguf.Q8_0)
	tied.Name, tied.TiedOutput, tied.Seed = "tiny-tied-Q8_0", true, 8
	return []synth.Spec{tinySpec(gguf.F32), tinySpec(gguf.F16), tinySpec(gguf.Q8_0), tied}
}

// TestGolden compares logits hashes and generated tokens with the
// recorded ones. A change here is a change of the arithmetic: it needs a
// new runtime.Version, not just -update.
func TestGolden(t *testing.T) {
	var lines []string
	for _, s := range goldenCases() {
		m := loadModel(t, writeModel(t, s), 3)
		// The file itself first: synth must write the same bytes on every
		// architecture for the rest to be comparable.
		lines = append(lines, s.Name+" file "+hex.EncodeToString(m.Hash[:]))
		lines = append(lines, s.Name+" logits "+fingerprint(t, m, testPrompt))
		for _, p := range []sample.Params{{}, {Temperature: 0.9, TopK: 40, TopP: 0.95, Seed: 42}} {
			res, err := m.Generate(context.Background(), Request{Prompt: testPrompt, MaxTokens: 12, Sample: p}, nil)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%s generate t=%g seed=%d %v", s.Name, p.Temperature, p.Seed, res.Tokens))
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("backend %s: results differ from %s:\ngot:\n%s\nwant:\n%s", cpu.New(1).Name(), path, got, want)
	}
}

func TestGenerate(t *testing.T) {
	m := loadModel(t, writeModel(t, tinySpec(gguf.Q8_0)), 2)
	ctx := context.Background()
	greedy, err := m.Generate(ctx, Request{Prompt: testPrompt, MaxTokens: 20, Logprobs: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(greedy.Tokens) == 0 || greedy.PromptTokens != len(testPrompt) {
		t.Fatalf("greedy result %+v", greedy)
	}
	for i, lp := range greedy.Logprobs {
		if !(lp <= 0) {
			t.Errorf("logprob %d = %v, want <= 0", i, lp)
		}
	}
	// Streaming emits exactly the final text.
	var streamed strings.Builder
	res, err := m.Generate(ctx, Request{Prompt: testPrompt, MaxTokens: 20}, func(s Step) error {
		streamed.WriteString(s.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if streamed.String() != res.Text || res.Text != greedy.Text {
		t.Errorf("streamed %q, result %q, first run %q", streamed.String(), res.Text, greedy.Text)
	}
	// Seeds reproduce; different seeds (almost surely) differ.
	gen := func(seed uint64) Result {
		r, err := m.Generate(ctx, Request{Prompt: testPrompt, MaxTokens: 24, Sample: sample.Params{Temperature: 1.5, Seed: seed}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := gen(1), gen(1), gen(2)
	if fmt.Sprint(a.Tokens) != fmt.Sprint(b.Tokens) {
		t.Errorf("seed 1 gave %v then %v", a.Tokens, b.Tokens)
	}
	if fmt.Sprint(a.Tokens) == fmt.Sprint(c.Tokens) {
		t.Errorf("seeds 1 and 2 both gave %v", a.Tokens)
	}
	// This model's byte tokens often split UTF-8 characters: the text
	// still is valid UTF-8, streamed or not.
	var sampled strings.Builder
	if r, err := m.Generate(ctx, Request{Prompt: testPrompt, MaxTokens: 24, Sample: sample.Params{Temperature: 1.5, Seed: 1}}, func(s Step) error {
		sampled.WriteString(s.Text)
		return nil
	}); err != nil || r.Text != a.Text || sampled.String() != a.Text || !utf8.ValidString(a.Text) {
		t.Errorf("seed 1 streamed %q, result %q (%v), first run %q", sampled.String(), r.Text, err, a.Text)
	}
	// A stop string cuts the text and is not part of it. (Two characters
	// of the text, not a replaced byte: a stop string matches the
	// generated bytes.)
	runes := []rune(a.Text)
	at := 1
	for at+1 < len(runes) && (runes[at] == utf8.RuneError || runes[at+1] == utf8.RuneError) {
		at++
	}
	if at+1 < len(runes) {
		stop := string(runes[at : at+2])
		r, err := m.Generate(ctx, Request{Prompt: testPrompt, MaxTokens: 24, Stop: []string{stop}, Sample: sample.Params{Temperature: 1.5, Seed: 1}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := a.Text[:strings.Index(a.Text, stop)]; r.Text != want || r.Finish != "stop" {
			t.Errorf("stop %q: text %q finish %s, want %q stop", stop, r.Text, r.Finish, want)
		}
	}
	if _, err := m.Generate(ctx, Request{Prompt: testPrompt, MaxTokens: 1000}, nil); err == nil {
		t.Error("generation past the context: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Generate(cancelled, Request{Prompt: testPrompt, MaxTokens: 5}, nil); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestForwardErrors(t *testing.T) {
	m := loadModel(t, writeModel(t, tinySpec(gguf.F32)), 1)
	st := m.NewState(4)
	if _, err := m.Forward(st, nil, false, nil); err == nil {
		t.Error("no tokens: no error")
	}
	if _, err := m.Forward(st, []int32{int32(m.Vocab)}, false, nil); err == nil {
		t.Error("token outside the vocabulary: no error")
	}
	if _, err := m.Forward(st, []int32{-1}, false, nil); err == nil {
		t.Error("negative token: no error")
	}
	if _, err := m.Forward(st, []int32{1, 2, 3, 4, 5}, false, nil); err == nil || !strings.Contains(err.Error(), "context full") {
		t.Errorf("past the state's size: %v", err)
	}
	if st.Pos != 0 {
		t.Errorf("failed calls moved the position to %d", st.Pos)
	}
}

// TestLoadRejectsBadModels edits a good model's metadata and tensors and
// checks each load fails with an error naming the problem.
func TestLoadRejectsBadModels(t *testing.T) {
	good := writeModel(t, tinySpec(gguf.F32))
	f, file, err := gguf.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	var tensors []gguf.WriteTensor
	for _, ti := range f.Tensors {
		b, err := f.TensorData(file, ti)
		if err != nil {
			t.Fatal(err)
		}
		tensors = append(tensors, gguf.WriteTensor{Name: ti.Name, Dims: ti.Dims, Type: ti.Type, Data: b})
	}
	file.Close()
	for _, tc := range []struct {
		name string
		edit func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor)
		want string
	}{
		{"architecture", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return setKV(kv, "general.architecture", gguf.Str("mamba")), ts
		}, `architecture "mamba"`},
		{"missing tensor", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return kv, dropTensor(ts, "blk.1.ffn_up.weight")
		}, "blk.1.ffn_up.weight is missing"},
		{"head count", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return setKV(kv, "llama.attention.head_count", gguf.Uint32(5)), ts
		}, "do not divide"},
		{"zero layers", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return setKV(kv, "llama.block_count", gguf.Uint32(0)), ts
		}, "block_count = 0"},
		{"wrong shape", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return setKV(kv, "llama.feed_forward_length", gguf.Uint32(96)), ts
		}, "blk.0.ffn_gate.weight has dims"},
		{"tokenizer size", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			toks, types, merges := synth.Tokens(300)
			kv = setKV(kv, "tokenizer.ggml.tokens", gguf.StrArray(toks))
			kv = setKV(kv, "tokenizer.ggml.token_type", gguf.Int32Array(types))
			return setKV(kv, "tokenizer.ggml.merges", gguf.StrArray(merges)), ts
		}, "tokenizer has 300 tokens"},
		{"rope scaling", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return setKV(kv, "llama.rope.scaling.type", gguf.Str("yarn")), ts
		}, `rotary scaling "yarn"`},
		{"experts", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return setKV(kv, "llama.expert_count", gguf.Uint32(8)), ts
		}, "mixture of 8 experts"},
		{"partial rotary", func(kv []gguf.KV, ts []gguf.WriteTensor) ([]gguf.KV, []gguf.WriteTensor) {
			return setKV(kv, "llama.rope.dimension_count", gguf.Uint32(8)), ts
		}, "partial rotary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv, ts := tc.edit(append([]gguf.KV(nil), f.KV...), append([]gguf.WriteTensor(nil), tensors...))
			var buf bytes.Buffer
			if err := gguf.Write(&buf, kv, ts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "bad.gguf")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, cpu.New(1))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// A truncated file fails in the reader.
	b, _ := os.ReadFile(good)
	path := filepath.Join(t.TempDir(), "cut.gguf")
	os.WriteFile(path, b[:len(b)-100], 0o644)
	if _, err := Load(path, cpu.New(1)); err == nil {
		t.Error("truncated file: no error")
	}
}

func setKV(kv []gguf.KV, key string, v gguf.Value) []gguf.KV {
	for i := range kv {
		if kv[i].Key == key {
			kv[i].Value = v
			return kv
		}
	}
	return append(kv, gguf.KV{Key: key, Value: v})
}

func dropTensor(ts []gguf.WriteTensor, name string) []gguf.WriteTensor {
	out := ts[:0]
	for _, t := range ts {
		if t.Name != name {
			out = append(out, t)
		}
	}
	return out
}

func TestTokenizerFromGGUF(t *testing.T) {
	m := loadModel(t, writeModel(t, tinySpec(gguf.F32)), 1)
	ids := m.Tok.Encode("the cat sat", true)
	if len(ids) == 0 || ids[0] != 0 {
		t.Fatalf("Encode = %v, want BOS (0) first", ids)
	}
	if got := m.Tok.Decode(ids[1:]); got != "the cat sat" {
		t.Errorf("Decode(Encode) = %q", got)
	}
	// The merged letter pairs are used: "the" is shorter than 3 bytes.
	if len(ids)-1 >= len("the cat sat") {
		t.Errorf("no merges applied: %v", ids)
	}
	if !m.Tok.IsEndOfGeneration(1) {
		t.Error("EOS (1) is not end of generation")
	}
}

// TestSIMDBuild runs this package's tests, the golden results among
// them, in the GOEXPERIMENT=simd build, whose CPU backend takes the vector
// kernels.
func TestSIMDBuild(t *testing.T) { crosstest.SIMD(t, ".") }

// TestArm64Build runs this package's tests, TestGolden among them, for
// arm64 under qemu.
func TestArm64Build(t *testing.T) { crosstest.Arm64(t, ".") }

// The pieces Generate streams add up to the whole text, replaced bytes
// included, wherever the tokens cut the bytes; and no piece ends inside a
// character that later bytes may complete.
func TestStreamedPiecesAddUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9\x80\xbf\xff\xed\xa0")
	for trial := range 2000 {
		var text []byte
		var pieces strings.Builder
		emitted := 0
		for range rng.IntN(12) {
			text = append(text, alphabet[rng.IntN(len(alphabet))])
			upto := safePrefix(text, emitted, nil)
			if held := text[max(upto, emitted):]; len(held) > 0 && (!utf8.RuneStart(held[0]) || utf8.FullRune(held)) {
				t.Fatalf("trial %d: %q holds back %q, not an unfinished character", trial, text, held)
			}
			if upto > emitted {
				pieces.WriteString(validText(text[emitted:upto]))
				emitted = upto
			}
		}
		pieces.WriteString(validText(text[emitted:]))
		if whole := validText(text); pieces.String() != whole || !utf8.ValidString(whole) {
			t.Fatalf("trial %d: %q in pieces %q, whole %q", trial, text, pieces.String(), whole)
		}
	}
	for _, tc := range []struct {
		text string
		want int
	}{
		{"ab", 2},
		{"a\xe2\x82", 1},     // the euro sign's first two bytes wait
		{"a\xe2\x82\xac", 4}, // and go out whole
		{"\x82a", 2},         // a stray continuation byte is shown
		{"\xf0\x41", 2},      // as is a lead byte that "A" ends
		{"a\xf0\x9f\x98", 1}, // three of an emoji's four bytes wait
		{"\xff", 1},          // never a UTF-8 byte
	} {
		if got := safePrefix([]byte(tc.text), 0, nil); got != tc.want {
			t.Errorf("safePrefix(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
	if got := validText([]byte("a\xe2\x82b\xff")); got != "a\uFFFD\uFFFDb\uFFFD" {
		t.Errorf("validText = %q, want each stray byte replaced", got)
	}
}
