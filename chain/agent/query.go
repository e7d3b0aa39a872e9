package agent

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// DefaultLimit is the page size of a listing that names none.
const DefaultLimit = 100

// Info is an agent as queries show it: the record with its reputation at
// the height read.
type Info struct {
	*Agent
	// Reputation is the agent's score in parts per million.
	Reputation uint32 `json:"reputation"`
	// Mailbox is true when the agent takes messages only through the
	// nodes' mailboxes (it has no endpoint).
	Mailbox bool `json:"mailbox"`
}

// InfoOf returns an agent's view at height h.
func InfoOf(a *Agent, h int64, p Params) Info {
	return Info{Agent: a, Reputation: Reputation(a, h, p), Mailbox: a.Mailbox()}
}

// Filter narrows an agent listing.
type Filter struct {
	// Owner lists only this owner's agents (any status).
	Owner *types.Address
	// ForSale lists only the agents on the market.
	ForSale bool
	// After is the id of the last agent of the previous page; 0 for the
	// first page.
	After uint64
	Limit int
}

// List returns a page of agents in id order.
func List(r store.Reader, f Filter) []*Agent {
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	prefix := prefixAgent
	switch {
	case f.Owner != nil:
		prefix = ownerPrefix(*f.Owner)
	case f.ForSale:
		prefix = prefixSale
	}
	out := []*Agent{}
	if f.After == ^uint64(0) {
		return out
	}
	it := r.Iterator(store.Key(prefix, store.BE64(f.After+1)), store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid() && len(out) < f.Limit; it.Next() {
		a := Get(r, idAt(it.Key()))
		if a == nil {
			panic(fmt.Errorf("agent: index key %x names a missing agent", it.Key()))
		}
		if f.ForSale && !a.ForSale {
			continue
		}
		out = append(out, a)
	}
	return out
}

// ChangedSince calls fn, in order of change, for each agent that changed
// after height h (registered, updated, renewed, expired, rated, sold,
// ...), until fn returns false: how a discovery index follows the chain.
// Every agent has exactly one entry, at its last change.
func ChangedSince(r store.Reader, h int64, fn func(*Agent) bool) {
	it := r.Iterator(store.Key(prefixUpdated, store.BE64(uint64(h+1))), store.PrefixEnd(prefixUpdated))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		a := Get(r, idAt(it.Key()))
		if a == nil {
			panic(fmt.Errorf("agent: change key %x names a missing agent", it.Key()))
		}
		if !fn(a) {
			return
		}
	}
}

// CollectivesOf returns the open collectives an agent manages, belongs to
// or is invited to, in id order.
func CollectivesOf(r store.Reader, agent uint64) []*Collective {
	out := []*Collective{}
	for _, id := range collectivesOf(r, agent) {
		out = append(out, GetCollective(r, id))
	}
	return out
}

// ReportsOf returns the reports made against an agent, in id order.
func ReportsOf(r store.Reader, agent uint64) []*Report {
	out := []*Report{}
	p := agentReportPrefix(agent)
	it := r.Iterator(p, store.PrefixEnd(p))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		out = append(out, GetReport(r, idAt(it.Key())))
	}
	return out
}

// EachCard calls fn with the card hash of every agent not closed and of
// every open collective, for the blob stores that keep them.
func EachCard(r store.Reader, fn func(types.Hash)) {
	it := r.Iterator(prefixAgent, store.PrefixEnd(prefixAgent))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		a, err := decodeAgent(idAt(it.Key()), it.Value())
		if err != nil {
			panic(fmt.Errorf("agent: corrupt record: %w", err))
		}
		if a.Status != Closed {
			fn(a.CardHash)
		}
	}
	ci := r.Iterator(prefixCollective, store.PrefixEnd(prefixCollective))
	defer ci.Close()
	for ; ci.Valid(); ci.Next() {
		c, err := decodeCollective(idAt(ci.Key()), ci.Value())
		if err != nil {
			panic(fmt.Errorf("agent: corrupt collective: %w", err))
		}
		if c.Closed == 0 {
			if !c.CardHash.IsZero() {
				fn(c.CardHash)
			}
			if c.Proposal != nil {
				fn(c.Proposal.CardHash)
			}
		}
	}
}

// CheckInvariant verifies that the deposit account holds exactly the
// deposits of the agents not yet refunded (listed, expired and unbonding)
// plus the bonds of the open reports; that every record is consistent with
// its status and its index entries (owner, expiry, refund, sale, change,
// membership, reports) and no index entry is left over; and that every
// open collective's split is valid.
func CheckInvariant(r store.Reader, b Bank) error {
	if !Initialized(r) {
		// A chain started before the registry: it must hold nothing.
		if count(r, []byte("agent/")) != 0 || b.Balance(r, Deposits) != 0 {
			return fmt.Errorf("agent state without the registry's params")
		}
		return nil
	}
	p := GetParams(r)
	var held types.Amount
	add := func(v types.Amount) error {
		var err error
		if held, err = held.Add(v); err != nil {
			return fmt.Errorf("deposits overflow")
		}
		return nil
	}
	var n, expiring, refunding, selling int
	var maxID uint64
	openReports := map[uint64]uint64{}
	var reportN int
	var maxReport uint64
	ri := r.Iterator(prefixReport, store.PrefixEnd(prefixReport))
	for ; ri.Valid(); ri.Next() {
		rp, err := decodeReport(idAt(ri.Key()), ri.Value())
		if err != nil {
			ri.Close()
			return err
		}
		reportN++
		maxReport = max(maxReport, rp.ID)
		if r.Get(agentReportKey(rp.Agent, rp.ID)) == nil {
			ri.Close()
			return fmt.Errorf("report %d: missing from agent %d's index", rp.ID, rp.Agent)
		}
		if rp.Open() {
			openReports[rp.Agent]++
			if err := add(rp.Bond); err != nil {
				ri.Close()
				return err
			}
		}
	}
	ri.Close()
	it := r.Iterator(prefixAgent, store.PrefixEnd(prefixAgent))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if len(it.Key()) != len(prefixAgent)+8 {
			return fmt.Errorf("agent record under key %x", it.Key())
		}
		a, err := decodeAgent(idAt(it.Key()), it.Value())
		if err != nil {
			return err
		}
		n++
		maxID = max(maxID, a.ID)
		if err := checkAgent(r, a, p); err != nil {
			return fmt.Errorf("agent %d: %w", a.ID, err)
		}
		if err := add(a.Deposit); err != nil {
			return err
		}
		if a.OpenReports != openReports[a.ID] {
			return fmt.Errorf("agent %d counts %d open reports, has %d", a.ID, a.OpenReports, openReports[a.ID])
		}
		if a.Status == Active {
			expiring++
		}
		if a.Status == Unbonding {
			refunding++
		}
		if a.ForSale {
			selling++
		}
	}
	if got := b.Balance(r, Deposits); got != held {
		return fmt.Errorf("deposit account holds %d umyc, agents and reports account for %d", got, held)
	}
	if n > 0 && peekSeq(r, keySeq) <= maxID {
		return fmt.Errorf("next agent id %d is not above the highest, %d", peekSeq(r, keySeq), maxID)
	}
	if reportN > 0 && peekSeq(r, keyReportSeq) <= maxReport {
		return fmt.Errorf("next report id is not above the highest, %d", maxReport)
	}
	// Each index entry was matched to a record above; equal counts mean
	// nothing is left over.
	for _, c := range []struct {
		prefix []byte
		want   int
	}{{prefixOwner, n}, {prefixUpdated, n}, {prefixExpiry, expiring}, {prefixRefund, refunding}, {prefixSale, selling},
		{prefixAgentRep, reportN}} {
		if got := count(r, c.prefix); got != c.want {
			return fmt.Errorf("index %q has %d entries, want %d", c.prefix, got, c.want)
		}
	}
	return checkCollectives(r)
}

// checkAgent checks one record against its status and its index entries.
func checkAgent(r store.Reader, a *Agent, p Params) error {
	if err := validateSummary(a.CardHash, a.CardSize, a.Name, a.Description, a.Skills, a.Endpoint, p); err != nil {
		return err
	}
	switch {
	case a.Owner.IsZero():
		return fmt.Errorf("no owner")
	case !a.Status.Valid():
		return fmt.Errorf("status %d", a.Status)
	case a.OwnedSince < a.Registered || a.Updated < a.OwnedSince:
		return fmt.Errorf("registered at %d, owned since %d, updated at %d", a.Registered, a.OwnedSince, a.Updated)
	case a.SigningKey.IsZero() != (a.KeySince == 0):
		return fmt.Errorf("signing key %s set at height %d", a.SigningKey, a.KeySince)
	case a.ForSale != (a.SalePrice > 0) || a.ForSale != (r.Get(saleKey(a.ID)) != nil):
		return fmt.Errorf("sale listing %v at %s does not match the market index", a.ForSale, a.SalePrice)
	case a.ForSale && a.Status != Active && a.Status != Expired:
		return fmt.Errorf("a %s agent is for sale", a.Status)
	case r.Get(ownerKey(a.Owner, a.ID)) == nil:
		return fmt.Errorf("missing from owner %s's index", a.Owner)
	case r.Get(updatedKey(a.Updated, a.ID)) == nil:
		return fmt.Errorf("missing from the change index at height %d", a.Updated)
	}
	switch a.Status {
	case Active, Expired:
		if a.Deposit == 0 || a.Refunded != 0 || a.RefundAt != 0 {
			return fmt.Errorf("%s with deposit %s, refunded %s at %d", a.Status, a.Deposit, a.Refunded, a.RefundAt)
		}
		if (a.Status == Active) != (r.Get(expiryKey(a.ExpiresAt, a.ID)) != nil) {
			return fmt.Errorf("%s, expiry entry at %d present: %v", a.Status, a.ExpiresAt, a.Status != Active)
		}
	case Unbonding:
		if a.Deposit == 0 || r.Get(refundKey(a.RefundAt, a.ID)) == nil {
			return fmt.Errorf("unbonding with deposit %s and no refund entry at %d", a.Deposit, a.RefundAt)
		}
	case Closed:
		if a.Deposit != 0 || a.Refunded == 0 {
			return fmt.Errorf("closed with deposit %s, refunded %s", a.Deposit, a.Refunded)
		}
	}
	if (a.Status == Unbonding || a.Status == Closed) && len(collectivesOf(r, a.ID)) > 0 {
		return fmt.Errorf("a %s agent is in collective %v", a.Status, collectivesOf(r, a.ID))
	}
	return nil
}

// checkCollectives verifies every collective's splits and its membership
// entries, and that no membership entry is left over.
func checkCollectives(r store.Reader) error {
	var members, maxID uint64
	n := 0
	it := r.Iterator(prefixCollective, store.PrefixEnd(prefixCollective))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		c, err := decodeCollective(idAt(it.Key()), it.Value())
		if err != nil {
			return err
		}
		n++
		maxID = max(maxID, c.ID)
		if c.Version == 0 && len(c.Shares) != 0 || c.Version > c.Proposed || c.Proposal != nil && c.Proposal.Version != c.Proposed {
			return fmt.Errorf("collective %d: version %d in force, %d proposed", c.ID, c.Version, c.Proposed)
		}
		for _, ss := range [][]Share{c.Shares, proposalShares(c)} {
			if len(ss) == 0 {
				continue
			}
			var sum uint64
			hasManager := false
			for _, s := range ss {
				sum += uint64(s.Bps)
				hasManager = hasManager || s.Agent == c.Manager
				if Get(r, s.Agent) == nil {
					return fmt.Errorf("collective %d names missing agent %d", c.ID, s.Agent)
				}
			}
			if sum != SplitTotal || !hasManager {
				return fmt.Errorf("collective %d: a split sums to %d without the manager: %v", c.ID, sum, !hasManager)
			}
		}
		for _, s := range c.Shares {
			if !s.Accepted {
				return fmt.Errorf("collective %d: agent %d in force without consent", c.ID, s.Agent)
			}
		}
		for _, a := range c.members() {
			if r.Get(memberKey(a, c.ID)) == nil {
				return fmt.Errorf("collective %d: agent %d missing from the membership index", c.ID, a)
			}
			members++
		}
	}
	if n > 0 && peekSeq(r, keyCollectiveSeq) <= maxID {
		return fmt.Errorf("next collective id is not above the highest, %d", maxID)
	}
	if got := count(r, prefixMember); uint64(got) != members {
		return fmt.Errorf("membership index has %d entries, collectives name %d members", got, members)
	}
	return nil
}

func proposalShares(c *Collective) []Share {
	if c.Proposal == nil {
		return nil
	}
	return c.Proposal.Shares
}

func count(r store.Reader, prefix []byte) int {
	n := 0
	it := r.Iterator(prefix, store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		n++
	}
	return n
}
