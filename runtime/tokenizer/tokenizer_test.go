package tokenizer

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// chatBPE is a byte-level vocabulary with chat control tokens and a
// user-defined one, as Qwen2's.
func chatBPE(t testing.TB) *Tokenizer {
	b := &vocabBuilder{}
	b.addByteLevel()
	b.addNormal(0, "us", "er", "user")
	b.add("<|endoftext|>", 0, TypeControl)
	b.add("<|im_start|>", 0, TypeControl)
	b.add("<|im_end|>", 0, TypeControl)
	b.add("<think>", 0, TypeUserDefined)
	b.add("ab", 0, TypeControl)
	b.add("bcd", 0, TypeControl)
	v := b.vocab(ModelGPT2)
	v.Pre = "qwen2"
	v.Merges = []string{"u s", "e r", "us er"}
	v.EOS = int32(slices.Index(b.tokens, "<|endoftext|>"))
	return mustNew(t, v)
}

func TestSpecialTokensInText(t *testing.T) {
	tok := chatBPE(t)
	cases := []struct {
		name  string
		text  string
		parse bool
		want  []string
	}{
		{"chat turn", "<|im_start|>user\nhi<|im_end|>", true,
			[]string{"<|im_start|>", "user", "Ċ", "h", "i", "<|im_end|>"}},
		{"adjacent specials", "<|im_end|><|im_start|>", true, []string{"<|im_end|>", "<|im_start|>"}},
		{"user-defined", "a<think>b", true, []string{"a", "<think>", "b"}},
		// "bcd" is longer than "ab", so it is cut out first, although
		// "ab" starts earlier: llama.cpp tries tokens, not positions.
		{"longest token first", "abcd", true, []string{"a", "bcd"}},
		{"repeats", "abab", true, []string{"ab", "ab"}},
		// Qwen2's split gives "<|", "im", "_end"; no merges apply.
		{"partial", "<|im_end", true, []string{"<", "|", "i", "m", "_", "e", "n", "d"}},
		{"EncodeText: control as text", "<|im_end|>", false,
			[]string{"<", "|", "i", "m", "_", "e", "n", "d", "|", ">"}},
		{"EncodeText: user-defined still matched", "<think>", false, []string{"<think>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ids []int32
			if c.parse {
				ids = tok.Encode(c.text, false)
			} else {
				ids = tok.EncodeText(c.text, false)
			}
			got := names(tok, ids)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %s, want %s", quoteAll(got), quoteAll(c.want))
			}
		})
	}
}

func TestBPEAddSpecial(t *testing.T) {
	b := &vocabBuilder{}
	b.addByteLevel()
	bos := b.add("<|begin_of_text|>", 0, TypeControl)
	eos := b.add("<|end_of_text|>", 0, TypeControl)
	v := b.vocab(ModelGPT2)
	v.Pre = "llama-bpe"
	v.BOS, v.EOS = bos, eos
	v.AddBOS = true
	tok := mustNew(t, v)
	if got, want := tok.Encode("a", true), []int32{bos, 'a'}; !slices.Equal(got, want) {
		t.Errorf("Encode with BOS = %v, want %v", got, want)
	}
	if got, want := tok.Encode("a", false), []int32{'a'}; !slices.Equal(got, want) {
		t.Errorf("Encode without = %v, want %v", got, want)
	}
	v.AddEOS = true
	tok = mustNew(t, v)
	if got, want := tok.Encode("a", true), []int32{bos, 'a', eos}; !slices.Equal(got, want) {
		t.Errorf("Encode with BOS and EOS = %v, want %v", got, want)
	}
	if got := tok.Decode(tok.Encode("a", true)); got != "a" {
		t.Errorf("Decode = %q: control tokens must print nothing", got)
	}
}

func TestTokenBytes(t *testing.T) {
	spm := spmFull()
	bpe := chatBPE(t)
	cases := []struct {
		name string
		tok  *Tokenizer
		id   int32
		want []byte
	}{
		{"spm byte token", spm, spm.ids["<0x41>"], []byte("A")},
		{"spm high byte", spm, spm.ids["<0xF0>"], []byte{0xF0}},
		{"spm normal, ▁ as space", spm, spm.ids["▁hello"], []byte(" hello")},
		{"spm control", spm, spm.ids["<s>"], nil},
		{"spm unknown", spm, spm.ids["<unk>"], nil},
		{"bpe byte-level space", bpe, ' ', []byte(" ")},
		{"bpe byte-level 0xFF", bpe, 0xFF, []byte{0xFF}},
		{"bpe merged", bpe, bpe.ids["user"], []byte("user")},
		{"bpe newline", bpe, bpe.ids["Ċ"], []byte("\n")},
		{"bpe control", bpe, bpe.ids["<|im_end|>"], nil},
		{"bpe user-defined verbatim", bpe, bpe.ids["<think>"], []byte("<think>")},
		{"negative id", bpe, -1, nil},
		{"id past the end", bpe, int32(bpe.VocabSize()), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.tok.TokenBytes(c.id)
			if !slices.Equal(got, c.want) || (c.want == nil) != (got == nil) {
				t.Errorf("TokenBytes(%d) = %q, want %q", c.id, got, c.want)
			}
			if app := c.tok.AppendTokenBytes([]byte("x"), c.id); string(app) != "x"+string(c.want) {
				t.Errorf("AppendTokenBytes = %q", app)
			}
		})
	}
	// The slice is the caller's.
	b := spm.TokenBytes(spm.ids["▁hello"])
	b[0] = 'X'
	if got := string(spm.TokenBytes(spm.ids["▁hello"])); got != " hello" {
		t.Errorf("after writing to a returned slice: TokenBytes = %q", got)
	}
}

// TestStreamingBytesMatchDecode: concatenating TokenBytes is Decode
// (apart from the SentencePiece prefix space), so a streaming caller
// prints exactly the final text.
func TestStreamingBytesMatchDecode(t *testing.T) {
	tok := chatBPE(t)
	ids := tok.Encode("<|im_start|>user\n日本 😀 \xff<think><|im_end|>", true)
	var streamed []byte
	for _, id := range ids {
		streamed = tok.AppendTokenBytes(streamed, id)
	}
	if got := tok.Decode(ids); got != string(streamed) {
		t.Errorf("Decode = %q, streamed %q", got, streamed)
	}
}

func TestEndOfGeneration(t *testing.T) {
	b := &vocabBuilder{}
	b.addByteLevel()
	eos := b.add("<|endoftext|>", 0, TypeControl)
	start := b.add("<|im_start|>", 0, TypeControl)
	imEnd := b.add("<|im_end|>", 0, TypeControl)
	// Normal by type, but named like a turn end: llama.cpp makes it a
	// control token that ends generation.
	eotID := b.add("<|eot_id|>", 0, TypeNormal)
	eot := b.add("<|end_of_text|>", 0, TypeControl)
	s := b.add("</s>", 0, TypeControl)
	custom := b.add("<my_eos>", 0, TypeControl)
	fimPad := b.add("<|fim_pad|>", 0, TypeControl)
	v := b.vocab(ModelGPT2)
	v.EOS = custom
	tok := mustNew(t, v)

	for id, want := range map[int32]bool{
		custom: true, eos: true, imEnd: true, eotID: true, eot: true, s: true, fimPad: true,
		start: false, 'a': false, -1: false, int32(tok.VocabSize()): false,
	} {
		if got := tok.IsEndOfGeneration(id); got != want {
			t.Errorf("IsEndOfGeneration(%d %q) = %v, want %v", id, tok.Token(id), got, want)
		}
	}
	if got, want := tok.EndOfGeneration(), []int32{eos, imEnd, eotID, eot, s, custom, fimPad}; !slices.Equal(got, want) {
		t.Errorf("EndOfGeneration() = %v, want %v", got, want)
	}
	// EOT was not given: the lowest-id candidate by name.
	if tok.EOT() != eos {
		t.Errorf("EOT() = %d (%q), want %d", tok.EOT(), tok.Token(tok.EOT()), eos)
	}
	if tok.TokenBytes(eotID) != nil {
		t.Errorf("TokenBytes(<|eot_id|>) = %q, want nothing: it became a control token", tok.TokenBytes(eotID))
	}
	if tok.EOS() != custom || tok.BOS() != -1 {
		t.Errorf("EOS, BOS = %d, %d", tok.EOS(), tok.BOS())
	}
}

// TestEndOfGenerationWorkarounds: gpt-oss ends turns with <|return|>
// and <|call|>, so its <|end|> neither ends generation nor hides.
func TestEndOfGenerationWorkarounds(t *testing.T) {
	b := &vocabBuilder{}
	b.addByteLevel()
	ret := b.add("<|return|>", 0, TypeControl)
	call := b.add("<|call|>", 0, TypeControl)
	end := b.add("<|end|>", 0, TypeControl)
	channel := b.add("<|channel|>", 0, TypeControl)
	tok := mustNew(t, b.vocab(ModelGPT2))
	if !tok.IsEndOfGeneration(ret) || !tok.IsEndOfGeneration(call) || tok.IsEndOfGeneration(end) {
		t.Errorf("EndOfGeneration() = %v, want <|return|> and <|call|> only", tok.EndOfGeneration())
	}
	for _, id := range []int32{end, channel} {
		if got := string(tok.TokenBytes(id)); got != tok.Token(id) {
			t.Errorf("TokenBytes(%q) = %q: it is printed", tok.Token(id), got)
		}
	}
}

func TestAccessors(t *testing.T) {
	spm, bpe := spmFull(), chatBPE(t)
	if spm.Model() != "llama" || bpe.Model() != "gpt2" {
		t.Errorf("Model() = %q, %q", spm.Model(), bpe.Model())
	}
	if spm.PreTokenizer() != "" || bpe.PreTokenizer() != "qwen2" {
		t.Errorf("PreTokenizer() = %q, %q", spm.PreTokenizer(), bpe.PreTokenizer())
	}
	if !spm.ByteFallback() || !bpe.ByteFallback() {
		t.Error("ByteFallback() = false")
	}
	if spm.VocabSize() != len(spm.tokens) || spm.Token(1) != "<s>" || spm.Token(-1) != "" || spm.Token(1<<20) != "" {
		t.Error("VocabSize or Token wrong")
	}
	if spm.BOS() != 1 || spm.EOS() != 2 {
		t.Errorf("BOS, EOS = %d, %d", spm.BOS(), spm.EOS())
	}
}

func TestEmptyTokenRenamed(t *testing.T) {
	b := spmBase()
	b.add("", 0, TypeNormal)
	tok := mustNew(t, b.vocab(ModelLlama))
	id := int32(len(b.tokens) - 1)
	if got := tok.Token(id); got != "[EMPTY_259]" {
		t.Errorf("Token(%d) = %q", id, got)
	}
	if got := tok.Encode("", false); len(got) != 0 {
		t.Errorf("Encode(\"\") = %v", got)
	}
}

func TestNewRejects(t *testing.T) {
	good := func() Vocab { return bpeVocab("gpt2", []string{"ab"}, "a b") }
	goodSPM := func() Vocab { return spmBase().vocab(ModelLlama) }
	cases := []struct {
		name  string
		v     Vocab
		field string
	}{
		{"model", func() Vocab { v := good(); v.Model = "bert"; return v }(), "model"},
		{"no tokens", Vocab{Model: "gpt2", BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1}, "tokens"},
		{"scores length", func() Vocab { v := good(); v.Scores = v.Scores[:3]; return v }(), "scores"},
		{"types length", func() Vocab { v := good(); v.Types = v.Types[:3]; return v }(), "token_type"},
		{"type value", func() Vocab { v := good(); v.Types = slices.Clone(v.Types); v.Types[7] = 9; return v }(), "token_type[7]"},
		{"NaN score", func() Vocab {
			v := goodSPM()
			v.Scores = slices.Clone(v.Scores)
			v.Scores[4] = float32(math.NaN())
			return v
		}(), "scores[4]"},
		{"duplicate", func() Vocab { v := good(); v.Tokens = append(slices.Clone(v.Tokens), "ab"); return fixLens(v) }(), "tokens[257]"},
		{"byte token form", func() Vocab {
			v := goodSPM()
			v.Tokens = slices.Clone(v.Tokens)
			v.Tokens[3] = "<0xZZ>"
			return v
		}(), "tokens[3]"},
		{"bos range", func() Vocab { v := good(); v.BOS = 1000; return v }(), "bos"},
		{"eos range", func() Vocab { v := good(); v.EOS = -2; return v }(), "eos"},
		{"unk range", func() Vocab { v := good(); v.UNK = 257; return v }(), "unk"},
		{"pad range", func() Vocab { v := good(); v.PAD = 257; return v }(), "pad"},
		{"eot range", func() Vocab { v := good(); v.EOT = 257; return v }(), "eot"},
		{"AddBOS without BOS", func() Vocab { v := good(); v.AddBOS = true; return v }(), "bos"},
		{"AddEOS without EOS", func() Vocab { v := good(); v.AddEOS = true; return v }(), "eos"},
		{"merge without space", func() Vocab { v := good(); v.Merges = []string{"ab"}; return v }(), "merges[0]"},
		{"merge with leading space only", func() Vocab { v := good(); v.Merges = []string{"a b", " a"}; return v }(), "merges[1]"},
		{"merge without second half", func() Vocab { v := good(); v.Merges = []string{"a "}; return v }(), "merges[0]"},
		{"gpt2 missing a byte", func() Vocab {
			v := good()
			v.Tokens = slices.Clone(v.Tokens)
			v.Tokens[' '] = "space"
			return v
		}(), "tokens"},
		{"llama without bytes or UNK", func() Vocab {
			b := &vocabBuilder{}
			b.addNormal(0, "a", "b")
			return b.vocab(ModelLlama)
		}(), "tokens"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.v)
			if err == nil {
				t.Fatal("New accepted it")
			}
			var ve *VocabError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidVocab) {
				t.Fatalf("error %v is not a *VocabError wrapping ErrInvalidVocab", err)
			}
			if ve.Field != c.field {
				t.Errorf("Field = %q, want %q (%v)", ve.Field, c.field, err)
			}
			if !strings.HasPrefix(err.Error(), "tokenizer.New: invalid vocabulary: "+c.field+": ") {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
	// Accepted: no scores or types at all, and a missing UNK when the
	// byte tokens are there.
	v := good()
	v.Scores, v.Types = nil, nil
	if _, err := New(v); err != nil {
		t.Errorf("New without scores and types: %v", err)
	}
	v = goodSPM()
	v.UNK = -1
	if _, err := New(v); err != nil {
		t.Errorf("New llama with byte tokens, no UNK: %v", err)
	}
}

func fixLens(v Vocab) Vocab {
	for len(v.Scores) < len(v.Tokens) {
		v.Scores = append(slices.Clone(v.Scores), 0)
		v.Types = append(slices.Clone(v.Types), TypeNormal)
	}
	return v
}

func TestDefaultVocab(t *testing.T) {
	cases := []struct {
		model, pre            string
		bos, eos, unk         int32
		addBOS, addSpacePrefx bool
	}{
		{"llama", "", 1, 2, 0, true, true},
		{"gpt2", "gpt2", 11, 11, -1, false, false},
		{"gpt2", "llama-bpe", 11, 11, -1, true, false},
		{"gpt2", "glm4", -1, 11, -1, false, false},
	}
	for _, c := range cases {
		v := DefaultVocab(c.model, c.pre)
		if v.BOS != c.bos || v.EOS != c.eos || v.UNK != c.unk || v.AddBOS != c.addBOS ||
			v.AddSpacePrefix != c.addSpacePrefx || v.AddEOS || v.PAD != -1 || v.EOT != -1 {
			t.Errorf("DefaultVocab(%q, %q) = %+v", c.model, c.pre, v)
		}
	}
}

// TestConcurrentEncode: a Tokenizer is read-only after New; run with
// -race.
func TestConcurrentEncode(t *testing.T) {
	tok := chatBPE(t)
	want := tok.Encode("<|im_start|>user\nhello<|im_end|>", true)
	done := make(chan []int32)
	for range 8 {
		go func() { done <- tok.Encode("<|im_start|>user\nhello<|im_end|>", true) }()
	}
	for range 8 {
		if got := <-done; !slices.Equal(got, want) {
			t.Errorf("concurrent Encode = %v, want %v", got, want)
		}
	}
}
