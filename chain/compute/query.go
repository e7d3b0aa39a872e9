package compute

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Providers lists registered providers in address order, after a cursor
// (zero for the start), at most limit of them.
func Providers(r store.Reader, after types.Address, limit int) []*Provider {
	from := prefixProvider
	if !after.IsZero() {
		from = store.PrefixEnd(providerKey(after))
	}
	var out []*Provider
	it := r.Iterator(from, store.PrefixEnd(prefixProvider))
	defer it.Close()
	for ; it.Valid() && len(out) < limit; it.Next() {
		var a types.Address
		copy(a[:], it.Key()[len(prefixProvider):])
		out = append(out, decodeProvider(a, it.Value()))
	}
	return out
}

// JobFilter narrows a job listing.
type JobFilter struct {
	Client   *types.Address
	Provider *types.Address // open jobs assigned to it
	State    State          // 0 for any
	After    uint64         // job id cursor
	Limit    int
}

// Jobs lists jobs in id order.
func Jobs(r store.Reader, f JobFilter) []*Job {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []*Job
	add := func(id uint64) bool {
		j := GetJob(r, id)
		if j == nil {
			panic(fmt.Errorf("compute: index names missing job %d", id))
		}
		if f.State == 0 || j.State == f.State {
			out = append(out, j)
		}
		return len(out) < f.Limit
	}
	var prefix []byte
	switch {
	case f.Client != nil:
		prefix = store.Key(prefixByClient, f.Client[:])
	case f.Provider != nil:
		prefix = store.Key(prefixByProv, f.Provider[:])
	default:
		prefix = prefixJob
	}
	it := r.Iterator(store.Key(prefix, store.BE64(f.After+1)), store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !add(idAfterPrefix(prefix, it.Key())) {
			break
		}
	}
	return out
}

func idAfterPrefix(prefix, key []byte) uint64 {
	b := key[len(prefix):]
	if len(b) != 8 {
		panic(fmt.Errorf("compute: corrupt key %x", key))
	}
	return workOf(b)
}

// RevealedJobs lists the jobs whose outputs wait for validators to attest
// that they can be fetched, with their output hashes.
func RevealedJobs(r store.Reader, limit int) []*Job {
	var out []*Job
	it := r.Iterator(prefixRevealed, store.PrefixEnd(prefixRevealed))
	defer it.Close()
	for ; it.Valid() && len(out) < limit; it.Next() {
		if j := GetJob(r, idAfterPrefix(prefixRevealed, it.Key())); j != nil {
			out = append(out, j)
		}
	}
	return out
}

// CheckInvariant verifies that the escrow account holds exactly what the
// unfinished jobs escrow, and that each provider's active count matches
// its open jobs.
func CheckInvariant(r store.Reader, b Bank) error {
	var sum types.Amount
	active := map[types.Address]uint32{}
	locked := map[types.Address]types.Amount{}
	it := r.Iterator(prefixJob, store.PrefixEnd(prefixJob))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		j := decodeJob(idAfterPrefix(prefixJob, it.Key()), it.Value())
		if j.State.Finished() {
			if j.Escrow != 0 {
				return fmt.Errorf("finished job %d still escrows %s", j.ID, j.Escrow)
			}
			continue
		}
		sum += j.Escrow
		if j.holdsSlot() {
			active[j.Provider]++
		}
		if j.State != Queued {
			locked[j.Provider] += j.Lock
		}
	}
	git := r.Iterator(prefixGroup, store.PrefixEnd(prefixGroup))
	defer git.Close()
	for ; git.Valid(); git.Next() {
		g := decodeGroup(idAfterPrefix(prefixGroup, git.Key()), git.Value())
		if g.Finished() && g.Budget+g.Bond != 0 {
			return fmt.Errorf("finished verification group %d still holds %s", g.ID, g.Budget+g.Bond)
		}
		sum += g.Budget + g.Bond
	}
	if got := b.Balance(r, Escrow); got != sum {
		return fmt.Errorf("escrow account holds %d umyc, unfinished jobs, audit budgets and challenge bonds %d", got, sum)
	}
	for _, p := range Providers(r, types.Address{}, 1<<30) {
		if p.Active != active[p.Address] {
			return fmt.Errorf("provider %s counts %d active jobs, %d are assigned to it", p.Address, p.Active, active[p.Address])
		}
		if p.Locked != locked[p.Address] {
			return fmt.Errorf("provider %s counts %s of locked stake, its open runs lock %s", p.Address, p.Locked, locked[p.Address])
		}
	}
	return nil
}

// OpenJobs lists the jobs not yet finished: queued, or assigned to a
// provider.
func OpenJobs(r store.Reader) []*Job {
	var out []*Job
	for _, kv := range store.Collect(r, prefixQueue) {
		if j := GetJob(r, idAfter(prefixQueue, kv.Key)); j != nil {
			out = append(out, j)
		}
	}
	for _, kv := range store.Collect(r, prefixByProv) {
		if j := GetJob(r, workOf(kv.Key[len(kv.Key)-8:])); j != nil {
			out = append(out, j)
		}
	}
	return out
}
