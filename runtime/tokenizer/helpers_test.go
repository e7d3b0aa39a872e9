package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// vocabBuilder assembles small vocabularies for tests.
type vocabBuilder struct {
	tokens []string
	scores []float32
	types  []int32
}

func (b *vocabBuilder) add(s string, score float32, typ int32) int32 {
	b.tokens = append(b.tokens, s)
	b.scores = append(b.scores, score)
	b.types = append(b.types, typ)
	return int32(len(b.tokens) - 1)
}

// addNormal adds each string as a normal token with the given score.
func (b *vocabBuilder) addNormal(score float32, ss ...string) {
	for _, s := range ss {
		b.add(s, score, TypeNormal)
	}
}

// addByteTokens adds <0x00> to <0xFF>.
func (b *vocabBuilder) addByteTokens() {
	for c := 0; c < 256; c++ {
		b.add(byteTokenText(byte(c)), 0, TypeByte)
	}
}

// addByteLevel adds GPT-2's 256 byte-level symbols, byte b at id b when
// the builder is empty.
func (b *vocabBuilder) addByteLevel() {
	for _, r := range bytesToUnicode() {
		b.add(string(r), 0, TypeNormal)
	}
}

func (b *vocabBuilder) vocab(model string) Vocab {
	v := Vocab{Model: model, Tokens: b.tokens, Scores: b.scores, Types: b.types,
		BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1}
	if id := slices.Index(b.tokens, "<unk>"); id >= 0 {
		v.UNK = int32(id)
	}
	if id := slices.Index(b.tokens, "<s>"); id >= 0 {
		v.BOS = int32(id)
	}
	if id := slices.Index(b.tokens, "</s>"); id >= 0 {
		v.EOS = int32(id)
	}
	return v
}

func mustNew(t testing.TB, v Vocab) *Tokenizer {
	t.Helper()
	tok, err := New(v)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tok
}

// names turns ids into their vocabulary strings, which read better in
// failures than numbers.
func names(tok *Tokenizer, ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = tok.Token(id)
	}
	return out
}

// spmBase is a SentencePiece vocabulary with <unk>, <s>, </s> and all 256
// byte tokens, as Llama's starts.
func spmBase() *vocabBuilder {
	b := &vocabBuilder{}
	b.add("<unk>", 0, TypeUnknown)
	b.add("<s>", 0, TypeControl)
	b.add("</s>", 0, TypeControl)
	b.addByteTokens()
	return b
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "\"" + s + "\""
	}
	return "[" + strings.Join(q, " ") + "]"
}
