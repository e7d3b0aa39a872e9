package tokenizer

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// LearnOptions configures LearnBPE.
type LearnOptions struct {
	// Pre is the tokenizer.ggml.pre name whose split the merges are
	// learned within, so that no merge spans a piece boundary the
	// encoder cuts. "" and names the tokenizer does not know mean GPT-2's
	// split, as they do for New.
	Pre string
	// Vocab is the size of the learned vocabulary, counting the 256
	// byte-level symbols; at least 256. Special tokens are the caller's
	// to append.
	Vocab int
	// MinCount stops learning once the most frequent pair occurs fewer
	// times than this in the text; 0 means 2, so that no token is made
	// for a single occurrence.
	MinCount int
	// Progress, when set, is called about every 1% of the way and once
	// at the end with the tokens learned so far beyond the 256 byte-level
	// symbols and the number wanted, Vocab-256. The last call's learned
	// is below total when the text ran out of pairs first.
	Progress func(learned, total int)
}

// LearnBPE learns a GPT-2-style byte-level BPE vocabulary from text.
//
// The text is split by the pre-tokenizer o.Pre names, each piece is cut
// into its bytes' byte-level symbols, and then, repeatedly, the adjacent
// pair of symbols that occurs most often over all pieces (overlapping
// occurrences counted, as in "aaa") is merged everywhere, left to right.
// Ties go to the pair whose first symbol is the smaller string, then
// whose second is (byte order of the byte-level strings), so the result
// depends on the text and the options alone.
//
// tokens[0:256] are GPT-2's byte-level symbols, byte b at index b; then
// one token per new merge result, in merge order. merges are the merged
// pairs as "a b", in rank order. Both are what tokenizer.ggml.tokens and
// tokenizer.ggml.merges hold (all tokens of type normal), to which the
// caller appends its special tokens. Should two merges ever produce
// the same string (as "ab c" and "a bc" would), it is one token, so
// len(tokens) can be less than 256+len(merges); the tokenizer accepts
// that, and a merge listed twice keeps its first rank.
//
// Learning stops when there are o.Vocab tokens, or when the most frequent
// pair occurs fewer than o.MinCount times. Text that spells a special
// token is learned from like any other text.
//
// It takes time about linear in the text to split and count it, and
// then, per merge, time in proportion to the distinct pieces the merged
// pair occurs in: a fraction of a second for 4,000 tokens from 4.4 MB
// of English. Splitting briefly takes about 12 bytes of memory per
// character of text; after that, memory grows with the distinct pieces.
func LearnBPE(text string, o LearnOptions) (tokens, merges []string, err error) {
	switch {
	case o.Vocab < 256:
		return nil, nil, fmt.Errorf("tokenizer.LearnBPE: Vocab %d is below the 256 byte-level symbols every gpt2 vocabulary starts with: set Vocab to 256 or more (the learned tokens count on top of those)", o.Vocab)
	case o.Vocab > math.MaxInt32:
		return nil, nil, fmt.Errorf("tokenizer.LearnBPE: Vocab %d does not fit int32 token ids: set Vocab to at most %d", o.Vocab, math.MaxInt32)
	case o.MinCount < 0:
		return nil, nil, fmt.Errorf("tokenizer.LearnBPE: MinCount %d is negative: set it to 0 (meaning 2) or more", o.MinCount)
	case len(text) > math.MaxInt32:
		// The pre-tokenizer keeps byte offsets as int32.
		return nil, nil, fmt.Errorf("tokenizer.LearnBPE: text of %d bytes is over the %d bytes the pre-tokenizer handles: learn from a sample", len(text), math.MaxInt32)
	}
	minCount := o.MinCount
	if minCount == 0 {
		minCount = 2
	}
	kind, _ := preFor(o.Pre)

	l := newLearner()
	if o.Vocab > 256 {
		l.count(text, kind)
	}
	merges = l.learn(o.Vocab, minCount, o.Progress)
	return l.tokens, merges, nil
}

// learner holds the state of LearnBPE. Words are the distinct pieces of
// the text, as symbol ids (an id is an index in tokens), each with its
// number of occurrences. For every adjacent pair of symbols ever seen it
// keeps the weighted count and the words it was added to, so that a
// merge visits only those words, and a max-heap finds the best pair.
// Nothing iterates a map: the order of words, pairs and heap entries
// follows the text, and the heap orders any two distinct pairs, so the
// result cannot depend on Go's map order.
type learner struct {
	tokens []string
	ids    map[string]int32

	words [][]int32
	freq  []int
	// visited[w] is the stamp of the last merge that rewrote word w,
	// because a pair's where list can name a word more than once.
	visited []int

	pairID map[uint64]int32
	pairs  []learnPair
	heap   []learnEntry

	// stamp numbers the current batch of count changes, which flush
	// ends (a merge is one batch); changed lists the pairs whose delta
	// the batch touched, in the order it touched them.
	stamp   int
	changed []int32
}

type learnPair struct {
	a, b  int32
	count int
	// delta is the change to count not yet applied; mark is the stamp
	// of the batch that last put the pair on changed.
	delta int
	mark  int
	// where lists the words the pair was added to since its count was
	// last zero: a superset of the words that hold it.
	where []int32
}

// learnEntry is a heap entry: pair p had count n when pushed. Counts are
// not updated in place; every change pushes a new entry, and an entry
// whose n is no longer the pair's count is dropped when it surfaces.
type learnEntry struct {
	n int
	p int32
}

func newLearner() *learner {
	// stamp starts above the zero that marks nothing yet.
	l := &learner{ids: make(map[string]int32, 4096), pairID: map[uint64]int32{}, stamp: 1}
	for b, r := range bytesToUnicode() {
		s := string(r)
		l.tokens = append(l.tokens, s)
		l.ids[s] = int32(b)
	}
	return l
}

// intern returns the id of token s, adding it when new.
func (l *learner) intern(s string) (id int32, added bool) {
	if id, ok := l.ids[s]; ok {
		return id, false
	}
	id = int32(len(l.tokens))
	l.tokens = append(l.tokens, s)
	l.ids[s] = id
	return id, true
}

// learn merges the best pair until there are vocab tokens or the best
// pair occurs fewer than minCount times, and returns the merges.
func (l *learner) learn(vocab, minCount int, progress func(learned, total int)) (merges []string) {
	base := len(l.tokens)
	total := vocab - base
	step := max(1, total/100)
	for len(l.tokens) < vocab {
		p, n := l.best()
		if n < minCount {
			break
		}
		a, b := l.pairs[p].a, l.pairs[p].b
		merges = append(merges, l.tokens[a]+" "+l.tokens[b])
		added := l.merge(p)
		if learned := len(l.tokens) - base; progress != nil && added && learned%step == 0 && learned < total {
			progress(learned, total)
		}
	}
	if progress != nil {
		progress(len(l.tokens)-base, total)
	}
	return merges
}

// count splits text into pieces, gathers the distinct ones in order of
// first occurrence, and counts their pairs.
func (l *learner) count(text string, kind preKind) {
	u := units(text, make([]unit, 0, utf8.RuneCountInString(text)))
	ends := kind.split(text, u, nil)

	index := map[string]int32{}
	var pieces []string
	var freq []int
	size, start := 0, 0
	for _, end := range ends {
		s := text[start:end]
		start = end
		if len(s) < 2 {
			continue // no pair: nothing to learn from a single byte
		}
		if w, ok := index[s]; ok {
			freq[w]++
			continue
		}
		index[s] = int32(len(pieces))
		pieces = append(pieces, s)
		freq = append(freq, 1)
		size += len(s)
	}

	// One backing array for all words: merges only shorten them, in place.
	arena := make([]int32, size)
	l.words = make([][]int32, 0, len(pieces))
	l.visited = make([]int, 0, len(pieces))
	off := 0
	for wi, s := range pieces {
		w := arena[off : off+len(s) : off+len(s)]
		off += len(s)
		for i := 0; i < len(s); i++ {
			w[i] = int32(s[i]) // byte b's symbol is token b
		}
		l.addWord(w, freq[wi])
	}
	l.flush()
}

// addWord adds a word of symbol ids that occurs f times and queues its
// pairs; flush applies them. The learner keeps w and rewrites it.
func (l *learner) addWord(w []int32, f int) {
	wi := int32(len(l.words))
	l.words = append(l.words, w)
	l.visited = append(l.visited, 0)
	l.freq = append(l.freq, f)
	for i := 1; i < len(w); i++ {
		l.add(w[i-1], w[i], wi, f)
	}
}

// best returns the most frequent pair and its count; a count of 0 when
// no pair is left.
func (l *learner) best() (p int32, n int) {
	for len(l.heap) > 0 {
		e := l.pop()
		if e.n == l.pairs[e.p].count {
			return e.p, e.n
		}
	}
	return -1, 0
}

// merge replaces pair p by its concatenation in every word that holds
// it and reports whether the concatenation is a new token.
func (l *learner) merge(p int32) (added bool) {
	a, b := l.pairs[p].a, l.pairs[p].b
	m, added := l.intern(l.tokens[a] + l.tokens[b])
	// Rewriting words never appends to p's own list: every pair it adds
	// holds m, which is longer than a and b and so is neither of them.
	for _, wi := range l.pairs[p].where {
		if l.visited[wi] == l.stamp {
			continue
		}
		l.visited[wi] = l.stamp
		l.rewrite(wi, a, b, m)
	}
	l.flush()
	return added
}

// rewrite merges every occurrence of (a, b) in word wi into m, left to
// right, recording for each one the pairs it removes and creates with
// the current neighbours: the one to the left is already rewritten, the
// one to the right not yet. That is exact for overlapping runs too:
// "aaaa" loses three (a, a) and gains one (aa, aa).
func (l *learner) rewrite(wi int32, a, b, m int32) {
	w, f := l.words[wi], l.freq[wi]
	out := 0
	for i := 0; i < len(w); {
		if i+1 < len(w) && w[i] == a && w[i+1] == b {
			if out > 0 {
				left := w[out-1]
				l.add(left, a, wi, -f)
				l.add(left, m, wi, f)
			}
			l.add(a, b, wi, -f)
			if i+2 < len(w) {
				right := w[i+2]
				l.add(b, right, wi, -f)
				l.add(m, right, wi, f)
			}
			w[out] = m
			out++
			i += 2
			continue
		}
		w[out] = w[i]
		out++
		i++
	}
	l.words[wi] = w[:out]
}

// add records that word wi gains (n > 0) or loses (n < 0) |n| weighted
// occurrences of the pair (a, b); flush applies the batch.
func (l *learner) add(a, b, wi int32, n int) {
	key := pairKey(a, b)
	p, ok := l.pairID[key]
	if !ok {
		p = int32(len(l.pairs))
		l.pairID[key] = p
		l.pairs = append(l.pairs, learnPair{a: a, b: b})
	}
	lp := &l.pairs[p]
	lp.delta += n
	if lp.mark != l.stamp {
		lp.mark = l.stamp
		l.changed = append(l.changed, p)
	}
	if n > 0 && (len(lp.where) == 0 || lp.where[len(lp.where)-1] != wi) {
		lp.where = append(lp.where, wi)
	}
}

// flush applies the batch's count changes and queues the new counts.
func (l *learner) flush() {
	for _, p := range l.changed {
		lp := &l.pairs[p]
		if lp.delta == 0 {
			continue
		}
		lp.count += lp.delta
		lp.delta = 0
		if lp.count == 0 {
			lp.where = nil // no word holds it: forget the list
			continue
		}
		l.push(learnEntry{n: lp.count, p: p})
	}
	l.changed = l.changed[:0]
	l.stamp++
}

// before orders the heap: higher count first, then the smaller first
// symbol, then the smaller second symbol, compared as strings.
func (l *learner) before(x, y learnEntry) bool {
	if x.n != y.n {
		return x.n > y.n
	}
	px, py := &l.pairs[x.p], &l.pairs[y.p]
	if c := strings.Compare(l.tokens[px.a], l.tokens[py.a]); c != 0 {
		return c < 0
	}
	return l.tokens[px.b] < l.tokens[py.b]
}

func (l *learner) push(e learnEntry) {
	l.heap = append(l.heap, e)
	h := l.heap
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !l.before(h[i], h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (l *learner) pop() learnEntry {
	h := l.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		left, right, m := 2*i+1, 2*i+2, i
		if left < len(h) && l.before(h[left], h[m]) {
			m = left
		}
		if right < len(h) && l.before(h[right], h[m]) {
			m = right
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	l.heap = h
	return top
}
