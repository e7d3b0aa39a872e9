package stake

import (
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/types"
)

// SlashOptions refine a Slash.
type SlashOptions struct {
	// InfractionHeight: unbonding entries that started before it were
	// already leaving when the fault happened and are spared.
	InfractionHeight int64
	// Reporter, when set, receives the ReporterReward share of the slash.
	Reporter *types.Address
	// Jail keeps the bond from working for JailBlocks.
	Jail bool
	// Tombstone jails forever: for proven fraud.
	Tombstone bool
}

// Slash takes fraction of addr's bond for purpose and of its unbonding
// entries of that purpose that started at or after the infraction. Part
// goes to the reporter, the rest is burned. It returns the amount taken
// and the reporter's share of it.
func Slash(ctx exec.Ctx, addr types.Address, p Purpose, fraction types.Fraction, reason string, o SlashOptions) (taken, paid types.Amount, err error) {
	if !fraction.Valid() {
		return 0, 0, ErrInvalidAmount.Wrapf("slash fraction %d above one", fraction)
	}
	params := GetParams(ctx.KV)
	bd, _ := GetBond(ctx.KV, addr, p)
	taken = bd.Amount.MulFraction(fraction)
	bd.Amount -= taken
	for _, u := range UnbondingsOf(ctx.KV, addr) {
		if u.Purpose != p || u.StartHeight < o.InfractionHeight {
			continue
		}
		cut := u.Amount.MulFraction(fraction)
		if cut == 0 {
			continue
		}
		taken += cut // bounded by the pool's balance, so it cannot overflow
		u.Amount -= cut
		if u.Amount == 0 {
			deleteUnbonding(ctx.KV, u)
		} else {
			putUnbonding(ctx.KV, u)
		}
	}
	if o.Reporter != nil && taken > 0 {
		paid = taken.MulFraction(params.ReporterReward)
		if err := bank.Send(ctx.KV, Pool, *o.Reporter, paid); err != nil {
			return 0, 0, err
		}
	}
	if err := bank.Burn(ctx.KV, Pool, taken-paid); err != nil {
		return 0, 0, err
	}
	if o.Jail || o.Tombstone {
		bd.Jailed = true
		if until := ctx.Block.Height + params.JailBlocks; until > bd.JailedUntil {
			bd.JailedUntil = until
		}
	}
	if o.Tombstone {
		bd.Tombstoned = true
	}
	setBond(ctx.KV, addr, p, bd)
	ev := types.NewEvent("slash", "address", addr.String(), "purpose", p.String(), "fraction", fraction.String(),
		"amount", types.U64(uint64(taken)), "burned", types.U64(uint64(taken-paid)), "reason", reason)
	if o.Reporter != nil {
		ev.Attrs = append(ev.Attrs, types.Attr{Key: "reporter", Value: o.Reporter.String()},
			types.Attr{Key: "reporter_reward", Value: types.U64(uint64(paid))})
	}
	if o.Jail || o.Tombstone {
		ev.Attrs = append(ev.Attrs, types.Attr{Key: "jailed_until", Value: types.U64(uint64(bd.JailedUntil))})
	}
	ctx.Emit(ev)
	return taken, paid, nil
}

// Jail keeps addr's bond for purpose from working until height until
// without taking any of it.
func Jail(ctx exec.Ctx, addr types.Address, p Purpose, until int64, reason string) {
	bd, _ := GetBond(ctx.KV, addr, p)
	bd.Jailed = true
	if until > bd.JailedUntil {
		bd.JailedUntil = until
	}
	setBond(ctx.KV, addr, p, bd)
	ctx.Emit(types.NewEvent("jail", "address", addr.String(), "purpose", p.String(),
		"jailed_until", types.U64(uint64(bd.JailedUntil)), "reason", reason))
}

// HandleDoubleSign punishes the validator whose consensus key signed two
// blocks at one height, as reported by CometBFT's evidence: it is slashed
// DoubleSignSlash and tombstoned. Evidence against an unknown or already
// tombstoned key changes nothing.
func HandleDoubleSign(ctx exec.Ctx, consAddr []byte, infractionHeight int64) error {
	op, ok := OperatorOf(ctx.KV, consAddr)
	if !ok {
		return nil
	}
	if bd, ok := GetBond(ctx.KV, op, Validator); ok && bd.Tombstoned {
		return nil
	}
	p := GetParams(ctx.KV)
	_, _, err := Slash(ctx, op, Validator, p.DoubleSignSlash, "double sign",
		SlashOptions{InfractionHeight: infractionHeight, Tombstone: true})
	return err
}
