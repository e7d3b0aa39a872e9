package tokenizer

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// genVerses returns about n bytes of English-like verses, one a line,
// each after a reference such as "Ge3:16 ", from a fixed word list
// picked with a skew towards its start (as word frequencies are), with
// punctuation, contractions, digits and a few non-ASCII words. The same
// seed gives the same text: tests need a sizeable corpus without files.
func genVerses(seed uint64, n int) string {
	words := strings.Fields(`the and of to that in he shall unto for his a lord they
		be is him not them it with all thou thy was god which my me said but ye their
		have will thee from as are when this out were upon man by you israel king son
		up there hath then people came had house into on her come one we children
		before your also day land men against so hand us made went even do did know
		david jerusalem moses jacob brethren lord's don't it's thereof wilderness
		café naïve Ζεύς שָׁלוֹם 日本 дом`)
	books := []string{"Ge", "Ex", "Le", "Nu", "De", "Jos", "Ps", "Isa", "Mt", "Re"}
	x := seed*0x9E3779B97F4A7C15 | 1 // xorshift needs a non-zero state
	next := func(m int) int {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return int(x % uint64(m))
	}
	var b strings.Builder
	for c := 1; b.Len() < n; c++ {
		book := books[next(len(books))]
		for v := 1; v <= 5+next(30) && b.Len() < n; v++ {
			fmt.Fprintf(&b, "%s%d:%d ", book, c, v)
			nw := 6 + next(20)
			for i := range nw {
				w := words[next(next(len(words))+1)]
				if i == 0 && 'a' <= w[0] && w[0] <= 'z' {
					w = string(w[0]-'a'+'A') + w[1:]
				}
				b.WriteString(w)
				switch {
				case i == nw-1:
					b.WriteString(".\n")
				case next(8) == 0:
					b.WriteString(", ")
				case next(20) == 0:
					b.WriteString("; ")
				case next(40) == 0:
					fmt.Fprintf(&b, " %d ", next(2000))
				default:
					b.WriteByte(' ')
				}
			}
		}
	}
	return b.String()
}

// TestLearnBPEMatchesReference checks LearnBPE against trainBPE, which
// recounts every pair after every merge: same tokens and merges, in the
// same order, for each pre-tokenizer.
func TestLearnBPEMatchesReference(t *testing.T) {
	texts := []struct{ name, text string }{
		{"runs", "aaaa aaaa aaa aa a aaaaaaa bbbbbb aaaa"},
		{"ties", "ab ba abab baba ab ba cd dc"},
		{"digits", "123 1234 12345 2024 1,234,567 3.14159 0x1F 99 999 9999"},
		{"punctuation", "!!! ... ?!?! --- (a) [b] {c} <<>> ... !!! --- ;;"},
		{"newlines", "a\nb\n\nc\r\n  d\n\n\nee\n \n\t\tx\n\n"},
		{"utf8", "Déjà vu café naïve 日本語 日本 日本語 😀👍🏽 😀😀 Привет мир мир"},
		{"contractions", "it's we've they'll I'm don't IT'S WE'VE it's it's don't"},
		{"invalid-utf8", "\xff\xfe abc \xff\xff abc\x80 \xe6\x97 abc"},
		{"bench", benchText[:1500]},
		{"verses", genVerses(1, 3000)},
	}
	for _, pre := range []string{"gpt2", "llama3", "qwen2"} {
		kind, _ := preFor(pre)
		for _, tc := range texts {
			// 40 merges stop at Vocab; 300 use up most texts' pairs.
			for _, vocab := range []int{256 + 40, 256 + 300} {
				t.Run(fmt.Sprintf("%s/%s/%d", pre, tc.name, vocab), func(t *testing.T) {
					tokens, merges, err := LearnBPE(tc.text, LearnOptions{Pre: pre, Vocab: vocab, MinCount: 1})
					if err != nil {
						t.Fatal(err)
					}
					n := len(merges)
					if len(tokens) < vocab {
						n++ // the reference must find no pair left
					}
					wantTokens, wantMerges := trainBPE(tc.text, kind, n)
					if !slices.Equal(merges, wantMerges) {
						t.Errorf("merges differ from the reference:\n got %s\nwant %s", quoteAll(merges), quoteAll(wantMerges))
					}
					if !slices.Equal(tokens, wantTokens) {
						t.Errorf("tokens differ from the reference:\n got %s\nwant %s", quoteAll(tokens[256:]), quoteAll(wantTokens[256:]))
					}
				})
			}
		}
	}
}

// TestLearnBPEDuplicateResults feeds words already cut into symbols
// longer than a byte, where two merges give the same string and a pair
// merged once appears again: the token is added once, the merge is
// listed twice, as the reference does.
func TestLearnBPEDuplicateResults(t *testing.T) {
	var words [][]string
	for range 3 {
		words = append(words, []string{"ab", "c", "d"})
	}
	for range 2 {
		words = append(words, []string{"a", "bc", "d"})
	}
	words = append(words, []string{"a", "b", "c", "a", "b"})
	extra := []string{"ab", "bc"}

	l := newLearner()
	for _, s := range extra {
		l.intern(s)
	}
	for _, w := range words {
		ids := make([]int32, len(w))
		for i, s := range w {
			ids[i], _ = l.intern(s)
		}
		l.addWord(ids, 1)
	}
	l.flush()
	merges := l.learn(1000, 1, nil)

	base := slices.Clone(l.tokens[:256+len(extra)])
	wantTokens, wantMerges := trainMerges(slices.Clone(words), base, 1000)
	if !slices.Equal(merges, wantMerges) || !slices.Equal(l.tokens, wantTokens) {
		t.Fatalf("got merges %s tokens %s\nwant merges %s tokens %s",
			quoteAll(merges), quoteAll(l.tokens[256:]), quoteAll(wantMerges), quoteAll(wantTokens[256:]))
	}
	if len(l.tokens)-258 >= len(merges) {
		t.Errorf("%d merges made %d tokens: no duplicate result, the case is not covered", len(merges), len(l.tokens)-258)
	}
	if n := strings.Count(strings.Join(merges, "|")+"|", "|abc d|"); n != 2 {
		t.Errorf("merges %s: want \"abc d\" twice", quoteAll(merges))
	}
}

// TestLearnBPETokenizer builds tokenizers from learned vocabularies and
// checks that they round-trip text, seen and unseen, and compress what
// they learned from.
func TestLearnBPETokenizer(t *testing.T) {
	train := genVerses(1, 300_000)
	unseen := genVerses(2, 20_000) + "Zebedee's 12345 😀👍🏽 ∑ \t\r\n  \xff\xfe<|endoftext|> end\n"
	for _, pre := range []string{"gpt2", "llama3", "qwen2"} {
		t.Run(pre, func(t *testing.T) {
			tokens, merges, err := LearnBPE(train, LearnOptions{Pre: pre, Vocab: 1000})
			if err != nil {
				t.Fatal(err)
			}
			// qwen2 splits numbers into digits and runs out of pairs
			// seen twice before 1000.
			if len(tokens) > 1000 || len(tokens) < 600 {
				t.Fatalf("%d tokens, want 600 to 1000", len(tokens))
			}
			tok, err := New(Vocab{Model: ModelGPT2, Pre: pre, Tokens: tokens, Merges: merges,
				BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1})
			if err != nil {
				t.Fatalf("New refuses the learned vocabulary: %v", err)
			}
			for name, text := range map[string]string{"train": train, "unseen": unseen} {
				ids := tok.Encode(text, false)
				if got := tok.Decode(ids); got != text {
					t.Errorf("%s: Decode(Encode(text)) differs from text", name)
				}
				// The verses have few distinct words, most of which
				// become whole tokens; the references and numbers do not.
				if name == "train" && len(ids)*3 > len(text) {
					t.Errorf("%s: %d tokens for %d bytes: want at least 3 bytes a token", name, len(ids), len(text))
				}
			}
		})
	}
}

// TestLearnBPEDeterministic learns twice from the same text: maps are
// iterated in a different order each time, so a dependence would show.
func TestLearnBPEDeterministic(t *testing.T) {
	text := genVerses(3, 100_000)
	o := LearnOptions{Vocab: 800, MinCount: 1}
	tokens1, merges1, err := LearnBPE(text, o)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		tokens2, merges2, err := LearnBPE(text, o)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tokens1, tokens2) || !slices.Equal(merges1, merges2) {
			t.Fatal("two runs on the same text learned different vocabularies")
		}
	}
}

func TestLearnBPEStops(t *testing.T) {
	// Pieces "xy", " xy" x4, " pq" x2: pairs (x,y) 5, (Ġ,x) 4, (Ġ,p) 2,
	// (p,q) 2, and after the first merge (Ġ,xy) 4. "p" sorts before
	// "Ġ" (0xC4 0xA0), so "p q" wins the tie at 2.
	const text = "xy xy xy xy xy pq pq"
	all := []string{"x y", "Ġ xy", "p q", "Ġ pq"}
	tests := []struct {
		name     string
		vocab    int
		minCount int
		want     []string
	}{
		{"default min count 2", 1000, 0, all},
		{"min count 1", 1000, 1, all},
		{"min count 3", 1000, 3, all[:2]},
		{"min count 5", 1000, 5, all[:1]},
		{"min count 6", 1000, 6, nil},
		{"vocab 257", 257, 1, all[:1]},
		{"vocab 256", 256, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tokens, merges, err := LearnBPE(text, LearnOptions{Vocab: tc.vocab, MinCount: tc.minCount})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(merges, tc.want) {
				t.Errorf("merges %s, want %s", quoteAll(merges), quoteAll(tc.want))
			}
			if len(tokens) != 256+len(tc.want) {
				t.Errorf("%d tokens, want %d", len(tokens), 256+len(tc.want))
			}
			enc := bytesToUnicode()
			for b := range 256 {
				if tokens[b] != string(enc[b]) {
					t.Fatalf("tokens[%d] = %q, want byte 0x%02X's symbol %q", b, tokens[b], b, string(enc[b]))
				}
			}
		})
	}

	tokens, merges, err := LearnBPE("", LearnOptions{Vocab: 1000})
	if err != nil || len(tokens) != 256 || len(merges) != 0 {
		t.Errorf("empty text: %d tokens, %d merges, %v; want the 256 byte-level symbols", len(tokens), len(merges), err)
	}
}

func TestLearnBPEOptionErrors(t *testing.T) {
	tests := []struct {
		o    LearnOptions
		want string
	}{
		{LearnOptions{Vocab: 0}, "set Vocab to 256 or more"},
		{LearnOptions{Vocab: 255}, "set Vocab to 256 or more"},
		{LearnOptions{Vocab: -1}, "set Vocab to 256 or more"},
		{LearnOptions{Vocab: 300, MinCount: -1}, "MinCount -1 is negative"},
	}
	if math.MaxInt > math.MaxInt32 { // ids are int32 where int is wider
		tests = append(tests, struct {
			o    LearnOptions
			want string
		}{LearnOptions{Vocab: math.MaxInt}, "set Vocab to at most"})
	}
	for _, tc := range tests {
		_, _, err := LearnBPE("some text", tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one saying %q", tc.o, err, tc.want)
		}
	}
}

func TestLearnBPEProgress(t *testing.T) {
	type call struct{ learned, total int }
	var calls []call
	tokens, _, err := LearnBPE(genVerses(4, 50_000), LearnOptions{Vocab: 756, Progress: func(learned, total int) {
		calls = append(calls, call{learned, total})
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 || len(calls) > 101 {
		t.Fatalf("%d progress calls, want 2 to 101", len(calls))
	}
	for i, c := range calls {
		if c.total != 500 || (i > 0 && c.learned < calls[i-1].learned) {
			t.Fatalf("call %d: (%d, %d) after %v: want learned rising, total 500", i, c.learned, c.total, calls[:i])
		}
	}
	if last := calls[len(calls)-1]; last.learned != len(tokens)-256 {
		t.Errorf("last call says %d learned, have %d", last.learned, len(tokens)-256)
	}
}

func BenchmarkLearnBPE(b *testing.B) {
	text := genVerses(1, 1<<20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LearnBPE(text, LearnOptions{Vocab: 4096}); err != nil {
			b.Fatal(err)
		}
	}
}
