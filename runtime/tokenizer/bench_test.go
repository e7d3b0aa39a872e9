package tokenizer

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// benchText is a few KB of the mixed text a server sees: prose, code,
// numbers, white space runs and non-Latin scripts.
var benchText = strings.Repeat(`The quick brown fox jumps over the lazy dog. It's 2024, and we've
shipped 1,234,567 tokens through the runtime without a single mismatch!
	func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
		return t.encode(text, addSpecial, true) // parse special tokens
	}
Déjà vu: naïve café résumé. 日本語のテキストも少し。 Привет, мир! 😀👍🏽
    Indented    text   with   runs   of   spaces.

Numbers: 3.14159, 2.71828, 1e-9, 0xDEADBEEF; emails: someone@example.com.
`, 8)

// trainBPE learns nMerges merges from text the simplest way: split it
// with pre, count adjacent pairs over the pieces, merge the most frequent
// (ties: the smallest pair), repeat. The tokens are the 256 byte-level
// symbols (byte b at id b) and then the merge results. Deterministic, so
// tests can build realistic vocabularies without files.
func trainBPE(text string, pre preKind, nMerges int) (tokens, merges []string) {
	enc := bytesToUnicode()
	for _, r := range enc {
		tokens = append(tokens, string(r))
	}
	var words [][]string
	start := 0
	for _, end := range pre.split(text, units(text, nil), nil) {
		var w []string
		for _, c := range []byte(text[start:end]) {
			w = append(w, string(enc[c]))
		}
		words = append(words, w)
		start = end
	}
	return trainMerges(words, tokens, nMerges)
}

// trainMerges runs the merge learning on words already cut into symbols.
func trainMerges(words [][]string, tokens []string, nMerges int) ([]string, []string) {
	var merges []string
	have := map[string]bool{}
	for _, s := range tokens {
		have[s] = true
	}
	type pair struct{ a, b string }
	for range nMerges {
		counts := map[pair]int{}
		for _, w := range words {
			for i := 1; i < len(w); i++ {
				counts[pair{w[i-1], w[i]}]++
			}
		}
		if len(counts) == 0 {
			break
		}
		pairs := make([]pair, 0, len(counts))
		for p := range counts {
			pairs = append(pairs, p)
		}
		best := slices.MinFunc(pairs, func(x, y pair) int {
			if c := cmp.Compare(counts[y], counts[x]); c != 0 {
				return c
			}
			return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
		})
		merges = append(merges, best.a+" "+best.b)
		if m := best.a + best.b; !have[m] {
			have[m] = true
			tokens = append(tokens, m)
		}
		for wi, w := range words {
			var out []string
			for i := 0; i < len(w); i++ {
				if i+1 < len(w) && w[i] == best.a && w[i+1] == best.b {
					out = append(out, best.a+best.b)
					i++
				} else {
					out = append(out, w[i])
				}
			}
			words[wi] = out
		}
	}
	return tokens, merges
}

// trainSPM learns a SentencePiece-style vocabulary: the same merges over
// the ▁-escaped text cut at word starts, each merge result a token
// scored by its rank (earlier is better), every character a token, and
// the 256 byte tokens.
func trainSPM(text string, nMerges int) Vocab {
	esc := strings.ReplaceAll(" "+text, " ", spmSpace)
	var words [][]string
	for _, w := range strings.Split(esc, spmSpace) {
		var syms []string
		for _, r := range spmSpace + w {
			syms = append(syms, string(r))
		}
		words = append(words, syms)
	}
	b := spmBase()
	seen := map[string]bool{}
	for _, w := range words {
		for _, s := range w {
			if !seen[s] && utf8.RuneCountInString(s) == 1 {
				seen[s] = true
				b.add(s, -1e6, TypeNormal)
			}
		}
	}
	_, merges := trainMerges(words, nil, nMerges)
	for i, m := range merges {
		s := strings.Replace(m, " ", "", 1)
		if !seen[s] {
			seen[s] = true
			b.add(s, -float32(i), TypeNormal)
		}
	}
	v := b.vocab(ModelLlama)
	v.AddSpacePrefix = true
	v.AddBOS = true
	return v
}

// TestTrainedVocabularies round-trips the benchmark text through learned
// vocabularies and checks that the merges compress it.
func TestTrainedVocabularies(t *testing.T) {
	for _, pre := range []string{"gpt2", "llama3", "qwen2"} {
		kind, _ := preFor(pre)
		tokens, merges := trainBPE(benchText, kind, 300)
		b := &vocabBuilder{}
		b.addNormal(0, tokens...)
		v := b.vocab(ModelGPT2)
		v.Pre, v.Merges = pre, merges
		tok := mustNew(t, v)
		ids := tok.Encode(benchText, false)
		if got := tok.Decode(ids); got != benchText {
			t.Errorf("%s: round trip differs", pre)
		}
		if len(ids)*2 > len(benchText) {
			t.Errorf("%s: %d tokens for %d bytes: merges did not apply", pre, len(ids), len(benchText))
		}
	}
	tok := mustNew(t, trainSPM(benchText, 300))
	ids := tok.Encode(benchText, true)
	if got := tok.Decode(ids); got != benchText {
		t.Errorf("llama: round trip differs")
	}
	if len(ids)*2 > len(benchText) {
		t.Errorf("llama: %d tokens for %d bytes: merges did not apply", len(ids), len(benchText))
	}
}

func BenchmarkEncode(b *testing.B) {
	vocabs := map[string]Vocab{"llama": trainSPM(benchText, 1000)}
	for _, pre := range []string{"gpt2", "llama3", "qwen2"} {
		kind, _ := preFor(pre)
		tokens, merges := trainBPE(benchText, kind, 1000)
		vb := &vocabBuilder{}
		vb.addNormal(0, tokens...)
		v := vb.vocab(ModelGPT2)
		v.Pre, v.Merges = pre, merges
		vocabs[pre] = v
	}
	for _, name := range []string{"llama", "gpt2", "llama3", "qwen2"} {
		tok := mustNew(b, vocabs[name])
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(benchText)))
			b.ReportAllocs()
			for b.Loop() {
				tok.Encode(benchText, true)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	tokens, merges := trainBPE(benchText, preGPT2, 1000)
	vb := &vocabBuilder{}
	vb.addNormal(0, tokens...)
	v := vb.vocab(ModelGPT2)
	v.Merges = merges
	tok := mustNew(b, v)
	ids := tok.Encode(benchText, false)
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Decode(ids)
	}
}
