package app

import (
	"slices"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// channelsKeeper gives the agent market the payment channels that can
// still move funds.
type channelsKeeper struct{}

// Open lists the channels a pays from or is paid through that are not
// collected and not past their settle height, in id order.
func (channelsKeeper) Open(r store.Reader, h int64, a types.Address) []uint64 {
	var ids []uint64
	for _, f := range []paych.Filter{{Payer: &a}, {Payee: &a}} {
		f.Limit = 1000
		for {
			page := paych.List(r, f)
			for _, c := range page {
				if c.Collected == 0 && (c.SettlingAt == 0 || h < c.SettlingAt) {
					ids = append(ids, c.ID)
				}
			}
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1].ID
		}
	}
	slices.Sort(ids)
	return ids
}

var (
	_ agent.Bank     = bankKeeper{}
	_ agent.Channels = channelsKeeper{}
)

// agentKeeper is the agent registry wired to the bank, the payment
// channels and the validators' bonds (which weigh ballots on reports).
func agentKeeper() agent.Keeper {
	return agent.Keeper{Bank: bankKeeper{}, Channels: channelsKeeper{}, Validators: stakeKeeper{}}
}

// Agent reads an agent with its reputation at the last committed height.
func (a *App) Agent(id uint64) (agent.Info, bool) {
	snap := a.db.Snapshot()
	defer snap.Close()
	st := snap.State()
	ag := agent.Get(st, id)
	if ag == nil {
		return agent.Info{}, false
	}
	return agent.InfoOf(ag, snap.Height(), agent.GetParams(st)), true
}

// Agents lists agents in id order: all, an owner's, or those for sale.
func (a *App) Agents(f agent.Filter) []agent.Info {
	snap := a.db.Snapshot()
	defer snap.Close()
	st := snap.State()
	p, h := agent.GetParams(st), snap.Height()
	out := []agent.Info{}
	for _, ag := range agent.List(st, f) {
		out = append(out, agent.InfoOf(ag, h, p))
	}
	return out
}

// AgentsChangedSince reads, from one snapshot, the agents changed after
// height since (all of them for 0), the snapshot's height and the rules:
// what a discovery index needs to catch up.
func (a *App) AgentsChangedSince(since int64) (changed []*agent.Agent, height int64, p agent.Params) {
	snap := a.db.Snapshot()
	defer snap.Close()
	st := snap.State()
	if !agent.Initialized(st) {
		// A chain from before the registry: nothing to index.
		return nil, snap.Height(), agent.DefaultParams()
	}
	agent.ChangedSince(st, since, func(ag *agent.Agent) bool {
		changed = append(changed, ag)
		return true
	})
	return changed, snap.Height(), agent.GetParams(st)
}

// Collective reads a collective.
func (a *App) Collective(id uint64) (*agent.Collective, bool) {
	c := agent.GetCollective(a.db.State(), id)
	return c, c != nil
}

// AgentCollectives lists the open collectives an agent manages, belongs
// to or is invited to.
func (a *App) AgentCollectives(id uint64) []*agent.Collective {
	snap := a.db.Snapshot()
	defer snap.Close()
	return agent.CollectivesOf(snap.State(), id)
}

// AgentReports lists the reports made against an agent.
func (a *App) AgentReports(id uint64) []*agent.Report {
	snap := a.db.Snapshot()
	defer snap.Close()
	return agent.ReportsOf(snap.State(), id)
}

// AgentParams returns the agent registry's rules.
func (a *App) AgentParams() agent.Params { return agentParams(a.db.State()) }

// agentParams reads the registry's rules; zero on a chain started before
// the registry.
func agentParams(r store.Reader) agent.Params {
	if !agent.Initialized(r) {
		return agent.Params{}
	}
	return agent.GetParams(r)
}

// agentCards adds the cards of registered agents and open collectives to
// the blobs the blob store keeps.
func agentCards(r store.Reader, out map[types.Hash]bool) {
	if !agent.Initialized(r) {
		return
	}
	agent.EachCard(r, func(h types.Hash) { out[h] = true })
}
