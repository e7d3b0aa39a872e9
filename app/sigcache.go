package app

import (
	"sync"

	"github.com/mycelnet/mycel/types"
)

// sigCache remembers transactions whose signature verified, by the hash of
// their whole encoding (signature included), so CheckTx, rechecks and
// FinalizeBlock verify each signature once. It has two generations: when
// the young one fills, the old one is dropped, which bounds memory without
// bookkeeping per entry.
type sigCache struct {
	mu         sync.Mutex
	young, old map[types.Hash]struct{}
	max        int
}

func newSigCache(max int) *sigCache {
	return &sigCache{young: map[types.Hash]struct{}{}, old: map[types.Hash]struct{}{}, max: max}
}

func (c *sigCache) has(h types.Hash) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.young[h]; ok {
		return true
	}
	_, ok := c.old[h]
	return ok
}

func (c *sigCache) add(h types.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.young) >= c.max {
		c.old = c.young
		c.young = make(map[types.Hash]struct{}, c.max)
	}
	c.young[h] = struct{}{}
}

// forget drops entries of transactions that are now in a block: their
// sequence is used, so they will not be checked again.
func (c *sigCache) forget(hs []types.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range hs {
		delete(c.young, h)
		delete(c.old, h)
	}
}
