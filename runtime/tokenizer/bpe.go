package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// byteDecSize bounds the runes bytesToUnicode uses: 256 plus the 68
// bytes that are not printable.
const byteDecSize = 256 + 68

// bytesToUnicode is GPT-2's bytes_to_unicode: printable Latin-1 bytes
// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, and the other 68
// bytes, in increasing order, for U+0100 onwards, so that every byte is a
// visible character and no token holds a space or control character.
// It is a pure function: each Tokenizer keeps its own copy.
func bytesToUnicode() [256]rune {
	var enc [256]rune
	n := rune(0)
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			enc[b] = rune(b)
		} else {
			enc[b] = 256 + n
			n++
		}
	}
	return enc
}

// merge is what a pair of adjacent symbols becomes: its rank (lower
// merges first) and the interned id of the merged string.
type merge struct {
	rank int32
	out  int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// buildMerges parses "a b" merges into a table keyed by the ids of both
// halves. Strings are interned: a token's id, or an id past the
// vocabulary for a string that is no token (a merge result or half the
// vocabulary lacks), so that the merge loop compares integers, never
// strings, and every symbol knows whether it is a token.
func (t *Tokenizer) buildMerges(merges []string) error {
	t.merges = make(map[uint64]merge, len(merges))
	extra := map[string]int32{}
	intern := func(s string) int32 {
		if id, ok := t.ids[s]; ok {
			return id
		}
		if id, ok := extra[s]; ok {
			return id
		}
		id := int32(len(t.tokens) + len(extra))
		extra[s] = id
		return id
	}
	for i, m := range merges {
		// llama.cpp splits at the first space after the first byte.
		j := -1
		if len(m) > 1 {
			j = strings.IndexByte(m[1:], ' ')
		}
		if j < 0 {
			return vocabErr(fmt.Sprintf("merges[%d]", i), "%q is not two strings separated by a space", m)
		}
		a, b := m[:j+1], m[j+2:]
		if b == "" {
			return vocabErr(fmt.Sprintf("merges[%d]", i), "%q has nothing after the space", m)
		}
		key := pairKey(intern(a), intern(b))
		if _, dup := t.merges[key]; dup {
			// llama.cpp's bpe_ranks.emplace keeps the first rank.
			continue
		}
		t.merges[key] = merge{rank: int32(i), out: intern(a + b)}
	}
	return nil
}

// bpeSym is a run of the piece's bytes: [start, start+n), the interned id
// of its byte-level string, and its neighbours in the linked list the
// merges shrink.
type bpeSym struct {
	start, n   int32
	prev, next int32
	id         int32
}

type bpeBigram struct {
	rank        int32
	left, right int32
	size        int32 // bytes in both symbols when queued
	out         int32
}

// bpeQueue is a binary min-heap: lowest rank first, then leftmost, as
// llama.cpp's llm_bigram_bpe::comparator orders it.
type bpeQueue []bpeBigram

func (q bpeQueue) less(i, j int) bool {
	return q[i].rank < q[j].rank || (q[i].rank == q[j].rank && q[i].left < q[j].left)
}

func (q *bpeQueue) push(b bpeBigram) {
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

func (q *bpeQueue) pop() bpeBigram {
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

// bpeState is the scratch space of one Encode call, reused across pieces.
type bpeState struct {
	units []unit
	ends  []int
	enc   []byte
	syms  []bpeSym
	queue bpeQueue
}

// encode appends the tokens of one text fragment: llama.cpp's
// llm_tokenizer_bpe_session::tokenize.
func (s *bpeState) encode(t *Tokenizer, text string, out []int32) []int32 {
	if cap(s.units) < len(text) {
		s.units = make([]unit, 0, len(text)) // at most one unit a byte
	}
	s.units = units(text, s.units)
	s.ends = t.pre.split(text, s.units, s.ends[:0])
	start := 0
	for _, end := range s.ends {
		out = s.encodePiece(t, text[start:end], out)
		start = end
	}
	return out
}

func (s *bpeState) encodePiece(t *Tokenizer, piece string, out []int32) []int32 {
	if t.ignoreMerges {
		s.enc = s.enc[:0]
		for i := 0; i < len(piece); i++ {
			s.enc = utf8.AppendRune(s.enc, t.byteEnc[piece[i]])
		}
		if id, ok := t.ids[string(s.enc)]; ok {
			return append(out, id)
		}
	}

	s.syms = s.syms[:0]
	for i := 0; i < len(piece); i++ {
		next := int32(i + 1)
		if i == len(piece)-1 {
			next = -1
		}
		s.syms = append(s.syms, bpeSym{start: int32(i), n: 1, prev: int32(i - 1), next: next, id: t.byteTok[piece[i]]})
	}
	s.queue = s.queue[:0]
	for i := 1; i < len(s.syms); i++ {
		s.tryAdd(t, int32(i-1), int32(i))
	}
	for len(s.queue) > 0 {
		b := s.queue.pop()
		l, r := &s.syms[b.left], &s.syms[b.right]
		// A bigram is stale once either side has changed; since a
		// symbol only grows by absorbing its right neighbour, comparing
		// sizes is llama.cpp's comparison of texts.
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue
		}
		l.n += r.n
		l.id = b.out
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			s.syms[r.next].prev = b.left
		}
		s.tryAdd(t, l.prev, b.left)
		s.tryAdd(t, b.left, l.next)
	}

	n := int32(len(t.tokens))
	for i := int32(0); i != -1; i = s.syms[i].next {
		sym := s.syms[i]
		if sym.id < n {
			out = append(out, sym.id)
			continue
		}
		// A merge produced a string the vocabulary lacks: fall back to
		// its byte-level symbols, which are all tokens.
		for _, c := range []byte(piece[sym.start : sym.start+sym.n]) {
			out = append(out, t.byteTok[c])
		}
	}
	return out
}

func (s *bpeState) tryAdd(t *Tokenizer, left, right int32) {
	if left < 0 || right < 0 {
		return
	}
	l, r := s.syms[left], s.syms[right]
	m, ok := t.merges[pairKey(l.id, r.id)]
	if !ok {
		return
	}
	s.queue.push(bpeBigram{rank: m.rank, left: left, right: right, size: l.n + r.n, out: m.out})
}
