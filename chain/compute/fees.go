package compute

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/types"
)

// FeePayer returns the payer of a transaction's fee when the job's escrow
// pays it: a transaction of one acknowledgement, commit or reveal, by the
// job's assigned provider, that this assignment has not yet paid for
// from the escrow and that would be accepted now. Otherwise it returns
// nil and the signer pays. The escrow pays exactly the scheduled fee.
func (k Keeper) FeePayer(ctx exec.Ctx, signer types.Address, kind uint16, body []byte) func(ctx exec.Ctx, fee, required types.Amount) error {
	var id uint64
	var flag uint8
	var want State
	switch kind {
	case KindAckJob:
		m, err := DecodeMsgJob(body)
		if err != nil {
			return nil
		}
		id, flag, want = m.ID, paidAck, Assigned
	case KindCommitResult:
		m, err := DecodeMsgCommitResult(body)
		if err != nil {
			return nil
		}
		id, flag, want = m.ID, paidCommit, Assigned
	case KindRevealResult:
		m, err := DecodeMsgRevealResult(body)
		if err != nil {
			return nil
		}
		id, flag, want = m.ID, paidReveal, Committed
	default:
		return nil
	}
	j := GetJob(ctx.KV, id)
	if j == nil || j.Provider != signer || j.State != want || j.FeesPaid&flag != 0 || j.Escrow == 0 {
		return nil
	}
	if kind == KindAckJob && j.Acked {
		return nil
	}
	if kind == KindRevealResult && ctx.Block.Height <= j.CommittedAt {
		return nil
	}
	return func(ctx exec.Ctx, fee, required types.Amount) error {
		if fee != required {
			return ErrEscrowFee.Wrapf("job %d pays exactly the scheduled fee %s, not %s", id, required, fee)
		}
		j := GetJob(ctx.KV, id)
		if j.Escrow < fee {
			return ErrEscrowFee.Wrapf("job %d has %s of escrow left, the fee is %s", id, j.Escrow, fee)
		}
		if err := k.Bank.Send(ctx.KV, Escrow, k.FeeCollector, fee); err != nil {
			return err
		}
		j.Escrow -= fee
		j.FeesPaid |= flag
		setJob(ctx.KV, j)
		return nil
	}
}
