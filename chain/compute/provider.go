package compute

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/types"
)

// MaxSlots bounds the jobs one provider runs at once.
const MaxSlots = 256

// HandleRegisterProvider registers or updates the signer as a provider.
func (k Keeper) HandleRegisterProvider(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgRegisterProvider(body)
	if err != nil {
		return err
	}
	if err := m.Profile.validate(); err != nil {
		return err
	}
	switch {
	case m.Tier != TierDatacenter && m.Tier != TierConsumer:
		return ErrInvalidProfile.Wrapf("tier %d: use datacenter or consumer", m.Tier)
	case m.Slots == 0 || m.Slots > MaxSlots:
		return ErrInvalidProfile.Wrapf("slots %d: use 1 to %d", m.Slots, MaxSlots)
	}
	params := GetParams(ctx.KV)
	if m.Stake > 0 {
		if err := k.Stake.BondProvider(ctx, signer, m.Stake); err != nil {
			return err
		}
	}
	bond, jailed := k.Stake.ProviderBond(ctx.KV, signer)
	if jailed {
		return ErrProviderJailed.Wrapf("%s: unjail it first (mycel stake unjail --purpose provider)", signer)
	}
	if bond < params.MinProviderStake {
		return ErrStakeTooLow.Wrapf("%s has %s of provider stake, a provider needs %s", signer, bond, params.MinProviderStake)
	}
	p := GetProvider(ctx.KV, signer)
	if p == nil {
		p = &Provider{Address: signer, Since: ctx.Block.Height}
		addToDrawList(ctx.KV, p)
	}
	p.Profile, p.Price, p.Tier, p.Region, p.Slots, p.Retired = m.Profile, m.Price, m.Tier, m.Region, m.Slots, false
	k.noteRep(ctx, p, repTouch)
	k.touchLease(ctx, p, params)
	setProvider(ctx.KV, p)
	c := ClassOf(p.Profile)
	ctx.Emit(types.NewEvent("provider_registered", "provider", signer.String(), "price_per_cu", types.U64(uint64(p.Price)),
		"class", classString(c), "slots", types.U64(uint64(p.Slots)), "stake", types.U64(uint64(bond))))
	return nil
}

func classString(c Class) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 8)
	for _, x := range c {
		b = append(b, hex[x>>4], hex[x&15])
	}
	return string(b)
}

// HandleDeregisterProvider stops new work reaching the signer; its
// assigned jobs go on.
func (k Keeper) HandleDeregisterProvider(ctx exec.Ctx, signer types.Address, body []byte) error {
	if len(body) != 0 {
		return ErrMalformed.Wrapf("deregister takes no body")
	}
	p := GetProvider(ctx.KV, signer)
	if p == nil || p.Retired {
		return ErrNotProvider.Wrapf("%s", signer)
	}
	p.Retired = true
	reindex(ctx.KV, p, ctx.Block.Height)
	setProvider(ctx.KV, p)
	ctx.Emit(types.NewEvent("provider_deregistered", "provider", signer.String()))
	return nil
}

// HandleRenewLease extends the signer's lease.
func (k Keeper) HandleRenewLease(ctx exec.Ctx, signer types.Address, body []byte) error {
	if len(body) != 0 {
		return ErrMalformed.Wrapf("renew takes no body")
	}
	p := GetProvider(ctx.KV, signer)
	if p == nil || p.Retired {
		return ErrNotProvider.Wrapf("%s", signer)
	}
	k.touchLease(ctx, p, GetParams(ctx.KV))
	setProvider(ctx.KV, p)
	return nil
}

// touchLease extends a provider's lease from now and re-indexes it. The
// caller stores p.
func (k Keeper) touchLease(ctx exec.Ctx, p *Provider, params Params) {
	if p.Lease > 0 {
		ctx.KV.Delete(queueKey(prefixLease, p.Lease, p.Address[:]))
	}
	p.Lease = ctx.Block.Height + params.LeaseBlocks
	ctx.KV.Set(queueKey(prefixLease, p.Lease, p.Address[:]), []byte{})
	reindex(ctx.KV, p, ctx.Block.Height)
}
