package agent

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Bank is what the agent registry needs of the bank.
type Bank interface {
	Send(kv store.KV, from, to types.Address, amount types.Amount) error
	Balance(r store.Reader, a types.Address) types.Amount
	Burn(kv store.KV, from types.Address, amount types.Amount) error
}

// Channels is what the market needs of the payment channels: the
// channels that an address pays from or is paid through and that can
// still move funds at height h (neither collected nor past their settle
// height), in id order. An agent is sold only when its owner has none,
// so that neither the seller nor the buyer can drain a channel the other
// counts on.
type Channels interface {
	Open(r store.Reader, h int64, a types.Address) []uint64
}

// Keeper is the agent registry with the modules it works through.
// Channels may be nil (tests without payment channels): then the market
// checks no channels.
type Keeper struct {
	Bank     Bank
	Channels Channels
	// Validators weighs ballots on reports; nil: nobody may vote, and
	// every report is decided for nobody (its bond comes back).
	Validators Validators
}

// Validators is what report ballots need of the stake module.
type Validators interface {
	// ValidatorBond returns a's validator bond when it is bonded and not
	// jailed, else 0.
	ValidatorBond(r store.Reader, a types.Address) types.Amount
}

func idStr(id uint64) string { return types.U64(id) }

func amt(a types.Amount) string { return types.U64(uint64(a)) }

// HandleRegister registers an agent owned by the signer and escrows its
// deposit.
func (k Keeper) HandleRegister(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgRegister(body)
	if err != nil {
		return err
	}
	p := GetParams(ctx.KV)
	if m.SigningKey.IsZero() {
		return ErrInvalidKey.Wrapf("the zero key signs nothing; name the ed25519 key that will sign the agent's messages")
	}
	if err := validateSummary(m.CardHash, m.CardSize, m.Name, m.Description, m.Skills, m.Endpoint, p); err != nil {
		return err
	}
	if m.Deposit < p.MinDeposit {
		return ErrInvalidAmount.Wrapf("deposit %s is below the minimum of %s", m.Deposit, p.MinDeposit)
	}
	if err := k.Bank.Send(ctx.KV, signer, Deposits, m.Deposit); err != nil {
		return err
	}
	h := ctx.Block.Height
	a := &Agent{ID: nextID(ctx.KV, keySeq), Owner: signer, OwnedSince: h, SigningKey: m.SigningKey, KeySince: h,
		CardHash: m.CardHash, CardSize: m.CardSize, Name: m.Name, Description: m.Description, Skills: m.Skills,
		Price: m.Price, Endpoint: m.Endpoint, Deposit: m.Deposit, Registered: h, ExpiresAt: h + p.RegistrationBlocks,
		Status: Active}
	save(ctx.KV, a, h)
	ctx.KV.Set(ownerKey(a.Owner, a.ID), []byte{})
	ctx.KV.Set(expiryKey(a.ExpiresAt, a.ID), []byte{})
	ctx.Emit(types.NewEvent("agent_registered", "id", idStr(a.ID), "owner", a.Owner.String(), "name", a.Name,
		"card", a.CardHash.String(), "deposit", amt(a.Deposit), "expires_at", types.U64(uint64(a.ExpiresAt))))
	return nil
}

// validateSummary checks the card and the fields a registration and an
// update set.
func validateSummary(card types.Hash, size uint64, name, description string, skills []Skill, endpoint string, p Params) error {
	if err := validateCard(card, size, p); err != nil {
		return err
	}
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := ValidateDescription(description); err != nil {
		return err
	}
	if err := ValidateSkills(skills); err != nil {
		return err
	}
	return ValidateEndpoint(endpoint)
}

// owned reads an agent the signer must own, in one of the given statuses.
func owned(ctx exec.Ctx, signer types.Address, id uint64, what string, allowed ...Status) (*Agent, error) {
	a := Get(ctx.KV, id)
	if a == nil {
		return nil, ErrUnknownAgent.Wrapf("no agent %d", id)
	}
	if a.Owner != signer {
		return nil, ErrNotOwner.Wrapf("agent %d belongs to %s, not %s", id, a.Owner, signer)
	}
	return a, allow(a, what, allowed...)
}

// allow checks that an agent is in one of the given statuses.
func allow(a *Agent, what string, allowed ...Status) error {
	for _, s := range allowed {
		if a.Status == s {
			return nil
		}
	}
	switch a.Status {
	case Unbonding:
		return ErrWrongStatus.Wrapf("agent %d was deregistered (its deposit is paid back at height %d); cannot %s", a.ID, a.RefundAt, what)
	case Closed:
		return ErrWrongStatus.Wrapf("agent %d was deregistered and refunded; cannot %s", a.ID, what)
	case Expired:
		return ErrWrongStatus.Wrapf("agent %d expired at height %d; renew it first to %s", a.ID, a.ExpiresAt, what)
	}
	return ErrWrongStatus.Wrapf("agent %d is %s; cannot %s", a.ID, a.Status, what)
}

// HandleUpdate sets the card, summary, price and endpoint of an agent the
// signer owns.
func (k Keeper) HandleUpdate(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgUpdate(body)
	if err != nil {
		return err
	}
	a, err := owned(ctx, signer, m.Agent, "update it", Active, Expired)
	if err != nil {
		return err
	}
	if err := validateSummary(m.CardHash, m.CardSize, m.Name, m.Description, m.Skills, m.Endpoint, GetParams(ctx.KV)); err != nil {
		return err
	}
	a.CardHash, a.CardSize, a.Name, a.Description, a.Skills = m.CardHash, m.CardSize, m.Name, m.Description, m.Skills
	a.Price, a.Endpoint = m.Price, m.Endpoint
	save(ctx.KV, a, ctx.Block.Height)
	ctx.Emit(types.NewEvent("agent_updated", "id", idStr(a.ID), "name", a.Name, "card", a.CardHash.String(),
		"price", amt(a.Price)))
	return nil
}

// HandleRenew renews an active or expired agent the signer owns for the
// registration period from now, and adds to its deposit.
func (k Keeper) HandleRenew(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgRenew(body)
	if err != nil {
		return err
	}
	a, err := owned(ctx, signer, m.Agent, "renew it", Active, Expired)
	if err != nil {
		return err
	}
	dep, err := a.Deposit.Add(m.AddDeposit)
	if err != nil {
		return ErrOverflow.Wrapf("deposit %s + %s", a.Deposit, m.AddDeposit)
	}
	p := GetParams(ctx.KV)
	if dep < p.MinDeposit {
		// The minimum may have risen since the registration.
		return ErrInvalidAmount.Wrapf("deposit %s is below the minimum of %s; add at least %s", dep, p.MinDeposit, p.MinDeposit-dep)
	}
	if m.AddDeposit > 0 {
		if err := k.Bank.Send(ctx.KV, signer, Deposits, m.AddDeposit); err != nil {
			return err
		}
	}
	h := ctx.Block.Height
	if a.Status == Active {
		ctx.KV.Delete(expiryKey(a.ExpiresAt, a.ID))
	}
	a.Deposit, a.Status, a.ExpiresAt = dep, Active, h+p.RegistrationBlocks
	ctx.KV.Set(expiryKey(a.ExpiresAt, a.ID), []byte{})
	save(ctx.KV, a, h)
	ctx.Emit(types.NewEvent("agent_renewed", "id", idStr(a.ID), "deposit", amt(a.Deposit),
		"expires_at", types.U64(uint64(a.ExpiresAt))))
	return nil
}

// HandleDeregister deregisters an agent the signer owns: it stops being
// listed at once, and its deposit is paid back after the unbonding
// period. An agent in a collective leaves it first.
func (k Keeper) HandleDeregister(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgAgent(body)
	if err != nil {
		return err
	}
	a, err := owned(ctx, signer, m.Agent, "deregister it", Active, Expired)
	if err != nil {
		return err
	}
	if cs := collectivesOf(ctx.KV, a.ID); len(cs) > 0 {
		return ErrInCollective.Wrapf("agent %d is in collective %s; leave it first (mycel collective leave %d --agent %d)",
			a.ID, idList(cs), cs[0], a.ID)
	}
	h := ctx.Block.Height
	if a.Status == Active {
		ctx.KV.Delete(expiryKey(a.ExpiresAt, a.ID))
	}
	delist(ctx.KV, a)
	a.Status, a.RefundAt = Unbonding, h+GetParams(ctx.KV).UnbondingBlocks
	ctx.KV.Set(refundKey(a.RefundAt, a.ID), []byte{})
	save(ctx.KV, a, h)
	ctx.Emit(types.NewEvent("agent_deregistered", "id", idStr(a.ID), "owner", a.Owner.String(), "deposit", amt(a.Deposit),
		"refund_at", types.U64(uint64(a.RefundAt))))
	return nil
}

func idList(ids []uint64) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += idStr(id)
	}
	return s
}

// changeOwner gives an agent to a new owner: the signing key is cleared
// (the old operator's key stops working at once) and the listing ends.
func changeOwner(kv store.KV, a *Agent, to types.Address, h int64) {
	kv.Delete(ownerKey(a.Owner, a.ID))
	kv.Set(ownerKey(to, a.ID), []byte{})
	delist(kv, a)
	a.Owner, a.OwnedSince = to, h
	a.SigningKey, a.KeySince = PublicKey{}, 0
}

func validNewOwner(a *Agent, to types.Address) error {
	switch {
	case to.IsZero():
		return ErrInvalidOwner.Wrapf("the zero address cannot own an agent")
	case to == Deposits:
		return ErrInvalidOwner.Wrapf("%s is the agents' deposit account", to)
	case to == a.Owner:
		return ErrInvalidOwner.Wrapf("%s already owns agent %d", to, a.ID)
	}
	return nil
}

// HandleTransfer gives an agent the signer owns to a new owner, who must
// then set a signing key of its own.
func (k Keeper) HandleTransfer(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgTransfer(body)
	if err != nil {
		return err
	}
	a, err := owned(ctx, signer, m.Agent, "transfer it", Active, Expired)
	if err != nil {
		return err
	}
	if err := validNewOwner(a, m.NewOwner); err != nil {
		return err
	}
	prev := a.Owner
	h := ctx.Block.Height
	changeOwner(ctx.KV, a, m.NewOwner, h)
	save(ctx.KV, a, h)
	ctx.Emit(types.NewEvent("agent_transferred", "id", idStr(a.ID), "owner", a.Owner.String(), "previous_owner", prev.String()))
	return nil
}

// HandleSetKey sets the signing key of an agent the signer owns.
func (k Keeper) HandleSetKey(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgSetKey(body)
	if err != nil {
		return err
	}
	a, err := owned(ctx, signer, m.Agent, "set its key", Active, Expired)
	if err != nil {
		return err
	}
	if m.Key.IsZero() {
		return ErrInvalidKey.Wrapf("the zero key signs nothing; name the ed25519 key that will sign agent %d's messages", a.ID)
	}
	h := ctx.Block.Height
	a.SigningKey, a.KeySince = m.Key, h
	save(ctx.KV, a, h)
	ctx.Emit(types.NewEvent("agent_key_set", "id", idStr(a.ID), "key", a.SigningKey.String()))
	return nil
}
