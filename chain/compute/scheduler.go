package compute

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"sort"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// indexKey orders a class's providers by price, then by reputation
// bucket, best first (reputation.go).
func indexKey(p *Provider) []byte {
	c := ClassOf(p.Profile)
	return store.Key(prefixIndex, c[:], store.BE64(uint64(p.Price)), []byte{255 - p.Rep.Bucket}, p.Address[:])
}

func classKey(c []byte) []byte { return store.Key(prefixClasses, c) }

func addClassCount(kv store.KV, class []byte, delta int) {
	k := classKey(class)
	var n uint64
	if b := kv.Get(k); b != nil {
		r := codec.NewReader(b)
		n = r.Uvarint()
	}
	n = uint64(int64(n) + int64(delta))
	if n == 0 {
		kv.Delete(k)
		return
	}
	w := codec.NewWriter(10)
	w.Uvarint(n)
	kv.Set(k, w.Bytes())
}

// available reports whether a provider should be in the index: it takes
// work, its lease is live and it has a free slot. Its stake is checked
// when it is picked.
func available(p *Provider, h int64) bool {
	return !p.Retired && p.Lease > h && p.Active < p.Slots
}

// reindex puts p where it belongs in the scheduler's index. The caller
// stores p afterwards.
func reindex(kv store.KV, p *Provider, h int64) {
	var want []byte
	if available(p, h) {
		want = indexKey(p)
	}
	if bytes.Equal(want, p.Indexed) {
		return
	}
	if p.Indexed != nil {
		kv.Delete(p.Indexed)
		addClassCount(kv, p.Indexed[len(prefixIndex):len(prefixIndex)+4], -1)
	}
	if want != nil {
		kv.Set(want, []byte{})
		addClassCount(kv, want[len(prefixIndex):len(prefixIndex)+4], +1)
	}
	p.Indexed = want
}

// matcher picks providers for one block's jobs. It remembers the price
// and reputation at the head of each class's index, so that ranking the
// classes for a job costs no seeks; a class's head is read again after an
// assignment or a retirement touched it.
type matcher struct {
	k       Keeper
	ctx     exec.Ctx
	params  Params
	classes []Class
	heads   map[Class]head
}

// head is the cheapest offer of a class; empty when the class has none.
type head struct {
	group []byte // the index prefix of the offer's price and reputation
	price types.Amount
	rep   byte
	empty bool
}

func (k Keeper) newMatcher(ctx exec.Ctx, p Params) *matcher {
	m := &matcher{k: k, ctx: ctx, params: p, heads: map[Class]head{}}
	for _, kv := range store.Collect(ctx.KV, prefixClasses) {
		var c Class
		copy(c[:], kv.Key[len(prefixClasses):])
		m.classes = append(m.classes, c)
	}
	return m
}

// affordable reports whether a provider's price fits a job's maximum.
func (m *matcher) affordable(j *Job, price types.Amount) bool {
	c, err := Cost(j.GasLimit, price, m.params.GasPerCU)
	if err != nil {
		return false
	}
	total, err := c.Add(m.params.FeeAllowance)
	return err == nil && total <= j.MaxPrice
}

type candidate struct {
	p     *Provider
	price types.Amount
	rep   byte
}

// headOf returns a class's cheapest offer, reading it once.
func (m *matcher) headOf(c Class) head {
	if h, ok := m.heads[c]; ok {
		return h
	}
	prefix := store.Key(prefixIndex, c[:])
	h := head{empty: true}
	if first := firstKey(m.ctx.KV, prefix, store.PrefixEnd(prefix)); first != nil {
		g := first[:len(prefix)+9]
		h = head{group: g, price: types.Amount(binary.BigEndian.Uint64(g[len(prefix):])), rep: g[len(g)-1]}
	}
	m.heads[c] = h
	return h
}

// touched forgets a class's head after its index changed.
func (m *matcher) touched(c Class) { delete(m.heads, c) }

// match returns the provider for a job, or nil: the cheapest eligible
// provider of any class that serves the job. Classes are tried in order of
// their heads' offers; usually the first gives the provider.
func (m *matcher) match(j *Job) *Provider {
	need := ClassNeeded(j.Req)
	var cands []Class
	for _, c := range m.classes {
		if c.Serves(need) && !m.headOf(c).empty && m.affordable(j, m.headOf(c).price) {
			cands = append(cands, c)
		}
	}
	sort.Slice(cands, func(a, b int) bool {
		ha, hb := m.heads[cands[a]], m.heads[cands[b]]
		if ha.price != hb.price {
			return ha.price < hb.price
		}
		if ha.rep != hb.rep {
			return ha.rep < hb.rep
		}
		return bytes.Compare(cands[a][:], cands[b][:]) < 0
	})
	var best *candidate
	for _, c := range cands {
		h := m.heads[c]
		if best != nil && (h.price > best.price || (h.price == best.price && h.rep >= best.rep)) {
			break // no later class can beat what we have
		}
		cand := m.cheapestIn(c, j)
		if cand == nil {
			continue
		}
		if best == nil || cand.price < best.price || (cand.price == best.price && cand.rep < best.rep) {
			best = cand
		}
	}
	if best == nil {
		return nil
	}
	return best.p
}

// cheapestIn finds the cheapest eligible provider of a class. Within the
// cheapest group of equal price and reputation it starts at a point drawn
// from the block hash and the job, so equal offers share the work.
func (m *matcher) cheapestIn(c Class, j *Job) *candidate {
	prefix := store.Key(prefixIndex, c[:])
	end := store.PrefixEnd(prefix)
	seed := sha256.Sum256(store.Key([]byte("mycel/schedule/v1"), m.ctx.Block.LastBlockHash, store.BE64(j.ID), c[:]))
	from := prefix
	for {
		first := firstKey(m.ctx.KV, from, end)
		if first == nil {
			return nil
		}
		group := first[:len(prefix)+9] // price and reputation
		price := types.Amount(binary.BigEndian.Uint64(group[len(prefix):]))
		if !m.affordable(j, price) {
			return nil // prices only rise from here
		}
		// Look at up to tieWindow eligible providers from a random point
		// of the group (wrapping round) and take the one whose address
		// hashes lowest with the seed: neither the order of addresses nor
		// the gaps between them decide who gets the work.
		start := store.Key(group, seed[:types.AddressLen])
		window := m.scan(start, store.PrefixEnd(group), j, tieWindow)
		if len(window) < tieWindow {
			window = append(window, m.scan(group, start, j, tieWindow-len(window))...)
		}
		if len(window) > 0 {
			best, bestH := window[0], tieHash(seed, window[0].Address)
			for _, p := range window[1:] {
				if h := tieHash(seed, p.Address); bytes.Compare(h[:], bestH[:]) < 0 {
					best, bestH = p, h
				}
			}
			return &candidate{p: best, price: price, rep: group[len(group)-1]}
		}
		from = store.PrefixEnd(group)
	}
}

func firstKey(r store.Reader, from, to []byte) []byte {
	it := r.Iterator(from, to)
	defer it.Close()
	if !it.Valid() {
		return nil
	}
	return append([]byte(nil), it.Key()...)
}

// tieWindow is how many equal offers a tie break looks at.
const tieWindow = 16

func tieHash(seed [32]byte, a types.Address) [32]byte {
	return sha256.Sum256(store.Key(seed[:], a[:]))
}

// scan returns up to n eligible providers in [from, to), dropping from
// the index any whose stake no longer qualifies.
func (m *matcher) scan(from, to []byte, j *Job, n int) []*Provider {
	var stale []types.Address
	defer func() {
		for _, a := range stale {
			p := GetProvider(m.ctx.KV, a)
			m.touched(ClassOf(p.Profile))
			p.Retired = true
			reindex(m.ctx.KV, p, m.ctx.Block.Height)
			setProvider(m.ctx.KV, p)
			m.ctx.Emit(types.NewEvent("provider_retired", "provider", a.String(), "reason", "provider stake below the minimum or jailed"))
		}
	}()
	var out []*Provider
	it := m.ctx.KV.Iterator(from, to)
	defer it.Close()
	for ; it.Valid() && len(out) < n; it.Next() {
		var a types.Address
		copy(a[:], it.Key()[len(it.Key())-types.AddressLen:])
		if excluded(j, a) {
			continue
		}
		bond, jailed := m.k.Stake.ProviderBond(m.ctx.KV, a)
		if jailed || bond < m.params.MinProviderStake {
			stale = append(stale, a)
			continue
		}
		p := GetProvider(m.ctx.KV, a)
		if j.Lock > 0 && bond < p.Locked+j.Lock {
			continue // not enough free stake for what this job locks
		}
		if !p.Profile.Runs(j.Runtime) {
			continue // it does not run the executor version the job names
		}
		out = append(out, p)
	}
	return out
}

func excluded(j *Job, a types.Address) bool {
	for _, x := range j.Excluded {
		if x == a {
			return true
		}
	}
	return false
}
