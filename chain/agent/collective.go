package agent

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// validateSplit checks a proposed split: 1 to 32 distinct registered
// agents (not deregistered), the manager among them, basis points summing
// to 10,000.
func validateSplit(r store.Reader, manager uint64, split []Split) error {
	if len(split) == 0 {
		return ErrInvalidSplit.Wrapf("a split names at least the manager")
	}
	if len(split) > MaxMembers {
		return ErrInvalidSplit.Wrapf("%d members: at most %d", len(split), MaxMembers)
	}
	var sum uint64
	hasManager := false
	for i, s := range split {
		for _, o := range split[:i] {
			if o.Agent == s.Agent {
				return ErrInvalidSplit.Wrapf("agent %d listed twice", s.Agent)
			}
		}
		if s.Bps > SplitTotal {
			return ErrInvalidSplit.Wrapf("agent %d's share of %d basis points is more than the whole (%d)", s.Agent, s.Bps, SplitTotal)
		}
		sum += uint64(s.Bps)
		a := Get(r, s.Agent)
		if a == nil {
			return ErrUnknownAgent.Wrapf("no agent %d", s.Agent)
		}
		if err := allow(a, "join a collective", Active, Expired); err != nil {
			return err
		}
		hasManager = hasManager || s.Agent == manager
	}
	if !hasManager {
		return ErrInvalidSplit.Wrapf("the manager, agent %d, must be in the split (with 0 basis points if it takes nothing)", manager)
	}
	if sum != SplitTotal {
		return ErrInvalidSplit.Wrapf("shares sum to %d basis points, not %d", sum, SplitTotal)
	}
	return nil
}

// propose sets a collective's proposal: the manager's own share counts as
// accepted. It takes force at once if the manager is the only member.
func propose(ctx exec.Ctx, c *Collective, card types.Hash, size uint64, split []Split) {
	c.Proposed++
	p := &Proposal{Version: c.Proposed, CardHash: card, CardSize: size, Shares: make([]Share, len(split))}
	for i, s := range split {
		p.Shares[i] = Share{Agent: s.Agent, Bps: s.Bps, Accepted: s.Agent == c.Manager}
	}
	c.Proposal = p
	ctx.Emit(types.NewEvent("collective_proposed", "id", idStr(c.ID), "version", types.U64(p.Version),
		"members", types.U64(uint64(len(p.Shares))), "card", card.String()))
	agreeIfAll(ctx, c)
}

// agreeIfAll puts the proposal in force once every member accepted it.
func agreeIfAll(ctx exec.Ctx, c *Collective) {
	p := c.Proposal
	for _, s := range p.Shares {
		if !s.Accepted {
			return
		}
	}
	c.Version, c.CardHash, c.CardSize, c.Shares, c.Proposal = p.Version, p.CardHash, p.CardSize, p.Shares, nil
	ctx.Emit(types.NewEvent("collective_split_agreed", "id", idStr(c.ID), "version", types.U64(c.Version),
		"members", types.U64(uint64(len(c.Shares)))))
}

// openCollective reads a collective that is not closed.
func openCollective(r store.Reader, id uint64) (*Collective, error) {
	c := GetCollective(r, id)
	if c == nil {
		return nil, ErrUnknownCollective.Wrapf("no collective %d", id)
	}
	if c.Closed != 0 {
		return nil, ErrCollectiveClosed.Wrapf("collective %d was dissolved at height %d", id, c.Closed)
	}
	return c, nil
}

// HandleCreateCollective creates a collective managed by an agent the
// signer owns, with a first proposed split and combined card.
func (k Keeper) HandleCreateCollective(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgCreateCollective(body)
	if err != nil {
		return err
	}
	mgr, err := owned(ctx, signer, m.Manager, "manage a collective", Active)
	if err != nil {
		return err
	}
	if err := ValidateName(m.Name); err != nil {
		return err
	}
	if err := validateCard(m.CardHash, m.CardSize, GetParams(ctx.KV)); err != nil {
		return err
	}
	if err := validateSplit(ctx.KV, mgr.ID, m.Split); err != nil {
		return err
	}
	c := &Collective{ID: nextID(ctx.KV, keyCollectiveSeq), Manager: mgr.ID, Name: m.Name, Created: ctx.Block.Height}
	ctx.Emit(types.NewEvent("collective_created", "id", idStr(c.ID), "manager", idStr(c.Manager), "name", c.Name))
	propose(ctx, c, m.CardHash, m.CardSize, m.Split)
	saveCollective(ctx.KV, nil, c)
	return nil
}

// managed reads an open collective whose manager the signer owns.
func managed(ctx exec.Ctx, signer types.Address, id uint64) (*Collective, error) {
	c, err := openCollective(ctx.KV, id)
	if err != nil {
		return nil, err
	}
	mgr := Get(ctx.KV, c.Manager)
	if mgr == nil || mgr.Owner != signer {
		return nil, ErrNotManager.Wrapf("collective %d is managed by agent %d, which %s does not own", c.ID, c.Manager, signer)
	}
	return c, nil
}

// HandleProposeSplit replaces a collective's proposal with a new split
// and card, from the owner of its manager.
func (k Keeper) HandleProposeSplit(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgProposeSplit(body)
	if err != nil {
		return err
	}
	c, err := managed(ctx, signer, m.Collective)
	if err != nil {
		return err
	}
	if err := validateCard(m.CardHash, m.CardSize, GetParams(ctx.KV)); err != nil {
		return err
	}
	if err := validateSplit(ctx.KV, c.Manager, m.Split); err != nil {
		return err
	}
	old := GetCollective(ctx.KV, c.ID)
	propose(ctx, c, m.CardHash, m.CardSize, m.Split)
	saveCollective(ctx.KV, old, c)
	return nil
}

// HandleAcceptSplit records a member's consent to a collective's
// proposal, signed by the member agent's owner.
func (k Keeper) HandleAcceptSplit(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgAcceptSplit(body)
	if err != nil {
		return err
	}
	c, err := openCollective(ctx.KV, m.Collective)
	if err != nil {
		return err
	}
	if c.Proposal == nil {
		return ErrStaleProposal.Wrapf("collective %d has no split waiting for consent (version %d is in force)", c.ID, c.Version)
	}
	if c.Proposal.Version != m.Version {
		return ErrStaleProposal.Wrapf("collective %d's proposal is version %d, not %d; read it again (mycel collective show %d)",
			c.ID, c.Proposal.Version, m.Version, c.ID)
	}
	if _, err := owned(ctx, signer, m.Agent, "join a collective", Active, Expired); err != nil {
		return err
	}
	i := shareOf(c.Proposal.Shares, m.Agent)
	if i < 0 {
		return ErrNotMember.Wrapf("agent %d is not in collective %d's proposal %d", m.Agent, c.ID, m.Version)
	}
	old := GetCollective(ctx.KV, c.ID)
	c.Proposal.Shares[i].Accepted = true
	ctx.Emit(types.NewEvent("collective_accepted", "id", idStr(c.ID), "agent", idStr(m.Agent), "version", types.U64(m.Version)))
	agreeIfAll(ctx, c)
	saveCollective(ctx.KV, old, c)
	return nil
}

func shareOf(ss []Share, agent uint64) int {
	for i, s := range ss {
		if s.Agent == agent {
			return i
		}
	}
	return -1
}

// HandleLeaveCollective takes an agent the signer owns out of a
// collective. A member's share of the split in force goes to the manager;
// a pending proposal that names the agent is dropped (the manager may
// propose again). The manager leaving dissolves the collective.
func (k Keeper) HandleLeaveCollective(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgLeaveCollective(body)
	if err != nil {
		return err
	}
	c, err := openCollective(ctx.KV, m.Collective)
	if err != nil {
		return err
	}
	a := Get(ctx.KV, m.Agent)
	if a == nil {
		return ErrUnknownAgent.Wrapf("no agent %d", m.Agent)
	}
	if a.Owner != signer {
		return ErrNotOwner.Wrapf("agent %d belongs to %s, not %s", a.ID, a.Owner, signer)
	}
	old := GetCollective(ctx.KV, c.ID)
	if m.Agent == c.Manager {
		c.Closed, c.Proposal = ctx.Block.Height, nil
		saveCollective(ctx.KV, old, c)
		ctx.Emit(types.NewEvent("collective_closed", "id", idStr(c.ID), "manager", idStr(c.Manager)))
		return nil
	}
	i := shareOf(c.Shares, m.Agent)
	inProposal := c.Proposal != nil && shareOf(c.Proposal.Shares, m.Agent) >= 0
	if i < 0 && !inProposal {
		return ErrNotMember.Wrapf("agent %d is neither a member of collective %d nor invited", m.Agent, c.ID)
	}
	if i >= 0 {
		bps := c.Shares[i].Bps
		c.Shares = append(c.Shares[:i:i], c.Shares[i+1:]...)
		c.Shares[shareOf(c.Shares, c.Manager)].Bps += bps
	}
	dropped := "false"
	if inProposal {
		c.Proposal, dropped = nil, "true"
	}
	saveCollective(ctx.KV, old, c)
	ctx.Emit(types.NewEvent("collective_left", "id", idStr(c.ID), "agent", idStr(m.Agent), "proposal_dropped", dropped))
	return nil
}

// HandlePayCollective pays an amount from the signer to a collective's
// members by the split in force: each member's owner gets its basis
// points of the amount, rounded down, and the manager's owner the
// remainder of the rounding.
func (k Keeper) HandlePayCollective(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgPayCollective(body)
	if err != nil {
		return err
	}
	c, err := openCollective(ctx.KV, m.Collective)
	if err != nil {
		return err
	}
	if c.Version == 0 {
		return ErrNotActive.Wrapf("collective %d's members have not all accepted its first split", c.ID)
	}
	if m.Amount == 0 {
		return ErrInvalidAmount.Wrapf("a payment must be positive")
	}
	paid, err := c.Paid.Add(m.Amount)
	if err != nil {
		return ErrOverflow.Wrapf("collective %d paid %s + %s", c.ID, c.Paid, m.Amount)
	}
	parts := make([]types.Amount, len(c.Shares))
	var sum types.Amount
	mi := shareOf(c.Shares, c.Manager)
	for i, s := range c.Shares {
		// bps ≤ 10,000, so the part fits.
		parts[i], _ = m.Amount.MulDiv(uint64(s.Bps), SplitTotal)
		sum += parts[i]
	}
	parts[mi] += m.Amount - sum
	for i, s := range c.Shares {
		if parts[i] == 0 {
			continue
		}
		a := Get(ctx.KV, s.Agent)
		if err := k.Bank.Send(ctx.KV, signer, a.Owner, parts[i]); err != nil {
			return err
		}
		ctx.Emit(types.NewEvent("collective_payout", "id", idStr(c.ID), "agent", idStr(a.ID), "owner", a.Owner.String(),
			"amount", amt(parts[i])))
	}
	c.Paid = paid
	ctx.KV.Set(collectiveKey(c.ID), c.encode())
	ctx.Emit(types.NewEvent("collective_paid", "id", idStr(c.ID), "from", signer.String(), "amount", amt(m.Amount)))
	return nil
}
