package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestBytesToUnicode checks the table against GPT-2's definition: the
// printable Latin-1 bytes map to themselves, the 68 others to U+0100
// onwards in increasing byte order; all 256 are distinct and printable.
func TestBytesToUnicode(t *testing.T) {
	enc := bytesToUnicode()
	seen := map[rune]bool{}
	next := rune(0x100)
	for b, r := range enc {
		printableLatin1 := ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
		want := rune(b)
		if !printableLatin1 {
			want = next
			next++
		}
		if r != want {
			t.Errorf("byte 0x%02X -> U+%04X, want U+%04X", b, r, want)
		}
		if seen[r] {
			t.Errorf("byte 0x%02X -> U+%04X, which another byte has", b, r)
		}
		seen[r] = true
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			t.Errorf("byte 0x%02X -> U+%04X, which is not a printable non-space", b, r)
		}
		if r >= byteDecSize {
			t.Errorf("byte 0x%02X -> U+%04X, past byteDecSize", b, r)
		}
	}
	if next != byteDecSize {
		t.Errorf("%d bytes remapped, want 68", next-0x100)
	}
	// Well-known values, as in every GPT-2 vocabulary.
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', '\t': 'ĉ', 0x00: 'Ā', 0x7F: 'ġ', 0xAD: 'Ń', 'a': 'a', 0xE9: 'é'} {
		if enc[b] != want {
			t.Errorf("byte 0x%02X -> %q, want %q", b, enc[b], want)
		}
	}
}

// TestPreTokenize checks the three splits on strings whose pieces follow
// from the patterns by hand.
func TestPreTokenize(t *testing.T) {
	cases := []struct {
		text                string
		gpt2, llama3, qwen2 []string
	}{{
		text:   "Hello world's 123  test\n\n",
		gpt2:   []string{"Hello", " world", "'s", " 123", " ", " test", "\n\n"},
		llama3: []string{"Hello", " world", "'s", " ", "123", " ", " test", "\n\n"},
		qwen2:  []string{"Hello", " world", "'s", " ", "1", "2", "3", " ", " test", "\n\n"},
	}, {
		text:   "1234567",
		gpt2:   []string{"1234567"},
		llama3: []string{"123", "456", "7"},
		qwen2:  []string{"1", "2", "3", "4", "5", "6", "7"},
	}, {
		// GPT-2's contractions are case-sensitive; llama3's are not.
		text:   "don't DON'T we'LL",
		gpt2:   []string{"don", "'t", " DON", "'", "T", " we", "'", "LL"},
		llama3: []string{"don", "'t", " DON", "'T", " we", "'LL"},
		qwen2:  []string{"don", "'t", " DON", "'T", " we", "'LL"},
	}, {
		// llama3 ends punctuation with the newlines after it and lets any
		// non-letter, non-digit, non-newline lead a word.
		text:   "x!!\n\ny\tHello",
		gpt2:   []string{"x", "!!", "\n", "\n", "y", "\t", "Hello"},
		llama3: []string{"x", "!!\n\n", "y", "\tHello"},
		qwen2:  []string{"x", "!!\n\n", "y", "\tHello"},
	}, {
		// \s*[\r\n]+ takes white space up to the last newline; \s+(?!\S)
		// leaves the space before a word to the word.
		text:   "a \n \n  b   ",
		gpt2:   []string{"a", " \n \n ", " b", "   "},
		llama3: []string{"a", " \n \n", " ", " b", "   "},
		qwen2:  []string{"a", " \n \n", " ", " b", "   "},
	}, {
		// Only one non-letter may lead a word, and a space takes the
		// punctuation after it first.
		text:   "hi !!! ?x?y",
		gpt2:   []string{"hi", " !!!", " ?", "x", "?", "y"},
		llama3: []string{"hi", " !!!", " ?", "x", "?y"},
		qwen2:  []string{"hi", " !!!", " ?", "x", "?y"},
	}, {
		text:   "héllo wörld 日本語 ١٢٣٤",
		gpt2:   []string{"héllo", " wörld", " 日本語", " ١٢٣٤"},
		llama3: []string{"héllo", " wörld", " 日本語", " ", "١٢٣", "٤"},
		qwen2:  []string{"héllo", " wörld", " 日本語", " ", "١", "٢", "٣", "٤"},
	}, {
		// An invalid byte splits as U+FFFD (a symbol) would but stays
		// itself.
		text:   "a\xffb \xfe\xfd",
		gpt2:   []string{"a", "\xff", "b", " \xfe\xfd"},
		llama3: []string{"a", "\xffb", " \xfe\xfd"},
		qwen2:  []string{"a", "\xffb", " \xfe\xfd"},
	}, {
		text:   "'",
		gpt2:   []string{"'"},
		llama3: []string{"'"},
		qwen2:  []string{"'"},
	}, {
		text:   " ",
		gpt2:   []string{" "},
		llama3: []string{" "},
		qwen2:  []string{" "},
	}, {
		text:   "\u3000x\u00a0 y",
		gpt2:   []string{"\u3000", "x", "\u00a0", " y"},
		llama3: []string{"\u3000x", "\u00a0", " y"},
		qwen2:  []string{"\u3000x", "\u00a0", " y"},
	}, {
		text: "",
	}}
	for _, c := range cases {
		for _, p := range []struct {
			kind preKind
			want []string
		}{{preGPT2, c.gpt2}, {preLlama3, c.llama3}, {preQwen2, c.qwen2}} {
			if got := splitPieces(p.kind, c.text); !slices.Equal(got, p.want) {
				t.Errorf("%s split of %q = %s, want %s", p.kind, c.text, quoteAll(got), quoteAll(p.want))
			}
		}
	}
}

func splitPieces(p preKind, text string) []string {
	var out []string
	start := 0
	for _, end := range p.split(text, units(text, nil), nil) {
		out = append(out, text[start:end])
		start = end
	}
	return out
}

func TestPreFor(t *testing.T) {
	for name, want := range map[string]preKind{
		"gpt2": preGPT2, "gpt-2": preGPT2, "default": preGPT2, "": preGPT2, "no-such-pre": preGPT2,
		"llama3": preLlama3, "llama-bpe": preLlama3, "smaug-bpe": preLlama3,
		"qwen2": preQwen2, "deepseek-r1-qwen": preQwen2,
	} {
		if got, _ := preFor(name); got != want {
			t.Errorf("preFor(%q) = %s, want %s", name, got, want)
		}
	}
}

// bpeVocab is the 256 byte-level symbols at ids 0..255 (byte b at id b),
// then the given tokens, with the given merges.
func bpeVocab(pre string, tokens []string, merges ...string) Vocab {
	b := &vocabBuilder{}
	b.addByteLevel()
	b.addNormal(0, tokens...)
	v := b.vocab(ModelGPT2)
	v.Pre = pre
	v.Merges = merges
	return v
}

// TestBPEMerges: the queued pair with the lowest rank merges first (the
// leftmost among equals), whatever its position.
func TestBPEMerges(t *testing.T) {
	hello := []string{"he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld"}
	helloMerges := []string{"h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"}
	cases := []struct {
		name   string
		pre    string
		tokens []string
		merges []string
		text   string
		want   []string
	}{{
		// hello: h e (0), l l (1), he ll (2), hell o (3).
		// " world": Ġ w (4), o r (5), Ġw or (6), l d (7), Ġwor ld (8).
		name: "words", tokens: hello, merges: helloMerges,
		text: "hello world", want: []string{"hello", "Ġworld"},
	}, {
		name: "no merge across pieces", tokens: hello, merges: helloMerges,
		text: "hellohello", want: []string{"hello", "hello"},
	}, {
		name: "rank beats position", tokens: []string{"ab", "bc"}, merges: []string{"b c", "a b"},
		text: "abc", want: []string{"a", "bc"},
	}, {
		name: "leftmost of equal pairs", tokens: []string{"aa"}, merges: []string{"a a"},
		text: "aaa", want: []string{"aa", "a"},
	}, {
		name: "all pairs merge", tokens: []string{"aa", "aaaa"}, merges: []string{"a a", "aa aa"},
		text: "aaaaa", want: []string{"aaaa", "a"},
	}, {
		// "xy" is no token: alone it falls back to its bytes; as a step
		// towards "xyz" it is fine.
		name: "merge result missing from the vocabulary", tokens: []string{"xyz"}, merges: []string{"x y", "xy z"},
		text: "xy xyz", want: []string{"x", "y", "Ġ", "xyz"},
	}, {
		name: "duplicate merge keeps its first rank", tokens: []string{"ab", "bc"}, merges: []string{"a b", "b c", "a b"},
		text: "abc", want: []string{"ab", "c"},
	}, {
		// é is C3 A9, byte-level "Ã©".
		name: "bytes of a character", tokens: []string{"Ã©"}, merges: []string{"Ã ©"},
		text: "éa€", want: []string{"Ã©", "a", "â", "Ĥ", "¬"},
	}, {
		// llama3 looks whole pieces up first (ignore_merges).
		name: "gpt2 pre merges", pre: "gpt2", tokens: []string{"abc"},
		text: "abc", want: []string{"a", "b", "c"},
	}, {
		name: "llama3 pre takes whole tokens", pre: "llama-bpe", tokens: []string{"abc", "Ġabc"},
		text: "abc abc", want: []string{"abc", "Ġabc"},
	}, {
		name: "qwen2 pre does not", pre: "qwen2", tokens: []string{"abc"},
		text: "abc", want: []string{"a", "b", "c"},
	}, {
		name: "invalid UTF-8 keeps its bytes", tokens: nil,
		text: "\xff\xc3(", want: []string{"ÿ", "Ã", "("},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := mustNew(t, bpeVocab(c.pre, c.tokens, c.merges...))
			got := names(tok, tok.Encode(c.text, false))
			if !slices.Equal(got, c.want) {
				t.Errorf("Encode(%q) = %s, want %s", c.text, quoteAll(got), quoteAll(c.want))
			}
			if dec := tok.Decode(tok.Encode(c.text, false)); dec != c.text {
				t.Errorf("Decode(Encode(%q)) = %q", c.text, dec)
			}
		})
	}
}

// TestBPERoundTrip: byte-level BPE loses nothing, whatever the bytes.
func TestBPERoundTrip(t *testing.T) {
	var all strings.Builder
	for b := 0; b < 256; b++ {
		all.WriteByte(byte(b))
	}
	texts := []string{
		"", " ", "\n", "Hello, world!", "  two  spaces  ", "\r\n\t\v\f", "日本語 テキスト 😀👍🏽",
		"\xff\xfe\x00abc", "\xc3\x28", "a\xe2\x82", "\xed\xa0\x80 surrogate", "\xc0\x80 overlong",
		"\xf4\x90\x80\x80 past U+10FFFF", all.String(), strings.Repeat("ab", 1000),
	}
	for _, pre := range []string{"gpt2", "llama3", "qwen2"} {
		tok := mustNew(t, bpeVocab(pre, []string{"he", "Ġw", "ab", "abab"}, "h e", "Ġ w", "a b", "ab ab"))
		for _, s := range texts {
			if got := tok.Decode(tok.Encode(s, false)); got != s {
				t.Errorf("%s: Decode(Encode(%q)) = %q", pre, s, got)
			}
		}
	}
}

// TestBPEDecodeForeignCharacter: a normal token with a character outside
// the byte table decodes to that character.
func TestBPEDecodeForeignCharacter(t *testing.T) {
	tok := mustNew(t, bpeVocab("gpt2", []string{"Ġ€x"}))
	if got := string(tok.TokenBytes(256)); got != " €x" {
		t.Errorf("TokenBytes = %q, want %q", got, " €x")
	}
}
