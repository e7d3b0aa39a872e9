package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	registry "github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/types"
)

// directory reads registered agents and their cards through the node,
// with a short cache: a sender's key is checked for every request. Cards
// are checked against the hash the chain holds (client.AgentCard), so a
// node cannot swap an agent's encryption key.
type directory struct {
	node  *client.Client
	mu    sync.Mutex
	seen  map[uint64]cached
	cards map[uint64]cachedCard
}

// cachedCard is a card read, valid while the registry names its hash.
type cachedCard struct {
	hash types.Hash
	card *a2a.Card
	info agentmsg.CardInfo
}

type cached struct {
	info registry.Info
	at   time.Time
}

// cacheFor is how long a read agent record is trusted. A transfer that
// revokes a signing key takes at most this long to reach a receiver that
// saw the old key just before.
const cacheFor = 15 * time.Second

func newDirectory(node *client.Client) *directory {
	return &directory{node: node, seen: map[uint64]cached{}, cards: map[uint64]cachedCard{}}
}

// info reads an agent's record, from the cache if fresh and not asked
// for a fresh one.
func (d *directory) info(ctx context.Context, id uint64, fresh bool) (registry.Info, error) {
	d.mu.Lock()
	c, ok := d.seen[id]
	d.mu.Unlock()
	if ok && !fresh && time.Since(c.at) < cacheFor {
		return c.info, nil
	}
	info, err := d.node.Agent(ctx, id)
	if err != nil {
		return info, err
	}
	if info.Agent == nil {
		return info, fmt.Errorf("agent %d: the node answered no record", id)
	}
	d.mu.Lock()
	d.seen[id] = cached{info: info, at: time.Now()}
	d.mu.Unlock()
	return info, nil
}

// card reads an agent's registered card and its messaging extension,
// from the cache while the registry (as last read) names the same card.
func (d *directory) card(ctx context.Context, id uint64) (*a2a.Card, agentmsg.CardInfo, error) {
	rec, err := d.info(ctx, id, false)
	if err != nil {
		return nil, agentmsg.CardInfo{}, err
	}
	d.mu.Lock()
	cc, ok := d.cards[id]
	d.mu.Unlock()
	if ok && cc.hash == rec.CardHash {
		return cc.card, cc.info, nil
	}
	raw, err := d.node.AgentCard(ctx, id)
	if err != nil {
		return nil, agentmsg.CardInfo{}, err
	}
	c, err := a2a.ParseCard(raw)
	if err != nil {
		return nil, agentmsg.CardInfo{}, err
	}
	info, err := agentmsg.CardInfoOf(c)
	if err != nil {
		return c, info, err
	}
	d.mu.Lock()
	d.cards[id] = cachedCard{hash: types.SumHash(raw), card: c, info: info}
	d.mu.Unlock()
	return c, info, nil
}
