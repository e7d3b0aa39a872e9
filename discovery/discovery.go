// Package discovery is a node's index of the listed agents, built from
// the chain's agent registry (agent.ChangedSince): find agents by skill,
// by tag and by free text, ranked by a documented score of deposit,
// reputation, price and match, a page at a time. Every node that has
// caught up to the same height gives the same answer, because the index
// reads only chain state (the card summary each registration carries),
// never the cards.
//
// # Matching
//
// Skill and tag filters match a skill id or a tag exactly, ignoring case.
// Free text is split into tokens (lower case, letters and digits, at least
// two characters; at most eight are used) and each token is looked for in
// the agent's name, its skills (ids, names and tags) and its description.
// An agent matches if any token does.
//
// # Ranking
//
// All in integer parts per million:
//
//	match   = Σ over query tokens of the best field it hits (name 3, skill 2,
//	          description 1) / (3 × tokens)          (1 without free text)
//	deposit = deposit / (deposit + 100 MYC)
//	price   = 1 MYC / (price + 1 MYC)
//	quality = (5·reputation + 3·deposit + 2·price) / 10
//	score   = match × quality
//
// Results come by score, highest first, ties by lower id. Reputation
// (agent.Reputation) weighs most: it is earned by paid ratings. The
// deposit saturates (100 MYC scores one half, 1,000 MYC 0.91), so money
// alone cannot buy the top; a cheaper agent ranks higher at equal quality.
package discovery

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/types"
)

// Ranking constants (see the package comment).
const (
	DepositScale = types.Amount(100 * types.UnitsPerMYC)
	PriceScale   = types.Amount(types.UnitsPerMYC)
	// MaxTokens is how many tokens of free text count.
	MaxTokens = 8
	// DefaultLimit and MaxLimit bound a page.
	DefaultLimit = 20
	MaxLimit     = 1000
)

const ppm = types.FractionOne

// Field weights of a token hit.
const (
	weightDescription = 1
	weightSkill       = 2
	weightName        = 3
)

// Errors of a query the index cannot answer.
var (
	// ErrBadCursor is a page cursor that names no agent of the listing.
	ErrBadCursor = errors.New("bad cursor")
	// ErrBadQuery is a query with nothing to look for.
	ErrBadQuery = errors.New("bad query")
)

// Query asks for agents.
type Query struct {
	// Skill and Tag keep only agents with a skill of this id or this tag
	// (case ignored).
	Skill string
	Tag   string
	// Text is free text matched against names, skills and descriptions.
	Text string
	// After is the id of the last agent of the previous page (Page.Next);
	// 0 for the first page.
	After uint64
	Limit int
}

// Result is a listed agent with its rank.
type Result struct {
	agent.Info
	// Score is the agent's rank for the query; Match its match part; both
	// in parts per million.
	Score uint32 `json:"score"`
	Match uint32 `json:"match"`
}

// Page is a page of results.
type Page struct {
	Agents []Result `json:"agents"`
	// Next is the cursor of the next page (pass it as after); 0 at the
	// end.
	Next uint64 `json:"next,string,omitempty"`
	// Matched counts all the agents the query matches.
	Matched int `json:"matched"`
	// Height is the chain height the index reflects (absent from the
	// registry's plain listings).
	Height int64 `json:"height,omitempty"`
}

type doc struct {
	info    agent.Info
	quality uint32
	alive   bool
}

// Index is the index. It is safe for concurrent use: one writer (Apply)
// and many readers.
type Index struct {
	mu     sync.RWMutex
	height int64
	params agent.Params
	epoch  int64
	docs   []doc
	byID   map[uint64]int32
	dead   int
	// Postings: token or key to the docs that have it, in doc order.
	name, skill, desc map[string][]int32
	skillID, tag      map[string][]int32
	scratch           sync.Pool
}

// New returns an empty index at height 0.
func New() *Index {
	x := &Index{}
	x.reset()
	return x
}

func (x *Index) reset() {
	x.docs, x.byID, x.dead = nil, map[uint64]int32{}, 0
	x.name, x.skill, x.desc = map[string][]int32{}, map[string][]int32{}, map[string][]int32{}
	x.skillID, x.tag = map[string][]int32{}, map[string][]int32{}
}

// Height returns the chain height the index reflects.
func (x *Index) Height() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.height
}

// Len returns the number of agents listed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}

// Apply brings the index to height h: changed are the agents changed
// since the index's height (agent.ChangedSince), p the registry's rules.
// Agents that are no longer listed (expired, deregistered) leave the
// index; reputations are recomputed when a reputation epoch passes.
func (x *Index) Apply(changed []*agent.Agent, h int64, p agent.Params) {
	x.mu.Lock()
	defer x.mu.Unlock()
	rescore := p != x.params || (p.RatingEpochBlocks > 0 && h/p.RatingEpochBlocks != x.epoch)
	x.height, x.params = h, p
	if p.RatingEpochBlocks > 0 {
		x.epoch = h / p.RatingEpochBlocks
	}
	for _, a := range changed {
		if i, ok := x.byID[a.ID]; ok {
			x.docs[i].alive = false
			delete(x.byID, a.ID)
			x.dead++
		}
		if a.Listed(h) {
			x.add(a)
		}
	}
	if rescore {
		for i := range x.docs {
			if x.docs[i].alive {
				x.docs[i].info = agent.InfoOf(x.docs[i].info.Agent, h, p)
				x.docs[i].quality = quality(x.docs[i].info)
			}
		}
	}
	if x.dead > 1024 && x.dead > len(x.byID) {
		x.compact()
	}
}

// add appends a doc for a listed agent and its postings.
func (x *Index) add(a *agent.Agent) {
	i := int32(len(x.docs))
	info := agent.InfoOf(a, x.height, x.params)
	x.docs = append(x.docs, doc{info: info, quality: quality(info), alive: true})
	x.byID[a.ID] = i
	post := func(m map[string][]int32, key string) {
		if l := m[key]; len(l) == 0 || l[len(l)-1] != i {
			m[key] = append(l, i)
		}
	}
	for _, t := range Tokens(a.Name) {
		post(x.name, t)
	}
	for _, t := range Tokens(a.Description) {
		post(x.desc, t)
	}
	for _, s := range a.Skills {
		post(x.skillID, strings.ToLower(s.ID))
		for _, t := range Tokens(s.ID + " " + s.Name + " " + strings.Join(s.Tags, " ")) {
			post(x.skill, t)
		}
		for _, t := range s.Tags {
			post(x.tag, strings.ToLower(t))
		}
	}
}

// compact rebuilds the postings without the dead docs.
func (x *Index) compact() {
	old := x.docs
	x.reset()
	for _, d := range old {
		if d.alive {
			x.add(d.info.Agent)
		}
	}
}

// quality is the query-independent part of the score.
func quality(in agent.Info) uint32 {
	dep := muldiv(uint64(in.Deposit), ppm, uint64(in.Deposit)+uint64(DepositScale))
	price := muldiv(uint64(PriceScale), ppm, uint64(in.Price)+uint64(PriceScale))
	if in.Price > types.MaxAmount-PriceScale {
		price = 0
	}
	if in.Deposit > types.MaxAmount-DepositScale {
		dep = ppm
	}
	return uint32((5*uint64(in.Reputation) + 3*dep + 2*price) / 10)
}

// Quality is the part of an agent's score that does not depend on the
// query (reputation, deposit, price), in parts per million.
func Quality(in agent.Info) uint32 { return quality(in) }

// Score is the score and the match part of an agent of quality q for a
// query of ntok free-text tokens whose best fields add up to hits (Hits);
// ntok 0 is a query without free text (match 1). Both in parts per
// million: what Search ranks by.
func Score(hits, ntok int, q uint32) (score, match uint32) {
	m := uint64(ppm)
	if ntok > 0 {
		m = uint64(hits) * ppm / (weightName * uint64(ntok))
	}
	return uint32(m * uint64(q) / ppm), uint32(m)
}

// Hits adds up, over the query tokens toks, the weight of the best field
// each is in (name 3, skill 2, description 1; 0 for none), given the
// Tokens of an agent's name, of its skills' ids, names and tags, and of
// its description: what Search reads from its postings, for a caller that
// matches agents one at a time.
func Hits(toks, name, skill, desc []string) int {
	n := 0
	for _, t := range toks {
		switch {
		case slices.Contains(name, t):
			n += weightName
		case slices.Contains(skill, t):
			n += weightSkill
		case slices.Contains(desc, t):
			n += weightDescription
		}
	}
	return n
}

// muldiv is floor(a·b/d), 0 for d = 0.
func muldiv(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if d == 0 || hi >= d {
		return 0
	}
	q, _ := bits.Div64(hi, lo, d)
	return q
}

// Tokens splits text into lower-case tokens of letters and digits, at
// least two characters long, each once, in order.
func Tokens(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if utf8.RuneCountInString(f) >= 2 && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

type scratch struct {
	total []uint16
	best  []uint8
	hit   []int32
}

type ranked struct {
	doc   int32
	id    uint64
	score uint32
	match uint32
}

// better orders results: higher score first, then lower id.
func better(a, b ranked) bool { return a.score > b.score || a.score == b.score && a.id < b.id }

// Search answers a query.
func (x *Index) Search(q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	q.Limit = min(q.Limit, MaxLimit)
	skill, tag := strings.ToLower(strings.TrimSpace(q.Skill)), strings.ToLower(strings.TrimSpace(q.Tag))
	toks := Tokens(q.Text)
	if len(toks) > MaxTokens {
		toks = toks[:MaxTokens]
	}
	if strings.TrimSpace(q.Text) != "" && len(toks) == 0 {
		return Page{}, fmt.Errorf("%w: q=%q has no word of two or more letters or digits to look for", ErrBadQuery, q.Text)
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	page := Page{Agents: []Result{}, Height: x.height}

	// The filter: docs with the skill and the tag asked for.
	var filter []int32
	filtered := skill != "" || tag != ""
	switch {
	case skill != "" && tag != "":
		filter = intersect(x.skillID[skill], x.tag[tag])
	case skill != "":
		filter = x.skillID[skill]
	case tag != "":
		filter = x.tag[tag]
	}

	var sc *scratch
	if len(toks) > 0 {
		sc = x.matchText(toks, filter, filtered)
		defer func() {
			for _, i := range sc.hit {
				sc.total[i] = 0
			}
			sc.hit = sc.hit[:0]
			x.scratch.Put(sc)
		}()
	}
	score := func(i int32) (ranked, bool) {
		d := &x.docs[i]
		if !d.alive {
			return ranked{}, false
		}
		hits, ntok := 0, 0
		if sc != nil {
			if sc.total[i] == 0 {
				return ranked{}, false
			}
			hits, ntok = int(sc.total[i]), len(toks)
		}
		s, m := Score(hits, ntok, d.quality)
		return ranked{doc: i, id: d.info.ID, match: m, score: s}, true
	}

	var cursor *ranked
	if q.After != 0 {
		i, ok := x.byID[q.After]
		if !ok {
			return page, fmt.Errorf("%w: after=%d: agent %d is not listed (any more); start from the first page", ErrBadCursor, q.After, q.After)
		}
		r, ok := score(i)
		if ok && filtered {
			ok = contains(filter, i)
		}
		if !ok {
			return page, fmt.Errorf("%w: after=%d: agent %d does not match this query; pass the next cursor of the previous page", ErrBadCursor, q.After, q.After)
		}
		cursor = &r
	}

	// Keep the best Limit+1 results after the cursor (one more tells
	// whether a next page exists).
	top := make([]ranked, 0, q.Limit+1)
	consider := func(i int32) {
		r, ok := score(i)
		if !ok {
			return
		}
		page.Matched++
		if cursor != nil && !better(*cursor, r) {
			return
		}
		push(&top, r, q.Limit+1)
	}
	switch {
	case sc != nil:
		for _, i := range sc.hit {
			consider(i)
		}
	case filtered:
		for _, i := range filter {
			consider(i)
		}
	default:
		for i := range x.docs {
			consider(int32(i))
		}
	}
	slices.SortFunc(top, func(a, b ranked) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	if len(top) > q.Limit {
		top = top[:q.Limit]
		page.Next = top[len(top)-1].id
	}
	for _, r := range top {
		page.Agents = append(page.Agents, Result{Info: x.docs[r.doc].info, Score: r.score, Match: r.match})
	}
	return page, nil
}

// matchText adds up, per doc, the best field weight of each token, for
// the docs that pass the filter. The caller clears total for the docs in
// hit and returns the scratch to the pool.
func (x *Index) matchText(toks []string, filter []int32, filtered bool) *scratch {
	sc, _ := x.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if n := len(x.docs); len(sc.total) < n {
		sc.total, sc.best = make([]uint16, n+n/4), make([]uint8, n+n/4)
	}
	var tokHit []int32
	for _, t := range toks {
		for _, f := range []struct {
			m map[string][]int32
			w uint8
		}{{x.desc, weightDescription}, {x.skill, weightSkill}, {x.name, weightName}} {
			for _, i := range f.m[t] {
				if sc.best[i] == 0 {
					tokHit = append(tokHit, i)
				}
				sc.best[i] = max(sc.best[i], f.w)
			}
		}
		for _, i := range tokHit {
			if sc.total[i] == 0 && (!filtered || contains(filter, i)) {
				sc.hit = append(sc.hit, i)
			}
			if !filtered || contains(filter, i) {
				sc.total[i] += uint16(sc.best[i])
			}
			sc.best[i] = 0
		}
		tokHit = tokHit[:0]
	}
	return sc
}

// contains reports whether sorted l holds i.
func contains(l []int32, i int32) bool {
	_, ok := slices.BinarySearch(l, i)
	return ok
}

// intersect returns the docs in both sorted lists.
func intersect(a, b []int32) []int32 {
	var out []int32
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] == b[0]:
			out = append(out, a[0])
			a, b = a[1:], b[1:]
		case a[0] < b[0]:
			a = a[1:]
		default:
			b = b[1:]
		}
	}
	return out
}

// push adds r to a bounded min-heap of the k best (the worst at the
// root).
func push(h *[]ranked, r ranked, k int) {
	s := *h
	if len(s) < k {
		s = append(s, r)
		for i := len(s) - 1; i > 0; {
			p := (i - 1) / 2
			if !better(s[p], s[i]) {
				break
			}
			s[p], s[i] = s[i], s[p]
			i = p
		}
		*h = s
		return
	}
	if !better(r, s[0]) {
		return
	}
	s[0] = r
	for i := 0; ; {
		l, rr, w := 2*i+1, 2*i+2, i
		if l < len(s) && better(s[w], s[l]) {
			w = l
		}
		if rr < len(s) && better(s[w], s[rr]) {
			w = rr
		}
		if w == i {
			break
		}
		s[i], s[w] = s[w], s[i]
		i = w
	}
}
