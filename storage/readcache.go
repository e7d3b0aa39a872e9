package storage

import "sync"

// readCache keeps recently read committed values (and absences) in memory:
// accounts, balances and parameters are read by every transaction. Commit
// writes its changes through, so the cache never shows older state than
// the database; a read that raced with a commit is not cached.
type readCache struct {
	mu        sync.Mutex
	gen       uint64 // bumped by every commit
	hot, cold map[string]cached
	max       int
}

type cached struct {
	value  []byte
	absent bool
}

func newReadCache(max int) *readCache {
	return &readCache{hot: map[string]cached{}, cold: map[string]cached{}, max: max}
}

func (c *readCache) get(key []byte) (cached, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.hot[string(key)]; ok {
		return v, c.gen, true
	}
	if v, ok := c.cold[string(key)]; ok {
		c.putLocked(string(key), v)
		return v, c.gen, true
	}
	return cached{}, c.gen, false
}

// fill caches a value read from the database at generation gen.
func (c *readCache) fill(key []byte, value []byte, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.putLocked(string(key), cached{value: value, absent: value == nil})
}

func (c *readCache) putLocked(k string, v cached) {
	if len(c.hot) >= c.max/2 {
		c.cold, c.hot = c.hot, make(map[string]cached, c.max/2)
	}
	c.hot[k] = v
}

// commit writes a block's changes through.
func (c *readCache) commit(apply func(put func(key, value []byte))) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	apply(func(key, value []byte) {
		k := string(key)
		delete(c.cold, k)
		c.putLocked(k, cached{value: value, absent: value == nil})
	})
}
