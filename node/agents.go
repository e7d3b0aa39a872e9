package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/discovery"
)

// agentIndex is the node's discovery index, built on the first query
// and brought up to the committed height before each one (a block's
// changes are a handful of agents, read from the registry's change index).
type agentIndex struct {
	mu  sync.Mutex // one catch-up at a time
	idx *discovery.Index
}

// current returns the index caught up with the committed state.
func (ai *agentIndex) current(n *Node) *discovery.Index {
	ai.mu.Lock()
	defer ai.mu.Unlock()
	if ai.idx == nil {
		ai.idx = discovery.New()
	}
	if h := ai.idx.Height(); h == 0 || n.app.Height() > h {
		changed, height, p := n.app.AgentsChangedSince(h)
		ai.idx.Apply(changed, height, p)
	}
	return ai.idx
}

var _ api.AgentRegistry = (*backend)(nil)

func (b *backend) AgentSearch(_ context.Context, q discovery.Query) (discovery.Page, error) {
	return b.n.agents.current(b.n).Search(q)
}

func (b *backend) AgentList(_ context.Context, f agent.Filter) ([]agent.Info, error) {
	return b.n.app.Agents(f), nil
}

func (b *backend) AgentInfo(_ context.Context, id uint64) (agent.Info, error) {
	a, ok := b.n.app.Agent(id)
	if !ok {
		return a, fmt.Errorf("%w: no agent %d (see GET /v1/agents)", api.ErrNotFound, id)
	}
	return a, nil
}

func (b *backend) AgentCollective(_ context.Context, id uint64) (*agent.Collective, error) {
	c, ok := b.n.app.Collective(id)
	if !ok {
		return nil, fmt.Errorf("%w: no collective %d", api.ErrNotFound, id)
	}
	return c, nil
}

func (b *backend) AgentCollectives(_ context.Context, id uint64) ([]*agent.Collective, error) {
	return b.n.app.AgentCollectives(id), nil
}

func (b *backend) AgentReports(_ context.Context, id uint64) ([]*agent.Report, error) {
	return b.n.app.AgentReports(id), nil
}
