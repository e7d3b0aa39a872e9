// Package exec defines what a state transition sees: the state to read and
// write, the block it runs in, and where to put the events it emits. The
// application gives each transaction a branch of the block's state, so a
// failed transaction leaves neither writes nor events behind.
package exec

import (
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Ctx is the context of one state transition.
type Ctx struct {
	KV     store.KV
	Block  types.Block
	events *[]types.Event
}

// New returns a context over kv for a block.
func New(kv store.KV, block types.Block) Ctx {
	return Ctx{KV: kv, Block: block, events: new([]types.Event)}
}

// Emit records an event.
func (c Ctx) Emit(e types.Event) { *c.events = append(*c.events, e) }

// Events returns the events emitted so far.
func (c Ctx) Events() []types.Event { return *c.events }

// Branch returns a context whose writes and events stay apart until
// Commit is called on the returned Branch.
func (c Ctx) Branch() (Ctx, *Branch) {
	cache := store.NewCache(c.KV)
	b := Ctx{KV: cache, Block: c.Block, events: new([]types.Event)}
	return b, &Branch{parent: c, cache: cache, events: b.events}
}

// Branch holds a branched context's writes and events.
type Branch struct {
	parent Ctx
	cache  *store.Cache
	events *[]types.Event
}

// Commit applies the branch's writes and events to its parent.
func (b *Branch) Commit() {
	b.cache.WriteTo(b.parent.KV)
	*b.parent.events = append(*b.parent.events, *b.events...)
}
