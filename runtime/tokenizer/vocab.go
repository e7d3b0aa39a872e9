package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Vocab is what a GGUF file's tokenizer.ggml.* metadata holds.
type Vocab struct {
	// Model is tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2"
	// (byte-level BPE).
	Model string
	// Pre is tokenizer.ggml.pre, the pre-tokenizer for gpt2 ("gpt2",
	// "llama3"/"llama-bpe", "qwen2", ...); unknown names fall back to
	// GPT-2's with no error. Ignored for llama.
	Pre string
	// Tokens is tokenizer.ggml.tokens; the index is the id.
	Tokens []string
	// Scores is tokenizer.ggml.scores (llama); nil means all zero.
	Scores []float32
	// Types is tokenizer.ggml.token_type: 0 undefined, 1 normal,
	// 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte; nil means
	// all normal.
	Types []int32
	// Merges is tokenizer.ggml.merges (gpt2): "a b" pairs, rank = index.
	Merges []string
	// BOS, EOS, UNK, PAD and EOT are token ids, -1 when absent. EOT that
	// is absent is looked for by name (<|eot_id|>, <|im_end|>, ...).
	BOS, EOS, UNK, PAD, EOT int32
	// AddBOS and AddEOS say whether Encode with addSpecial adds them.
	AddBOS, AddEOS bool
	// AddSpacePrefix is tokenizer.ggml.add_space_prefix (llama; llama.cpp
	// defaults it to true). Ignored for gpt2.
	AddSpacePrefix bool
}

// Token types, as tokenizer.ggml.token_type numbers them.
const (
	TypeUndefined   = 0
	TypeNormal      = 1
	TypeUnknown     = 2
	TypeControl     = 3
	TypeUserDefined = 4
	TypeUnused      = 5
	TypeByte        = 6
)

// DefaultVocab returns the settings llama.cpp assumes for a model when
// the metadata leaves them out (llama_vocab::impl::load): for "llama",
// BOS 1, EOS 2, UNK 0, AddBOS and AddSpacePrefix; for "gpt2", BOS and EOS
// 11 (llama.cpp's leftover from Falcon), AddBOS for the llama3 family,
// no BOS for glm4. A GGUF adapter starts from this and overwrites what
// the file sets; llama.cpp drops a default id that is out of the
// vocabulary's range, and so should the adapter, since New refuses it.
func DefaultVocab(model, pre string) Vocab {
	v := Vocab{Model: model, Pre: pre, BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1}
	switch model {
	case ModelLlama:
		v.BOS, v.EOS, v.UNK = 1, 2, 0
		v.AddBOS = true
		v.AddSpacePrefix = true
	case ModelGPT2:
		v.BOS, v.EOS = 11, 11
		switch pre {
		case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
			"midm-2.0", "lfm2", "jina-v5-nano", "tekken", "chameleon":
			v.AddBOS = true
		case "glm4", "chatglm-bpe":
			v.BOS = -1
		}
	}
	return v
}

// The models New accepts.
const (
	ModelLlama = "llama"
	ModelGPT2  = "gpt2"
)

// ErrInvalidVocab is wrapped by every error New returns.
var ErrInvalidVocab = errors.New("invalid vocabulary")

// VocabError says which part of a Vocab New refused and why.
type VocabError struct {
	Field string // "tokens[12]", "merges[3]", "bos", ...
	Msg   string
}

func (e *VocabError) Error() string {
	return "tokenizer.New: invalid vocabulary: " + e.Field + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalidVocab) hold.
func (e *VocabError) Unwrap() error { return ErrInvalidVocab }

func vocabErr(field, format string, args ...any) error {
	return &VocabError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// attr is llama.cpp's llama_token_attr: a bit set, because llama.cpp
// adds attributes to tokens by name (a normal token named <|eot_id|>
// becomes control as well) and then tests bits.
type attr uint16

const (
	attrUnknown attr = 1 << iota
	attrUnused
	attrNormal
	attrControl
	attrUserDefined
	attrByte
)

func attrOfType(t int32) attr {
	switch t {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return 0 // undefined
}

// parseByteToken reads "<0xXX>" (either case of hex digit, as llama.cpp's
// strtol does).
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

// byteTokenText is the text llama.cpp's byte_to_token looks for: upper-case
// hex.
func byteTokenText(b byte) string {
	const hex = "0123456789ABCDEF"
	return string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})
}

// New checks v and builds its tokenizer. It refuses a vocabulary whose
// lengths disagree, whose ids are out of range, whose tokens repeat,
// whose merges do not parse, whose byte tokens are malformed, a gpt2
// vocabulary without all 256 byte-level symbols, and a llama vocabulary
// that can neither fall back to bytes nor to UNK.
func New(v Vocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	t := &Tokenizer{
		bos: v.BOS, eos: v.EOS, unk: v.UNK, pad: v.PAD, eot: v.EOT,
		addBOS: v.AddBOS, addEOS: v.AddEOS,
	}
	switch v.Model {
	case ModelLlama:
		t.model = modelSPM
		t.addSpacePrefix = v.AddSpacePrefix
	case ModelGPT2:
		t.model = modelBPE
		t.pre, t.ignoreMerges = preFor(v.Pre)
	default:
		return nil, vocabErr("model", "%q is neither %q nor %q", v.Model, ModelLlama, ModelGPT2)
	}
	if n == 0 {
		return nil, vocabErr("tokens", "empty")
	}
	if n > math.MaxInt32 {
		return nil, vocabErr("tokens", "%d tokens do not fit int32 ids", n)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, vocabErr("scores", "%d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, vocabErr("token_type", "%d types for %d tokens", len(v.Types), n)
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"unk", v.UNK}, {"pad", v.PAD}, {"eot", v.EOT}} {
		if s.id < -1 || s.id >= int32(n) {
			return nil, vocabErr(s.name, "id %d is outside [0, %d) and is not -1", s.id, n)
		}
	}
	if v.AddBOS && v.BOS < 0 {
		return nil, vocabErr("bos", "AddBOS is set but there is no BOS token")
	}
	if v.AddEOS && v.EOS < 0 {
		return nil, vocabErr("eos", "AddEOS is set but there is no EOS token")
	}

	t.tokens = make([]string, n)
	t.ids = make(map[string]int32, n)
	t.attrs = make([]attr, n)
	t.scores = make([]float32, n)
	for i, s := range v.Tokens {
		if s == "" {
			// llama.cpp renames empty tokens so that they cannot match
			// empty text; keep the same names so ids agree.
			s = "[EMPTY_" + strconv.Itoa(i) + "]"
		}
		if j, dup := t.ids[s]; dup {
			return nil, vocabErr(fmt.Sprintf("tokens[%d]", i), "%q repeats tokens[%d]", s, j)
		}
		t.ids[s] = int32(i)
		t.tokens[i] = s
		t.attrs[i] = attrNormal
		if v.Types != nil {
			ty := v.Types[i]
			if ty < TypeUndefined || ty > TypeByte {
				return nil, vocabErr(fmt.Sprintf("token_type[%d]", i), "%d is not a token type (0 to 6)", ty)
			}
			t.attrs[i] = attrOfType(ty)
			if ty == TypeByte {
				if _, ok := parseByteToken(s); !ok {
					return nil, vocabErr(fmt.Sprintf("tokens[%d]", i), "byte token %q is not of the form <0xXX>", s)
				}
			}
		}
		if v.Scores != nil {
			sc := v.Scores[i]
			if sc != sc {
				// A NaN breaks the order the merge queue relies on.
				return nil, vocabErr(fmt.Sprintf("scores[%d]", i), "NaN")
			}
			t.scores[i] = sc
		}
	}

	switch t.model {
	case modelSPM:
		t.byteFallback = true
		for b := 0; b < 256; b++ {
			id, ok := t.ids[byteTokenText(byte(b))]
			if !ok {
				// llama.cpp's byte_to_token tries the byte as a
				// one-character token next.
				id, ok = t.ids[string([]byte{byte(b)})]
			}
			if !ok {
				id = -1
				t.byteFallback = false
			}
			t.byteTok[b] = id
		}
		if !t.byteFallback && t.unk < 0 {
			return nil, vocabErr("tokens", "no byte token for every byte (<0x00> to <0xFF>) and no UNK token: text outside the vocabulary could not be encoded")
		}
	case modelBPE:
		t.byteEnc = bytesToUnicode()
		for i := range t.byteDec {
			t.byteDec[i] = -1
		}
		for b, r := range t.byteEnc {
			t.byteDec[r] = int16(b)
			id, ok := t.ids[string(r)]
			if !ok {
				return nil, vocabErr("tokens", "no token for byte 0x%02X (byte-level symbol %q)", b, string(r))
			}
			t.byteTok[b] = id
		}
		if err := t.buildMerges(v.Merges); err != nil {
			return nil, err
		}
	}

	t.fixSpecialTokens()
	t.buildPieces()
	return t, nil
}

// fixSpecialTokens finds tokens by name and adjusts types and the
// end-of-generation set as llama.cpp's load does, in the same order, so
// that decoding, special-token parsing and stopping agree with it.
func (t *Tokenizer) fixSpecialTokens() {
	// Names llama.cpp uses to find tokens whose ids the metadata does not
	// give ("auto-detect special tokens by text"). They are locals so that
	// the package holds no mutable state.
	eotNames := []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
		"<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}
	eomNames := []string{"<|eom_id|>"}
	fimPreNames := []string{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
		"<|code_prefix|>", "<|prefix|>"}
	fimSufNames := []string{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
		"<|code_suffix|>", "<|suffix|>"}
	fimMidNames := []string{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
		"<|code_middle|>", "<|middle|>"}
	fimPadNames := []string{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}
	fimRepNames := []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}
	fimSepNames := []string{"<|file_sep|>"}
	// eogNames end generation whatever their type; llama.cpp makes them
	// control tokens too.
	eogNames := []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
		"<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]",
		"[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
		"<｜end▁of▁sentence｜>", "[e~["}
	// alwaysRendered are gpt-oss tokens llama.cpp makes user-defined so
	// that they are printed.
	alwaysRendered := []string{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}

	// The lowest id among the candidates, where llama.cpp takes whichever
	// its hash map yields first.
	find := func(names []string) int32 {
		best := int32(-1)
		for _, name := range names {
			if id, ok := t.ids[name]; ok && (best < 0 || id < best) {
				best = id
			}
		}
		return best
	}
	makeControl := func(id int32) {
		if id >= 0 {
			t.attrs[id] |= attrControl
		}
	}
	if t.eot < 0 {
		t.eot = find(eotNames)
		makeControl(t.eot)
	}
	eom := find(eomNames)
	makeControl(eom)
	for _, names := range [][]string{fimPreNames, fimSufNames, fimMidNames} {
		makeControl(find(names))
	}
	eog := map[int32]bool{}
	for _, names := range [][]string{fimPadNames, fimRepNames, fimSepNames} {
		if id := find(names); id >= 0 {
			makeControl(id)
			eog[id] = true
		}
	}
	for _, name := range eogNames {
		if id, ok := t.ids[name]; ok {
			eog[id] = true
			makeControl(id)
		}
	}
	for _, name := range alwaysRendered {
		if id, ok := t.ids[name]; ok {
			t.attrs[id] = attrUserDefined
		}
	}
	for _, id := range []int32{t.eos, t.eot, eom} {
		if id >= 0 {
			eog[id] = true
		}
	}
	inEOG := func(name string) (int32, bool) {
		id, ok := t.ids[name]
		return id, ok && eog[id]
	}
	// gpt-oss and solar-open end turns with <|return|>/<|call|> (or
	// <|calls|>/<|flush|>); their <|end|> only ends a message.
	_, hasReturn := inEOG("<|return|>")
	_, hasCall := inEOG("<|call|>")
	_, hasCalls := inEOG("<|calls|>")
	_, hasFlush := inEOG("<|flush|>")
	if end, hasEnd := inEOG("<|end|>"); hasEnd && ((hasReturn && (hasCall || hasCalls)) || ((hasCall || hasCalls) && hasFlush)) {
		delete(eog, end)
		t.attrs[end] = attrUserDefined
	}
	// Gemma 4 and PaddleOCR use </s> as ordinary text.
	if _, hasTool := inEOG("<|tool_response>"); hasTool {
		if s, hasS := inEOG("</s>"); hasS {
			delete(eog, s)
			t.attrs[s] = attrNormal
		}
	}
	// Ids in increasing order, so that nothing depends on map order.
	for id := range t.tokens {
		if eog[int32(id)] {
			t.eog = append(t.eog, int32(id))
		}
	}

	// The special tokens Encode matches in text, longest first as in
	// llama.cpp; llama.cpp's sort is not stable, so equal lengths go by
	// id here.
	for id, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.special = append(t.special, int32(id))
		}
	}
	sortSpecial(t.special, t.tokens)
}
