package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// preKind is a BPE pre-tokenizer: how text is split into the pieces
// merges run within.
type preKind uint8

const (
	preGPT2 preKind = iota
	preLlama3
	preQwen2
)

func (p preKind) String() string {
	switch p {
	case preLlama3:
		return "llama3"
	case preQwen2:
		return "qwen2"
	}
	return "gpt2"
}

// preFor maps tokenizer.ggml.pre to a split and llama.cpp's ignore_merges
// flag, using the names llama.cpp's load gives these patterns.
func preFor(name string) (kind preKind, ignoreMerges bool) {
	switch name {
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
		return preLlama3, true
	case "dbrx", "smaug-bpe", "chatglm-bpe", "glm4":
		return preLlama3, false
	case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2":
		return preQwen2, false
	}
	// "gpt2", "gpt-2", "phi-2", "mpt", "olmo", ... and, departing from
	// llama.cpp, "default", "" and every name not listed above.
	return preGPT2, false
}

// Code point classes, as llama.cpp's unicode_cpt_flags: fIn marks a code
// point inside the text (llama.cpp's flags.as_uint() != 0, which fails
// only past the end), the others \p{L}, \p{N} and \s (Unicode White_Space,
// the same 25 code points as llama.cpp's table).
const (
	fIn uint8 = 1 << iota
	fLetter
	fNumber
	fSpace
)

// unit is one code point of the text, or one byte of invalid UTF-8, which
// is classed as U+FFFD (a symbol) but keeps its byte.
type unit struct {
	r   rune
	off int32 // byte offset in the text
	f   uint8
}

// noRune is what llama.cpp's _get_cpt returns past the end.
const noRune = -1

func classify(r rune) uint8 {
	f := fIn
	switch {
	case r < utf8.RuneSelf:
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
			f |= fLetter
		case '0' <= r && r <= '9':
			f |= fNumber
		case r == ' ', '\t' <= r && r <= '\r':
			f |= fSpace
		}
	case unicode.IsLetter(r):
		f |= fLetter
	case unicode.IsNumber(r):
		f |= fNumber
	case unicode.IsSpace(r):
		f |= fSpace
	}
	return f
}

// units decodes text into dst. An invalid byte becomes a unit of its own
// with U+FFFD's class, as llama.cpp's unicode_cpts_from_utf8 does, but
// the bytes are not replaced.
func units(text string, dst []unit) []unit {
	dst = dst[:0]
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		dst = append(dst, unit{r: r, off: int32(i), f: classify(r)})
		i += n
	}
	return dst
}

// split appends to ends the end byte offset of each piece of text.
func (p preKind) split(text string, u []unit, ends []int) []int {
	switch p {
	case preLlama3:
		return splitLlama3(text, u, 3, ends)
	case preQwen2:
		return splitLlama3(text, u, 1, ends)
	}
	return splitGPT2(text, u, ends)
}

// splitter holds what llama.cpp's lambdas (_get_cpt, _get_flags,
// _add_token) close over.
type splitter struct {
	text string
	u    []unit
	prev int // end of the last piece, in units
	ends []int
}

func (s *splitter) cpt(i int) rune {
	if i < len(s.u) {
		return s.u[i].r
	}
	return noRune
}

func (s *splitter) flags(i int) uint8 {
	if i < len(s.u) {
		return s.u[i].f
	}
	return 0
}

// add ends a piece at unit end (nothing when it would be empty).
func (s *splitter) add(end int) {
	if end > s.prev {
		if end < len(s.u) {
			s.ends = append(s.ends, int(s.u[end].off))
		} else {
			s.ends = append(s.ends, len(s.text))
		}
	}
	s.prev = end
}

// splitGPT2 is llama.cpp's unicode_regex_split_custom_gpt2:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(text string, u []unit, ends []int) []int {
	s := splitter{text: text, u: u, ends: ends}
	n := len(u)
	for pos := 0; pos < n; {
		c, f := s.cpt(pos), s.flags(pos)

		// 's|'t|'re|'ve|'m|'ll|'d
		if c == '\'' && pos+1 < n {
			c1 := s.cpt(pos + 1)
			if c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd' {
				pos += 2
				s.add(pos)
				continue
			}
			if pos+2 < n {
				c2 := s.cpt(pos + 2)
				if (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') {
					pos += 3
					s.add(pos)
					continue
				}
			}
		}

		f2 := f
		if c == ' ' {
			f2 = s.flags(pos + 1)
		}
		// ' ?\p{L}+', ' ?\p{N}+' and ' ?[^\s\p{L}\p{N}]+': an optional
		// space, then a run of one class.
		var class func(uint8) bool
		switch {
		case f2&fLetter != 0:
			class = func(f uint8) bool { return f&fLetter != 0 }
		case f2&fNumber != 0:
			class = func(f uint8) bool { return f&fNumber != 0 }
		case f2&(fSpace|fLetter|fNumber) == 0 && f2 != 0:
			class = func(f uint8) bool { return f&(fSpace|fLetter|fNumber) == 0 && f != 0 }
		}
		if class != nil {
			if c == ' ' {
				pos++
			}
			for class(s.flags(pos)) {
				pos++
			}
			s.add(pos)
			continue
		}

		k := 0
		for s.flags(pos+k)&fSpace != 0 {
			k++
		}
		// \s+(?!\S): a run followed by more text leaves its last space
		// to prefix the next word.
		if k > 1 && s.cpt(pos+k) != noRune {
			pos += k - 1
			s.add(pos)
			continue
		}
		// \s+
		if k > 0 {
			pos += k
			s.add(pos)
			continue
		}
		// No alternative matches (cannot happen: every code point is in
		// one of the classes); llama.cpp takes one code point.
		pos++
		s.add(pos)
	}
	return s.ends
}

// asciiLower is llama.cpp's unicode_tolower for the letters the
// contractions test: no other code point lowercases to s, t, m, d, r, e,
// v or l.
func asciiLower(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + ('a' - 'A')
	}
	return r
}

// splitLlama3 is llama.cpp's unicode_regex_split_custom_llama3 with
// maxDigits 3; with maxDigits 1 it is Qwen2's pattern, which llama.cpp
// runs through std::regex and which matches the same way:
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitLlama3(text string, u []unit, maxDigits int, ends []int) []int {
	s := splitter{text: text, u: u, ends: ends}
	n := len(u)
	for pos := 0; pos < n; {
		c, f := s.cpt(pos), s.flags(pos)

		// (?i:'s|'t|'re|'ve|'m|'ll|'d)
		if c == '\'' && pos+1 < n {
			c1 := asciiLower(s.cpt(pos + 1))
			if c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd' {
				pos += 2
				s.add(pos)
				continue
			}
			if pos+2 < n {
				c2 := asciiLower(s.cpt(pos + 2))
				if (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') {
					pos += 3
					s.add(pos)
					continue
				}
			}
		}

		// [^\r\n\p{L}\p{N}]?\p{L}+
		if !(c == '\r' || c == '\n' || f&fNumber != 0) {
			if f&fLetter != 0 || s.flags(pos+1)&fLetter != 0 {
				pos++
				for s.flags(pos)&fLetter != 0 {
					pos++
				}
				s.add(pos)
				continue
			}
		}

		// \p{N}{1,3}
		if f&fNumber != 0 {
			ini := pos
			for s.flags(pos)&fNumber != 0 {
				pos++
				if pos-ini >= maxDigits {
					s.add(pos)
					ini = pos
				}
			}
			s.add(pos)
			continue
		}

		// ' ?[^\s\p{L}\p{N}]+[\r\n]*'. llama.cpp tests the current code
		// point's flags where the regex would test the next one's; that
		// only differs for a space at the very end, which \s+ would take
		// alone anyway.
		f2 := f
		if c == ' ' {
			f2 = s.flags(pos + 1)
		}
		if f2&(fSpace|fLetter|fNumber) == 0 && f != 0 {
			if c == ' ' {
				pos++
			}
			for g := s.flags(pos); g&(fSpace|fLetter|fNumber) == 0 && g != 0; g = s.flags(pos) {
				pos++
			}
			for c2 := s.cpt(pos); c2 == '\r' || c2 == '\n'; c2 = s.cpt(pos) {
				pos++
			}
			s.add(pos)
			continue
		}

		k, lastNL := 0, 0
		for s.flags(pos+k)&fSpace != 0 {
			if c2 := s.cpt(pos + k); c2 == '\r' || c2 == '\n' {
				lastNL = pos + k + 1
			}
			k++
		}
		// \s*[\r\n]+
		if lastNL > 0 {
			pos = lastNL
			s.add(pos)
			continue
		}
		// \s+(?!\S)
		if k > 1 && s.cpt(pos+k) != noRune {
			pos += k - 1
			s.add(pos)
			continue
		}
		// \s+
		if k > 0 {
			pos += k
			s.add(pos)
			continue
		}
		pos++
		s.add(pos)
	}
	return s.ends
}
