package compute

import (
	"fmt"
	"sort"

	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Attestation is one validator's word, from its vote extension, on which
// revealed outputs its node holds.
type Attestation struct {
	Power int64
	Jobs  []uint64
}

// ApplyAttestations settles the revealed jobs whose outputs validators
// with more than two thirds of totalPower say their nodes hold.
func (k Keeper) ApplyAttestations(ctx exec.Ctx, atts []Attestation, totalPower int64) error {
	if totalPower <= 0 {
		return nil
	}
	type vote struct {
		id    uint64
		power int64
	}
	var votes []vote
	for _, a := range atts {
		ids := append([]uint64(nil), a.Jobs...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for i, id := range ids {
			if i > 0 && ids[i-1] == id {
				continue // one validator counts once per job
			}
			votes = append(votes, vote{id, a.Power})
		}
	}
	sort.Slice(votes, func(i, j int) bool { return votes[i].id < votes[j].id })
	for i := 0; i < len(votes); {
		id, power := votes[i].id, int64(0)
		for ; i < len(votes) && votes[i].id == id; i++ {
			power += votes[i].power
		}
		if power*3 <= totalPower*2 {
			continue
		}
		j := GetJob(ctx.KV, id)
		if j == nil || j.State != Revealed {
			continue
		}
		k.release(ctx, j)
		if err := k.finish(ctx, j, Succeeded, "", j.GasUsed); err != nil {
			return fmt.Errorf("settle job %d: %w", id, err)
		}
	}
	return nil
}

// EndBlock runs the block's scheduled work in a fixed order: missed
// deadlines, lapsed leases, matching queued jobs, and the reward epoch.
func (k Keeper) EndBlock(ctx exec.Ctx) error {
	p := GetParams(ctx.KV)
	h := ctx.Block.Height
	for _, kv := range due(ctx.KV, prefixDeadline, h) {
		ctx.KV.Delete(kv.Key)
		if err := k.deadline(ctx, p, idAfter(prefixDeadline, kv.Key), h); err != nil {
			return err
		}
	}
	for _, kv := range due(ctx.KV, prefixLease, h) {
		ctx.KV.Delete(kv.Key)
		if pr := GetProvider(ctx.KV, addrAfter(prefixLease, kv.Key)); pr != nil && pr.Lease <= h {
			reindex(ctx.KV, pr, h)
			setProvider(ctx.KV, pr)
			ctx.Emit(types.NewEvent("lease_lapsed", "provider", pr.Address.String()))
		}
	}
	for _, kv := range due(ctx.KV, prefixDraw, h) {
		ctx.KV.Delete(kv.Key)
		if g := GetGroup(ctx.KV, idAfter(prefixDraw, kv.Key)); g != nil {
			if err := k.drawAudit(ctx, p, g); err != nil {
				return err
			}
		}
	}
	for _, kv := range due(ctx.KV, prefixFinal, h) {
		ctx.KV.Delete(kv.Key)
		if g := GetGroup(ctx.KV, idAfter(prefixFinal, kv.Key)); g != nil {
			if err := k.closeWindow(ctx, g); err != nil {
				return err
			}
		}
	}
	if err := k.plant(ctx, p); err != nil {
		return err
	}
	if err := k.schedule(ctx, p); err != nil {
		return err
	}
	if h%p.RewardEpochBlocks == 0 {
		return k.payRewards(ctx)
	}
	return nil
}

// deadline handles a job whose acknowledgement or result deadline is h.
func (k Keeper) deadline(ctx exec.Ctx, p Params, id uint64, h int64) error {
	j := GetJob(ctx.KV, id)
	if j == nil {
		return nil
	}
	switch {
	case j.State == Assigned && !j.Acked && j.AckDeadline <= h:
		return k.miss(ctx, p, j, "no acknowledgement by height "+types.U64(uint64(j.AckDeadline)))
	case j.Group != 0 && j.State == Committed && j.Deadline <= h && !k.gateOpen(ctx, j):
		// Waiting on other runs is not the run's fault: it gets
		// RevealBlocks more.
		j.Deadline = h + p.Verification.RevealBlocks
		ctx.KV.Set(queueKey(prefixDeadline, j.Deadline, store.BE64(j.ID)), []byte{})
		setJob(ctx.KV, j)
		return nil
	case (j.State == Assigned || j.State == Committed || j.State == Revealed) && j.Deadline <= h:
		why := "no result by height " + types.U64(uint64(j.Deadline))
		if j.State == Revealed {
			why = "the output could not be fetched by height " + types.U64(uint64(j.Deadline))
		}
		return k.miss(ctx, p, j, why)
	}
	return nil
}

// miss penalises the provider that missed a deadline and sends the job
// back to the queue, or fails it once MaxAttempts providers missed it.
func (k Keeper) miss(ctx exec.Ctx, p Params, j *Job, why string) error {
	missed, since := j.Provider, j.AssignedAt
	k.release(ctx, j)
	if _, _, err := k.Stake.SlashProvider(ctx, missed, p.MissSlash, fmt.Sprintf("missed job %d: %s", j.ID, why), Slashing{Since: since}); err != nil {
		return fmt.Errorf("slash %s: %w", missed, err)
	}
	if pr := GetProvider(ctx.KV, missed); pr != nil {
		pr.Missed++
		k.noteRep(ctx, pr, repMissed)
		reindex(ctx.KV, pr, ctx.Block.Height)
		setProvider(ctx.KV, pr)
	}
	ctx.Emit(types.NewEvent("job_missed", "id", types.U64(j.ID), "provider", missed.String(), "reason", why))
	if j.Group != 0 {
		if done, err := k.missGrouped(ctx, p, j, why); done || err != nil {
			return err
		}
	}
	k.unlock(ctx, j)
	j.Excluded = append(j.Excluded, missed)
	j.Attempts++
	j.Provider, j.Price, j.AssignedAt, j.Acked, j.AckDeadline, j.Deadline = types.Address{}, 0, 0, false, 0, 0
	j.Commitment, j.CommittedAt, j.FeesPaid = types.Hash{}, 0, 0
	j.Output, j.OutputSize, j.GasUsed, j.RunFailure = types.Hash{}, 0, 0, ""
	if j.Attempts >= p.MaxAttempts {
		if err := k.finish(ctx, j, Failed, fmt.Sprintf("%d providers missed the job", j.Attempts), 0); err != nil {
			return err
		}
		return k.groupProgress(ctx, j)
	}
	j.QueueExpiry = ctx.Block.Height + p.QueueBlocks
	enqueue(ctx, j)
	setJob(ctx.KV, j)
	return nil
}

// schedule matches up to MaxAssignPerBlock queued jobs, in queue order.
func (k Keeper) schedule(ctx exec.Ctx, p Params) error {
	h := ctx.Block.Height
	batch := collectN(ctx.KV, prefixQueue, queueKey(prefixQueue, h+1, nil), int(p.MaxAssignPerBlock))
	if len(batch) == 0 {
		return nil
	}
	m := k.newMatcher(ctx, p)
	for _, kv := range batch {
		j := GetJob(ctx.KV, idAfter(prefixQueue, kv.Key))
		ctx.KV.Delete(kv.Key)
		if j == nil || j.State != Queued {
			continue
		}
		if j.QueueExpiry <= h {
			if err := k.finish(ctx, j, Failed, "no eligible provider took the job before its queue expiry", 0); err != nil {
				return err
			}
			if err := k.groupProgress(ctx, j); err != nil {
				return err
			}
			continue
		}
		pr := m.match(j)
		if pr == nil {
			enqueue(ctx, j) // to the back; it keeps its expiry
			setJob(ctx.KV, j)
			continue
		}
		k.assign(ctx, p, j, pr)
		m.touched(ClassOf(pr.Profile))
	}
	return nil
}

func collectN(r store.Reader, from, to []byte, n int) []store.Change {
	var out []store.Change
	it := r.Iterator(from, to)
	defer it.Close()
	for ; it.Valid() && len(out) < n; it.Next() {
		out = append(out, store.Change{Key: append([]byte(nil), it.Key()...)})
	}
	return out
}

func (k Keeper) assign(ctx exec.Ctx, p Params, j *Job, pr *Provider) {
	h := ctx.Block.Height
	j.State, j.Provider, j.Price, j.AssignedAt = Assigned, pr.Address, pr.Price, h
	j.Acked, j.AckDeadline, j.Deadline, j.FeesPaid = false, h+p.AckBlocks, h+j.DeadlineBlocks, 0
	ctx.KV.Set(queueKey(prefixDeadline, j.AckDeadline, store.BE64(j.ID)), []byte{})
	ctx.KV.Set(queueKey(prefixDeadline, j.Deadline, store.BE64(j.ID)), []byte{})
	ctx.KV.Set(providerJobKey(pr.Address, j.ID), []byte{})
	setJob(ctx.KV, j)
	if j.Group != 0 && j.Role == RoleProvider {
		// Redundant runs go to different providers.
		if g := GetGroup(ctx.KV, j.Group); g != nil {
			for _, id := range g.Members {
				if s := GetJob(ctx.KV, id); s != nil && id != j.ID && !s.State.Finished() {
					s.Excluded = append(s.Excluded, pr.Address)
					setJob(ctx.KV, s)
				}
			}
		}
	}
	pr.Locked += j.Lock
	pr.Active++
	reindex(ctx.KV, pr, h)
	setProvider(ctx.KV, pr)
	ctx.Emit(types.NewEvent("job_assigned", "id", types.U64(j.ID), "provider", pr.Address.String(),
		"price_per_cu", types.U64(uint64(pr.Price)), "deadline", types.U64(uint64(j.Deadline))))
}

// payRewards splits the provider reward pool by the gas each provider
// settled this epoch; the division's remainder stays in the pool.
func (k Keeper) payRewards(ctx exec.Ctx) error {
	work := store.Collect(ctx.KV, prefixEpoch)
	var total uint64
	for _, w := range work {
		total += workOf(w.Value)
		ctx.KV.Delete(w.Key)
	}
	pool := k.Bank.Balance(ctx.KV, k.RewardPool)
	if total == 0 || pool == 0 {
		return nil
	}
	for _, w := range work {
		var a types.Address
		copy(a[:], w.Key[len(prefixEpoch):])
		share, err := pool.MulDiv(workOf(w.Value), total)
		if err != nil || share == 0 {
			continue
		}
		if err := k.Bank.Send(ctx.KV, k.RewardPool, a, share); err != nil {
			return fmt.Errorf("pay provider reward: %w", err)
		}
		if p := GetProvider(ctx.KV, a); p != nil {
			p.Earned += share
			setProvider(ctx.KV, p)
		}
		ctx.Emit(types.NewEvent("provider_reward", "provider", a.String(), "amount", types.U64(uint64(share)),
			"gas", types.U64(workOf(w.Value))))
	}
	return nil
}

func workOf(b []byte) uint64 {
	if len(b) != 8 {
		panic("compute: corrupt epoch work")
	}
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}
