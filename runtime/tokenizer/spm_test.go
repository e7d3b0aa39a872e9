package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

type spmToken struct {
	text  string
	score float32
}

// Each case's expectation is worked out by hand from the algorithm:
// symbols are characters; the queued pair whose concatenation is the
// highest-scored token merges first, the leftmost among equals.
func TestSPMEncode(t *testing.T) {
	cases := []struct {
		name   string
		tokens []spmToken
		prefix bool
		text   string
		want   []string
	}{{
		// "ab" (-5) is left of "bc" (-1), but "bc" scores higher.
		name:   "higher score beats leftmost",
		tokens: []spmToken{{"a", -10}, {"b", -10}, {"c", -10}, {"ab", -5}, {"bc", -1}},
		text:   "abc",
		want:   []string{"a", "bc"},
	}, {
		name:   "equal scores: leftmost",
		tokens: []spmToken{{"a", -10}, {"b", -10}, {"c", -10}, {"ab", -1}, {"bc", -1}},
		text:   "abc",
		want:   []string{"ab", "c"},
	}, {
		// (0,1) and (1,2) are both "aa"; the left one wins, and the
		// third "a" has nothing left to merge with.
		name:   "overlapping pair",
		tokens: []spmToken{{"a", -10}, {"aa", -1}},
		text:   "aaa",
		want:   []string{"aa", "a"},
	}, {
		// bc (-1) first; then abc (-3) and bcd (-2) compete: bcd; then
		// a+bcd = abcd (-0.5).
		name:   "merges that open better merges",
		tokens: []spmToken{{"a", -10}, {"b", -10}, {"c", -10}, {"d", -10}, {"bc", -1}, {"abc", -3}, {"bcd", -2}, {"abcd", -0.5}},
		text:   "abcd",
		want:   []string{"abcd"},
	}, {
		// "▁ab▁ab": ab (-2) at 1 merges, then ▁ab (-1) beats the
		// queued ab at 4, then that ab, then the second ▁ab.
		name:   "space prefix and escaped spaces",
		tokens: []spmToken{{"▁", -10}, {"a", -10}, {"b", -10}, {"ab", -2}, {"▁ab", -1}},
		prefix: true,
		text:   "ab ab",
		want:   []string{"▁ab", "▁ab"},
	}, {
		// "▁a▁▁b": "▁▁" is no token, so the middle ▁ stays alone.
		name:   "space runs",
		tokens: []spmToken{{"▁", -5}, {"a", -10}, {"b", -10}, {"▁a", -1}, {"▁b", -1}},
		prefix: true,
		text:   "a  b",
		want:   []string{"▁a", "▁", "▁b"},
	}, {
		name:   "no prefix without AddSpacePrefix",
		tokens: []spmToken{{"▁", -5}, {"a", -10}, {"▁a", -1}},
		text:   "a a",
		want:   []string{"a", "▁a"},
	}, {
		name:   "unknown emoji falls back to bytes",
		tokens: []spmToken{{"a", -1}},
		text:   "a😀",
		want:   []string{"a", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"},
	}, {
		name:   "prefix without a ▁ token becomes bytes too",
		tokens: []spmToken{{"a", -1}},
		prefix: true,
		text:   "a",
		want:   []string{"<0xE2>", "<0x96>", "<0x81>", "a"},
	}, {
		// Only ASCII spaces are escaped; newline and tab are bytes.
		name:   "control characters",
		tokens: []spmToken{{"a", -1}, {"b", -1}},
		text:   "a\n\tb",
		want:   []string{"a", "<0x0A>", "<0x09>", "b"},
	}, {
		name:   "multi-byte characters merge as characters",
		tokens: []spmToken{{"é", -3}, {"t", -3}, {"ét", -1}},
		text:   "été",
		want:   []string{"ét", "é"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := spmBase()
			seen := map[string]bool{}
			for _, tk := range c.tokens {
				if !seen[tk.text] {
					seen[tk.text] = true
					b.add(tk.text, tk.score, TypeNormal)
				}
			}
			v := b.vocab(ModelLlama)
			v.AddSpacePrefix = c.prefix
			tok := mustNew(t, v)
			got := names(tok, tok.Encode(c.text, false))
			if !slices.Equal(got, c.want) {
				t.Errorf("Encode(%q) = %s, want %s", c.text, quoteAll(got), quoteAll(c.want))
			}
		})
	}
}

func TestSPMUnknownWithoutByteTokens(t *testing.T) {
	b := &vocabBuilder{}
	b.add("<unk>", 0, TypeUnknown)
	b.addNormal(-1, "a", "b", "▁")
	v := b.vocab(ModelLlama)
	tok := mustNew(t, v)
	if tok.ByteFallback() {
		t.Fatal("ByteFallback() = true without byte tokens")
	}
	// "€" is one symbol with no token and no byte tokens: one <unk>,
	// not one per byte.
	got := names(tok, tok.Encode("a€€b", false))
	want := []string{"a", "<unk>", "<unk>", "b"}
	if !slices.Equal(got, want) {
		t.Errorf("Encode = %s, want %s", quoteAll(got), quoteAll(want))
	}
	// "<unk>" decodes to nothing.
	if got := tok.Decode(tok.Encode("a€b", false)); got != "ab" {
		t.Errorf("Decode = %q, want %q", got, "ab")
	}
}

// TestSPMSpecialTokens: special tokens are single tokens; the text after
// one gets a space prefix again, as in llama.cpp; BOS/EOS follow
// AddBOS/AddEOS.
func TestSPMSpecialTokens(t *testing.T) {
	b := spmBase()
	b.addNormal(-10, "▁", "h", "i")
	b.add("hi", -2, TypeNormal)
	b.add("▁hi", -1, TypeNormal)
	v := b.vocab(ModelLlama)
	v.AddSpacePrefix = true
	v.AddBOS = true
	tok := mustNew(t, v)

	cases := []struct {
		name       string
		text       string
		addSpecial bool
		parse      bool
		want       []string
	}{
		{"special tokens in text", "<s>hi</s>", false, true, []string{"<s>", "▁hi", "</s>"}},
		{"each fragment after a special gets the prefix", "hi</s>hi", false, true, []string{"▁hi", "</s>", "▁hi"}},
		{"add BOS", "hi", true, true, []string{"<s>", "▁hi"}},
		{"BOS and a parsed BOS", "<s>hi", true, true, []string{"<s>", "<s>", "▁hi"}},
		{"empty text with BOS", "", true, true, []string{"<s>"}},
		{"empty text", "", false, true, []string{}},
		{"EncodeText leaves control tokens as text", "<s>hi", false, false,
			[]string{"▁", "<0x3C>", "<0x73>", "<0x3E>", "hi"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ids []int32
			if c.parse {
				ids = tok.Encode(c.text, c.addSpecial)
			} else {
				ids = tok.EncodeText(c.text, c.addSpecial)
			}
			if got := names(tok, ids); !slices.Equal(got, c.want) {
				t.Errorf("got %s, want %s", quoteAll(got), quoteAll(c.want))
			}
		})
	}

	v.AddEOS = true
	tok = mustNew(t, v)
	if got, want := names(tok, tok.Encode("hi", true)), []string{"<s>", "▁hi", "</s>"}; !slices.Equal(got, want) {
		t.Errorf("with AddEOS: got %s, want %s", quoteAll(got), quoteAll(want))
	}
}

func TestSPMDecode(t *testing.T) {
	b := spmBase()
	b.addNormal(-10, "▁", "a", "b", "h", "i")
	b.addNormal(-1, "▁a", "▁b", "▁hi")
	b.add("<tool>", 0, TypeUserDefined)
	v := b.vocab(ModelLlama)
	v.AddSpacePrefix = true
	tok := mustNew(t, v)
	id := func(s string) int32 { return tok.ids[s] }

	cases := []struct {
		name string
		ids  []int32
		want string
	}{
		{"leading space dropped", []int32{id("▁a"), id("▁"), id("▁b")}, "a  b"},
		{"after BOS too", []int32{id("<s>"), id("▁hi"), id("</s>")}, "hi"},
		{"only the first", []int32{id("▁"), id("▁a")}, " a"},
		{"bytes", []int32{id("a"), id("<0xF0>"), id("<0x9F>"), id("<0x98>"), id("<0x80>")}, "a😀"},
		{"user-defined verbatim", []int32{id("<tool>"), id("▁a")}, "<tool> a"},
		{"unknown and out of range print nothing", []int32{id("<unk>"), -5, 1 << 30, id("a")}, "a"},
		{"empty", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := tok.Decode(c.ids); got != c.want {
				t.Errorf("Decode = %q, want %q", got, c.want)
			}
		})
	}

	v.AddSpacePrefix = false
	tok = mustNew(t, v)
	if got := tok.Decode([]int32{id("▁a")}); got != " a" {
		t.Errorf("without AddSpacePrefix: Decode = %q, want %q", got, " a")
	}
}

// spmFull is a SentencePiece vocabulary with byte fallback, a ▁ token and
// some merges, none with '<' in it, so that no merge can spell a byte or
// control token's text.
func spmFull() *Tokenizer {
	b := spmBase()
	b.addNormal(-100, "▁", "e", "t", "a", "o", "n", "h", "l", "é", "日", "本")
	b.addNormal(-5, "he", "th", "▁t", "ll", "▁a", "an", "▁▁", "on", "日本")
	b.addNormal(-4, "▁th", "the", "hel", "llo")
	b.addNormal(-3, "▁the", "hello", "▁hello")
	v := b.vocab(ModelLlama)
	v.AddSpacePrefix = true
	v.AddBOS = true
	tok, err := New(v)
	if err != nil {
		panic(err)
	}
	return tok
}

// TestSPMRoundTrip checks the property doc.go states: for valid UTF-8
// without special-token text, Decode(Encode(s)) is s with ▁ read as a
// space.
func TestSPMRoundTrip(t *testing.T) {
	tok := spmFull()
	for _, s := range []string{
		"", " ", "  ", "a", "hello the world", "  leading", "trailing  ", "many     spaces",
		"tabs\tand\nnewlines\r\n", "日本語のテキスト", "emoji 😀👍🏽 flags 🇫🇷", "a▁b", "▁",
		"ASCII ~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./", "\x00\x01\x7f", "é\u0301 combining",
	} {
		want := spmExpected(s)
		for _, addSpecial := range []bool{false, true} {
			if got := tok.Decode(tok.Encode(s, addSpecial)); got != want {
				t.Errorf("Decode(Encode(%q, %v)) = %q, want %q", s, addSpecial, got, want)
			}
		}
	}
}

// spmExpected is what Decode(Encode(s)) must give for valid UTF-8 s with
// no special-token text: the space prefix comes and goes, and a literal
// ▁ comes back as the space it cannot be told from.
func spmExpected(s string) string { return strings.ReplaceAll(s, spmSpace, " ") }
