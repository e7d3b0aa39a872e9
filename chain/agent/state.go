package agent

import (
	"encoding/binary"
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Deposits is the module account that holds the agents' deposits (those
// of listed, expired and unbonding agents) and the bonds of open reports.
var Deposits = types.ModuleAddress("agent_deposits")

var (
	keyParams        = []byte("agent/params")
	keySeq           = []byte("agent/seq")
	keyCollectiveSeq = []byte("agent/cseq")
	keyReportSeq     = []byte("agent/rseq")
	prefixAgent      = []byte("agent/a/")
	prefixOwner      = []byte("agent/o/")
	prefixExpiry     = []byte("agent/x/")
	prefixRefund     = []byte("agent/r/")
	prefixUpdated    = []byte("agent/u/")
	prefixSale       = []byte("agent/s/")
	prefixCollective = []byte("agent/c/")
	prefixMember     = []byte("agent/m/")
	prefixReport     = []byte("agent/q/")
	prefixAgentRep   = []byte("agent/k/")
	prefixReportDue  = []byte("agent/d/") // {height}{report}: reports decided at that height
	prefixBallot     = []byte("agent/b/") // {report}{validator}: a committed ballot, then its vote
)

func agentKey(id uint64) []byte                  { return store.Key(prefixAgent, store.BE64(id)) }
func ownerKey(a types.Address, id uint64) []byte { return store.Key(prefixOwner, a[:], store.BE64(id)) }
func ownerPrefix(a types.Address) []byte         { return store.Key(prefixOwner, a[:]) }
func expiryKey(h int64, id uint64) []byte {
	return store.Key(prefixExpiry, store.BE64(uint64(h)), store.BE64(id))
}
func refundKey(h int64, id uint64) []byte {
	return store.Key(prefixRefund, store.BE64(uint64(h)), store.BE64(id))
}
func updatedKey(h int64, id uint64) []byte {
	return store.Key(prefixUpdated, store.BE64(uint64(h)), store.BE64(id))
}
func saleKey(id uint64) []byte       { return store.Key(prefixSale, store.BE64(id)) }
func collectiveKey(id uint64) []byte { return store.Key(prefixCollective, store.BE64(id)) }
func memberKey(agent, coll uint64) []byte {
	return store.Key(prefixMember, store.BE64(agent), store.BE64(coll))
}
func memberPrefix(agent uint64) []byte { return store.Key(prefixMember, store.BE64(agent)) }
func reportKey(id uint64) []byte       { return store.Key(prefixReport, store.BE64(id)) }
func agentReportKey(agent, id uint64) []byte {
	return store.Key(prefixAgentRep, store.BE64(agent), store.BE64(id))
}
func agentReportPrefix(agent uint64) []byte { return store.Key(prefixAgentRep, store.BE64(agent)) }

// idAt reads the id that ends a key.
func idAt(key []byte) uint64 { return binary.BigEndian.Uint64(key[len(key)-8:]) }

// Get reads an agent; nil when there is none of that id.
func Get(r store.Reader, id uint64) *Agent {
	b := r.Get(agentKey(id))
	if b == nil {
		return nil
	}
	a, err := decodeAgent(id, b)
	if err != nil {
		panic(fmt.Errorf("agent: corrupt record: %w", err))
	}
	return a
}

// save writes an agent changed at height h, moving its entry in the
// index of changes that discovery follows.
func save(kv store.KV, a *Agent, h int64) {
	if a.Updated != h {
		if a.Updated != 0 {
			kv.Delete(updatedKey(a.Updated, a.ID))
		}
		a.Updated = h
	}
	kv.Set(updatedKey(h, a.ID), []byte{})
	kv.Set(agentKey(a.ID), a.encode())
}

// GetCollective reads a collective; nil when there is none of that id.
func GetCollective(r store.Reader, id uint64) *Collective {
	b := r.Get(collectiveKey(id))
	if b == nil {
		return nil
	}
	c, err := decodeCollective(id, b)
	if err != nil {
		panic(fmt.Errorf("agent: corrupt collective: %w", err))
	}
	return c
}

// GetReport reads a report; nil when there is none of that id.
func GetReport(r store.Reader, id uint64) *Report {
	b := r.Get(reportKey(id))
	if b == nil {
		return nil
	}
	p, err := decodeReport(id, b)
	if err != nil {
		panic(fmt.Errorf("agent: corrupt report: %w", err))
	}
	return p
}

func peekSeq(r store.Reader, key []byte) uint64 {
	b := r.Get(key)
	if b == nil {
		return 1
	}
	rd := codec.NewReader(b)
	id := rd.Uvarint()
	if err := rd.Done(); err != nil {
		panic(fmt.Errorf("agent: corrupt sequence %s: %w", key, err))
	}
	return id
}

// nextID returns the next id of a sequence and advances it.
func nextID(kv store.KV, key []byte) uint64 {
	id := peekSeq(kv, key)
	w := codec.NewWriter(10)
	w.Uvarint(id + 1)
	kv.Set(key, w.Bytes())
	return id
}

// members lists the agents of a collective that the membership index
// holds: the manager, the members of the split in force and those of the
// proposal, each once, in the order met.
func (c *Collective) members() []uint64 {
	if c.Closed != 0 {
		return nil
	}
	out := []uint64{c.Manager}
	add := func(ss []Share) {
		for _, s := range ss {
			seen := false
			for _, o := range out {
				seen = seen || o == s.Agent
			}
			if !seen {
				out = append(out, s.Agent)
			}
		}
	}
	add(c.Shares)
	if c.Proposal != nil {
		add(c.Proposal.Shares)
	}
	return out
}

// saveCollective writes a collective and brings the membership index
// from what old (nil for a new collective) had to what c has.
func saveCollective(kv store.KV, old, c *Collective) {
	if old != nil {
		for _, a := range old.members() {
			kv.Delete(memberKey(a, old.ID))
		}
	}
	for _, a := range c.members() {
		kv.Set(memberKey(a, c.ID), []byte{})
	}
	kv.Set(collectiveKey(c.ID), c.encode())
}

// collectivesOf lists the open collectives an agent manages, belongs to
// or is invited to, in id order.
func collectivesOf(r store.Reader, agent uint64) []uint64 {
	var out []uint64
	p := memberPrefix(agent)
	it := r.Iterator(p, store.PrefixEnd(p))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		out = append(out, idAt(it.Key()))
	}
	return out
}
