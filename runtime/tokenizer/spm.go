package tokenizer

import "strings"

// spmSpace is U+2581, which SentencePiece writes for a space.
const spmSpace = "▁"

// spmSym is a run of the escaped text: [start, start+n), and its
// neighbours in the linked list the merges shrink.
type spmSym struct {
	start, n   int32
	prev, next int32
}

type spmBigram struct {
	score       float32
	left, right int32
	size        int32 // bytes in both symbols when queued
}

// spmQueue is a binary max-heap: highest score first, then leftmost, as
// llama.cpp's llm_bigram_spm::comparator orders it.
type spmQueue []spmBigram

func (q spmQueue) less(i, j int) bool {
	return q[i].score > q[j].score || (q[i].score == q[j].score && q[i].left < q[j].left)
}

func (q *spmQueue) push(b spmBigram) {
	*q = append(*q, b)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *spmQueue) pop() spmBigram {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h.less(l, m) {
			m = l
		}
		if r < len(h) && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// spmState is the scratch space of one Encode call, reused across
// fragments.
type spmState struct {
	syms  []spmSym
	queue spmQueue
}

// utf8Len is llama.cpp's unicode_len_utf8: the length a UTF-8 sequence
// starting with b claims, without checking the bytes that follow.
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// encode appends the tokens of one text fragment: llama.cpp's SPM branch
// of tokenize (prefix, escape) and llm_tokenizer_spm_session::tokenize.
func (s *spmState) encode(t *Tokenizer, fragment string, prefix bool, out []int32) []int32 {
	if prefix {
		fragment = " " + fragment
	}
	text := strings.ReplaceAll(fragment, " ", spmSpace)
	if text == "" {
		return out
	}

	if cap(s.syms) < len(text) {
		s.syms = make([]spmSym, 0, len(text)) // at most one symbol a byte
	}
	s.syms = s.syms[:0]
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		i := int32(len(s.syms))
		next := i + 1
		if off+n == len(text) {
			next = -1
		}
		s.syms = append(s.syms, spmSym{start: int32(off), n: int32(n), prev: i - 1, next: next})
		off += n
	}
	s.queue = s.queue[:0]
	for i := 1; i < len(s.syms); i++ {
		s.tryAdd(t, text, int32(i-1), int32(i))
	}
	for len(s.queue) > 0 {
		b := s.queue.pop()
		l, r := &s.syms[b.left], &s.syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue // one side has merged since
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			s.syms[r.next].prev = b.left
		}
		s.tryAdd(t, text, l.prev, b.left)
		s.tryAdd(t, text, b.left, l.next)
	}

	for i := int32(0); i != -1; i = s.syms[i].next {
		sym := s.syms[i]
		piece := text[sym.start : sym.start+sym.n]
		if id, ok := t.ids[piece]; ok {
			out = append(out, id)
			continue
		}
		// Only a single character can fail to be a token (every merge
		// made one), so llama.cpp's rev_merge resegmenting never applies;
		// the character becomes its bytes, or one UNK if a byte has no
		// token.
		if t.byteFallback || allBytes(t, piece) {
			for j := 0; j < len(piece); j++ {
				out = append(out, t.byteTok[piece[j]])
			}
		} else {
			out = append(out, t.unk)
		}
	}
	return out
}

func allBytes(t *Tokenizer, piece string) bool {
	for j := 0; j < len(piece); j++ {
		if t.byteTok[piece[j]] < 0 {
			return false
		}
	}
	return true
}

// tryAdd queues the merge of two adjacent symbols if their concatenation
// is a token: any token, of any type, as llama.cpp's text_to_token.
func (s *spmState) tryAdd(t *Tokenizer, text string, left, right int32) {
	if left < 0 || right < 0 {
		return
	}
	l, r := s.syms[left], s.syms[right]
	id, ok := t.ids[text[l.start:l.start+l.n+r.n]]
	if !ok {
		return
	}
	s.queue.push(spmBigram{score: t.scores[id], left: left, right: right, size: l.n + r.n})
}
