package agent

import (
	"fmt"

	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// EndBlock expires the registrations whose time ran out at this height
// and pays back the deposits whose unbonding period ended, in key order
// (height, then id).
func (k Keeper) EndBlock(ctx exec.Ctx) error {
	h := ctx.Block.Height
	if err := k.decideReports(ctx, h); err != nil {
		return err
	}
	next := store.Key(store.BE64(uint64(h + 1)))
	for _, e := range store.CollectRange(ctx.KV, prefixExpiry, store.Key(prefixExpiry, next)) {
		id := idAt(e.Key)
		a := Get(ctx.KV, id)
		if a == nil || a.Status != Active {
			return fmt.Errorf("expiry entry %x names agent %d, which is not active", e.Key, id)
		}
		ctx.KV.Delete(e.Key)
		a.Status = Expired
		save(ctx.KV, a, h)
		ctx.Emit(types.NewEvent("agent_expired", "id", idStr(a.ID), "owner", a.Owner.String()))
	}
	for _, e := range store.CollectRange(ctx.KV, prefixRefund, store.Key(prefixRefund, next)) {
		id := idAt(e.Key)
		a := Get(ctx.KV, id)
		if a == nil || a.Status != Unbonding {
			return fmt.Errorf("refund entry %x names agent %d, which is not unbonding", e.Key, id)
		}
		ctx.KV.Delete(e.Key)
		if a.OpenReports > 0 {
			// A report may still take part of the deposit: wait for it.
			a.RefundAt = h + GetParams(ctx.KV).ReportRevealBlocks
			ctx.KV.Set(refundKey(a.RefundAt, a.ID), []byte{})
			save(ctx.KV, a, h)
			continue
		}
		if a.Deposit > 0 {
			if err := k.Bank.Send(ctx.KV, Deposits, a.Owner, a.Deposit); err != nil {
				return fmt.Errorf("refund agent %d: %w", a.ID, err)
			}
		}
		a.Status, a.Refunded, a.Deposit = Closed, a.Deposit, 0
		save(ctx.KV, a, h)
		ctx.Emit(types.NewEvent("agent_refunded", "id", idStr(a.ID), "owner", a.Owner.String(), "amount", amt(a.Refunded)))
	}
	return nil
}
