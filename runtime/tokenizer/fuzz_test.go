package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRoundTrip checks, for arbitrary strings s:
//
//   - gpt2 (256 byte-level tokens, some merges, a control token
//     <|endoftext|>): Decode(Encode(s)) == s with every <|endoftext|>
//     removed (control tokens print nothing), and Decode(EncodeText(s))
//     == s exactly, for any bytes, valid UTF-8 or not;
//   - llama (all 256 byte tokens, ▁, some merges): for valid UTF-8 s,
//     Decode(EncodeText(s)) == strings.ReplaceAll(s, "▁", " "), the
//     exact property doc.go states (the prefix space comes and goes; a
//     literal ▁ cannot be told from a space; invalid UTF-8 is not
//     lossless, because a character's length is read from its first
//     byte alone, as in llama.cpp);
//   - both: every id is in range, and encoding twice gives the same ids.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		"", " ", "Hello world's 123  test\n\n", "<|endoftext|>", "a<|endoftext|>b<|endo",
		"\xff\xfe\x00", "日本語 😀 ▁x", "  \t\r\n", "don't DON'T 1234567", "<s>hi</s>",
	} {
		f.Add(s)
	}
	bpe := fuzzBPE(f)
	spm := spmFull()
	f.Fuzz(func(t *testing.T, s string) {
		ids := bpe.Encode(s, false)
		checkIDs(t, bpe, ids)
		if again := bpe.Encode(s, false); !slices.Equal(ids, again) {
			t.Fatalf("gpt2: Encode(%q) not deterministic: %v then %v", s, ids, again)
		}
		if got, want := bpe.Decode(ids), strings.ReplaceAll(s, "<|endoftext|>", ""); got != want {
			t.Fatalf("gpt2: Decode(Encode(%q)) = %q, want %q", s, got, want)
		}
		if got := bpe.Decode(bpe.EncodeText(s, false)); got != s {
			t.Fatalf("gpt2: Decode(EncodeText(%q)) = %q", s, got)
		}

		ids = spm.EncodeText(s, false)
		checkIDs(t, spm, ids)
		if again := spm.EncodeText(s, false); !slices.Equal(ids, again) {
			t.Fatalf("llama: EncodeText(%q) not deterministic: %v then %v", s, ids, again)
		}
		checkIDs(t, spm, spm.Encode(s, true))
		if utf8.ValidString(s) {
			if got, want := spm.Decode(ids), spmExpected(s); got != want {
				t.Fatalf("llama: Decode(EncodeText(%q)) = %q, want %q", s, got, want)
			}
		}
	})
}

func checkIDs(t *testing.T, tok *Tokenizer, ids []int32) {
	t.Helper()
	for _, id := range ids {
		if id < 0 || int(id) >= tok.VocabSize() {
			t.Fatalf("id %d out of range [0, %d)", id, tok.VocabSize())
		}
	}
}

// fuzzBPE is a byte-level vocabulary with merges learned from a little
// English and code, so that fuzzing exercises real merge chains.
func fuzzBPE(tb testing.TB) *Tokenizer {
	tokens, merges := trainBPE(benchText[:2000], preGPT2, 200)
	b := &vocabBuilder{}
	b.addNormal(0, tokens...)
	b.add("<|endoftext|>", 0, TypeControl)
	v := b.vocab(ModelGPT2)
	v.Pre = "gpt2"
	v.Merges = merges
	v.EOS = int32(len(tokens))
	return mustNew(tb, v)
}
