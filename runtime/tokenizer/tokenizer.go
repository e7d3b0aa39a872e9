package tokenizer

import (
	"slices"
	"strings"
	"unicode/utf8"
)

type modelKind uint8

const (
	modelSPM modelKind = iota + 1
	modelBPE
)

// Tokenizer encodes and decodes text for one vocabulary. It is immutable
// after New and safe for concurrent use.
type Tokenizer struct {
	model modelKind

	tokens []string
	ids    map[string]int32
	attrs  []attr
	scores []float32

	bos, eos, unk, pad, eot int32
	addBOS, addEOS          bool
	addSpacePrefix          bool

	// special lists the tokens Encode matches verbatim in text, in the
	// order it tries them; eog is the end-of-generation set, ascending.
	special []int32
	eog     []int32

	// pieceBuf[pieceOff[id]:pieceOff[id+1]] is what id decodes to: one
	// buffer rather than a slice per token, for vocabularies of 100k+.
	pieceBuf []byte
	pieceOff []uint32

	// byteTok[b] is the token for byte b: <0xXX> (or the one-byte token,
	// -1 if neither) for SPM; the byte-level symbol for BPE.
	byteTok      [256]int32
	byteFallback bool

	// BPE only.
	pre          preKind
	ignoreMerges bool
	byteEnc      [256]rune
	byteDec      [byteDecSize]int16
	merges       map[uint64]merge
}

// Model returns "llama" or "gpt2".
func (t *Tokenizer) Model() string {
	if t.model == modelSPM {
		return ModelLlama
	}
	return ModelGPT2
}

// PreTokenizer names the split a gpt2 tokenizer uses: "gpt2", "llama3"
// or "qwen2" (whatever Vocab.Pre said); "" for llama.
func (t *Tokenizer) PreTokenizer() string {
	if t.model == modelSPM {
		return ""
	}
	return t.pre.String()
}

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence token, -1 if none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS is the end-of-sequence token, -1 if none.
func (t *Tokenizer) EOS() int32 { return t.eos }

// UNK is the unknown token, -1 if none.
func (t *Tokenizer) UNK() int32 { return t.unk }

// PAD is the padding token, -1 if none.
func (t *Tokenizer) PAD() int32 { return t.pad }

// EOT is the end-of-turn token: Vocab.EOT, or else the lowest-id token
// named like one (<|eot_id|>, <|im_end|>, <end_of_turn>, ...), -1 if none.
func (t *Tokenizer) EOT() int32 { return t.eot }

// ByteFallback says whether a llama vocabulary has a token for every
// byte, so that any text encodes without UNK. Always true for gpt2.
func (t *Tokenizer) ByteFallback() bool { return t.model == modelBPE || t.byteFallback }

// Token returns the vocabulary string of id ("" for an id out of range).
// Empty strings in Vocab.Tokens read "[EMPTY_<id>]", as in llama.cpp.
func (t *Tokenizer) Token(id int32) string {
	if !t.valid(id) {
		return ""
	}
	return t.tokens[id]
}

// IsEndOfGeneration says whether sampling id ends the generation: EOS,
// EOT, and the tokens llama.cpp treats so by name (<|eot_id|>,
// <|end_of_text|>, <|im_end|>, </s>, <end_of_turn>, <|endoftext|>, ...).
func (t *Tokenizer) IsEndOfGeneration(id int32) bool {
	_, ok := slices.BinarySearch(t.eog, id)
	return ok
}

// EndOfGeneration returns the ids IsEndOfGeneration accepts, ascending.
func (t *Tokenizer) EndOfGeneration() []int32 { return slices.Clone(t.eog) }

func (t *Tokenizer) valid(id int32) bool { return id >= 0 && int(id) < len(t.tokens) }

// TokenBytes returns the bytes id stands for, as llama.cpp's
// token_to_piece without special: a normal token's text (SentencePiece:
// ▁ as space; BPE: through the inverse byte table), a byte token's byte,
// a user-defined token's text verbatim, and nothing (nil) for control,
// unknown, unused and undefined tokens and ids out of range. A token can
// be part of a UTF-8 character: callers streaming output accumulate
// bytes and print complete characters. The slice is the caller's.
func (t *Tokenizer) TokenBytes(id int32) []byte {
	p := t.piece(id)
	if len(p) == 0 {
		return nil
	}
	return slices.Clone(p)
}

// AppendTokenBytes appends TokenBytes(id) to dst without allocating when
// dst has room.
func (t *Tokenizer) AppendTokenBytes(dst []byte, id int32) []byte {
	return append(dst, t.piece(id)...)
}

func (t *Tokenizer) piece(id int32) []byte {
	if !t.valid(id) {
		return nil
	}
	return t.pieceBuf[t.pieceOff[id]:t.pieceOff[id+1]]
}

// Decode returns the text of ids: the concatenation of TokenBytes, less
// one leading space of the first token that produces bytes when a
// SentencePiece vocabulary adds a space prefix (Encode put it there).
// It does not clean up spaces the way llama.cpp's detokenize does for
// most BPE vocabularies, so that Decode and streaming TokenBytes agree
// byte for byte. The result need not be valid UTF-8.
func (t *Tokenizer) Decode(ids []int32) string {
	var b strings.Builder
	strip := t.model == modelSPM && t.addSpacePrefix
	for _, id := range ids {
		p := t.piece(id)
		if len(p) == 0 {
			continue
		}
		if strip {
			strip = false
			if p[0] == ' ' {
				p = p[1:]
			}
		}
		b.Write(p)
	}
	return b.String()
}

// buildPieces fills the TokenBytes table once, as llama.cpp's
// cache_token_to_piece does.
func (t *Tokenizer) buildPieces() {
	t.pieceOff = make([]uint32, len(t.tokens)+1)
	size := 0
	for _, s := range t.tokens {
		size += len(s)
	}
	t.pieceBuf = make([]byte, 0, size)
	for id, s := range t.tokens {
		a := t.attrs[id]
		switch {
		case a&(attrUnknown|attrControl) != 0:
			// Nothing, as token_to_piece with special=false.
		case a&attrUserDefined != 0:
			t.pieceBuf = append(t.pieceBuf, s...)
		case a&attrNormal != 0:
			if t.model == modelSPM {
				t.pieceBuf = append(t.pieceBuf, strings.ReplaceAll(s, spmSpace, " ")...)
			} else {
				t.pieceBuf = t.appendByteDecoded(t.pieceBuf, s)
			}
		case a&attrByte != 0:
			b, _ := parseByteToken(s) // New checked the form
			t.pieceBuf = append(t.pieceBuf, b)
		default:
			// Unused and undefined tokens print nothing, like control
			// ones (llama.cpp: "we accept all unsupported token types,
			// suppressing them like CONTROL tokens").
		}
		t.pieceOff[id+1] = uint32(len(t.pieceBuf))
	}
}

// appendByteDecoded maps each character of a BPE token back to its byte.
// A character outside the table (a vocabulary that is not purely
// byte-level) keeps its UTF-8, where llama.cpp writes "[UNK_BYTE_0x..]".
func (t *Tokenizer) appendByteDecoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		wellFormed := n > 1 || r < utf8.RuneSelf
		if wellFormed && r < byteDecSize && t.byteDec[r] >= 0 {
			dst = append(dst, byte(t.byteDec[r]))
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// Encode returns the token ids of text. With addSpecial it adds BOS and
// EOS as the vocabulary says (AddBOS, AddEOS). Text that spells a
// control, user-defined or unknown token verbatim becomes that single
// token (llama.cpp's parse_special=true).
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	return t.encode(text, addSpecial, true)
}

// EncodeText is Encode with only user-defined tokens matched verbatim
// (llama.cpp's parse_special=false): text spelling "<|im_end|>" or "<s>"
// becomes ordinary tokens. Use it for text a user wrote.
func (t *Tokenizer) EncodeText(text string, addSpecial bool) []int32 {
	return t.encode(text, addSpecial, false)
}

func (t *Tokenizer) encode(text string, addSpecial, parseSpecial bool) []int32 {
	frags := t.partition(text, parseSpecial)
	out := make([]int32, 0, len(text)/3+4)
	if addSpecial && t.addBOS {
		out = append(out, t.bos)
	}
	switch t.model {
	case modelSPM:
		var s spmState
		// llama.cpp prefixes the first fragment and each one that
		// follows a special token.
		prevSpecial := true
		for _, f := range frags {
			if f.tok >= 0 {
				out = append(out, f.tok)
				prevSpecial = true
				continue
			}
			out = s.encode(t, text[f.start:f.end], t.addSpacePrefix && prevSpecial, out)
			prevSpecial = false
		}
	case modelBPE:
		var s bpeState
		for _, f := range frags {
			if f.tok >= 0 {
				out = append(out, f.tok)
				continue
			}
			out = s.encode(t, text[f.start:f.end], out)
		}
	}
	if addSpecial && t.addEOS {
		out = append(out, t.eos)
	}
	return out
}

// fragment is a special token (tok >= 0) or the text[start:end] between
// special tokens (tok < 0).
type fragment struct {
	tok        int32
	start, end int
}

// partition is llama.cpp's tokenizer_st_partition: each special token in
// turn, longest first, splits every text fragment at its occurrences.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{tok: -1, start: 0, end: len(text)}}
	for _, id := range t.special {
		if !parseSpecial && t.attrs[id]&(attrControl|attrUnknown) != 0 {
			continue
		}
		s := t.tokens[id]
		var next []fragment // nil until s occurs somewhere
		for i, f := range frags {
			j := -1
			if f.tok < 0 {
				j = strings.Index(text[f.start:f.end], s)
			}
			if j < 0 {
				if next != nil {
					next = append(next, f)
				}
				continue
			}
			if next == nil {
				next = append(make([]fragment, 0, len(frags)+2), frags[:i]...)
			}
			start := f.start
			for j >= 0 {
				if j > 0 {
					next = append(next, fragment{tok: -1, start: start, end: start + j})
				}
				next = append(next, fragment{tok: id})
				start += j + len(s)
				j = strings.Index(text[start:f.end], s)
			}
			if start < f.end {
				next = append(next, fragment{tok: -1, start: start, end: f.end})
			}
		}
		if next != nil {
			frags = next
		}
	}
	return frags
}

// sortSpecial orders special tokens longest text first, then by id.
func sortSpecial(ids []int32, tokens []string) {
	slices.SortFunc(ids, func(a, b int32) int {
		if la, lb := len(tokens[a]), len(tokens[b]); la != lb {
			return lb - la
		}
		return int(a - b)
	})
}
