package compute

import (
	"encoding/base64"

	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// HandleSubmitJob submits a job and escrows its maximum price.
func (k Keeper) HandleSubmitJob(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgSubmitJob(body)
	if err != nil {
		return err
	}
	p := GetParams(ctx.KV)
	if m.OnChain && m.MaxOutputBytes == 0 {
		m.MaxOutputBytes = MaxInlineBytes
	}
	if len(m.Inline) > 0 {
		m.Input = types.SumHash(m.Inline)
	}
	if m.MaxOutputBytes == 0 {
		m.MaxOutputBytes = p.MaxOutputBytes
	}
	if m.DeadlineBlocks == 0 {
		m.DeadlineBlocks = p.DefaultDeadline
	}
	switch {
	case m.Kind != KindWasm && m.Kind != KindInference:
		return ErrInvalidJob.Wrapf("kind %d: wasm (1) or inference (2)", m.Kind)
	case m.Verify == 0 && (m.Redundancy > 1 || m.AuditRate != 0):
		return ErrInvalidJob.Wrapf("redundancy and an audit rate need a verification mode (redundant or optimistic)")
	case m.Program.IsZero():
		return ErrInvalidJob.Wrapf("no program hash")
	case m.GasLimit == 0 || m.GasLimit > p.MaxGas:
		return ErrInvalidJob.Wrapf("gas limit %d outside [1, %d]", m.GasLimit, p.MaxGas)
	case m.MaxOutputBytes > p.MaxOutputBytes:
		return ErrInvalidJob.Wrapf("max output %d bytes above the limit of %d", m.MaxOutputBytes, p.MaxOutputBytes)
	case m.DeadlineBlocks <= p.AckBlocks || m.DeadlineBlocks > p.MaxDeadline:
		return ErrInvalidJob.Wrapf("deadline %d blocks outside (%d, %d]", m.DeadlineBlocks, p.AckBlocks, p.MaxDeadline)
	case m.Req.Cores > 1<<16 || m.Req.MemoryMB > 1<<32 || m.Req.Accel > AccelGPU || m.Req.AccelMemoryMB > 1<<32:
		return ErrInvalidJob.Wrapf("requirements out of range")
	case len(m.Inline) > MaxInlineBytes:
		return ErrInvalidJob.Wrapf("inline input of %d bytes above the limit of %d", len(m.Inline), MaxInlineBytes)
	case len(m.Inline) > 0 && !m.Input.IsZero() && m.Input != types.SumHash(m.Inline):
		return ErrInvalidJob.Wrapf("the input hash is not the inline input's (leave it zero)")
	case m.OnChain && m.MaxOutputBytes > MaxInlineBytes:
		return ErrInvalidJob.Wrapf("an on-chain result is at most %d bytes; max output %d", MaxInlineBytes, m.MaxOutputBytes)
	case m.MaxPrice <= p.FeeAllowance:
		return ErrInsufficientPay.Wrapf("max price %s must exceed the fee allowance of %s kept for the provider's transactions", m.MaxPrice, p.FeeAllowance)
	}
	if m.Verify != 0 {
		_, err := k.submitGroup(ctx, signer, m, p, m.AuditRate)
		return err
	}
	if err := k.Bank.Send(ctx.KV, signer, Escrow, m.MaxPrice); err != nil {
		return err
	}
	h := ctx.Block.Height
	j := &Job{
		ID: nextJobID(ctx.KV), Client: signer, Kind: m.Kind, Program: m.Program, Input: m.Input, Req: m.Req,
		MaxPrice: m.MaxPrice, Escrow: m.MaxPrice, GasLimit: m.GasLimit, MaxOutputBytes: m.MaxOutputBytes,
		DeadlineBlocks: m.DeadlineBlocks, Submitted: h, QueueExpiry: h + p.QueueBlocks, State: Queued,
		Inline: m.Inline, OnChain: m.OnChain, Runtime: DefaultRuntime(m.Kind),
	}
	enqueue(ctx, j)
	setJob(ctx.KV, j)
	ctx.KV.Set(clientKey(signer, j.ID), []byte{})
	ctx.Emit(types.NewEvent("job_submitted", "id", types.U64(j.ID), "client", signer.String(),
		"program", j.Program.String(), "max_price", types.U64(uint64(j.MaxPrice)), "gas_limit", types.U64(j.GasLimit)))
	return nil
}

// HandleCancelJob cancels the signer's job before any result is committed
// and refunds its escrow.
func (k Keeper) HandleCancelJob(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgJob(body)
	if err != nil {
		return err
	}
	j := GetJob(ctx.KV, m.ID)
	switch {
	case j == nil:
		return ErrNoJob.Wrapf("%d", m.ID)
	case j.Client != signer:
		return ErrNotClient.Wrapf("job %d belongs to %s", j.ID, j.Client)
	case j.Group != 0:
		g := GetGroup(ctx.KV, j.Group)
		if j.Role != RoleProvider || g == nil || g.Finished() {
			return ErrWrongState.Wrapf("job %d is a %s run of verified job %d, which is %s", j.ID, j.Role, j.Group, g.Phase)
		}
		return k.cancelGroup(ctx, g)
	case j.State != Queued && j.State != Assigned:
		return ErrWrongState.Wrapf("job %d is %s; only queued or assigned jobs without a committed result can be cancelled", j.ID, j.State)
	}
	if j.State == Queued {
		k.dequeue(ctx, j)
	} else {
		k.release(ctx, j)
	}
	return k.finish(ctx, j, Cancelled, "cancelled by the client", 0)
}

// enqueue puts a job at the back of the queue; the caller stores j.
func enqueue(ctx exec.Ctx, j *Job) {
	j.State, j.QueuedAt = Queued, ctx.Block.Height
	ctx.KV.Set(queueKey(prefixQueue, j.QueuedAt, store.BE64(j.ID)), []byte{})
}

func (k Keeper) dequeue(ctx exec.Ctx, j *Job) {
	ctx.KV.Delete(queueKey(prefixQueue, j.QueuedAt, store.BE64(j.ID)))
}

// release takes a job off its provider (deadlines, the provider's slot).
func (k Keeper) release(ctx exec.Ctx, j *Job) {
	ctx.KV.Delete(queueKey(prefixDeadline, j.AckDeadline, store.BE64(j.ID)))
	ctx.KV.Delete(queueKey(prefixDeadline, j.Deadline, store.BE64(j.ID)))
	ctx.KV.Delete(providerJobKey(j.Provider, j.ID))
	ctx.KV.Delete(store.Key(prefixRevealed, store.BE64(j.ID)))
	if p := GetProvider(ctx.KV, j.Provider); p != nil {
		if p.Active > 0 {
			p.Active--
		}
		reindex(ctx.KV, p, ctx.Block.Height)
		setProvider(ctx.KV, p)
	}
}

// assignedJob loads a job that signer, its provider, acts on.
func assignedJob(ctx exec.Ctx, signer types.Address, id uint64) (*Job, error) {
	j := GetJob(ctx.KV, id)
	switch {
	case j == nil:
		return nil, ErrNoJob.Wrapf("%d", id)
	case j.State.Finished() || j.State == Queued || j.Provider != signer:
		return nil, ErrNotAssigned.Wrapf("job %d is %s, not assigned to %s", id, j.State, signer)
	}
	return j, nil
}

// HandleAckJob acknowledges an assignment: the provider has the job.
func (k Keeper) HandleAckJob(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgJob(body)
	if err != nil {
		return err
	}
	j, err := assignedJob(ctx, signer, m.ID)
	if err != nil {
		return err
	}
	if j.State != Assigned || j.Acked {
		return ErrWrongState.Wrapf("job %d is already acknowledged", j.ID)
	}
	j.Acked = true
	ctx.KV.Delete(queueKey(prefixDeadline, j.AckDeadline, store.BE64(j.ID)))
	setJob(ctx.KV, j)
	k.touchProvider(ctx, signer)
	ctx.Emit(types.NewEvent("job_acked", "id", types.U64(j.ID), "provider", signer.String()))
	return nil
}

// HandleCommitResult records the provider's commitment to a result.
func (k Keeper) HandleCommitResult(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgCommitResult(body)
	if err != nil {
		return err
	}
	j, err := assignedJob(ctx, signer, m.ID)
	if err != nil {
		return err
	}
	if j.State != Assigned {
		return ErrWrongState.Wrapf("job %d is %s; a result is committed once", j.ID, j.State)
	}
	if !j.Acked {
		j.Acked = true
		ctx.KV.Delete(queueKey(prefixDeadline, j.AckDeadline, store.BE64(j.ID)))
	}
	j.Commitment, j.CommittedAt, j.State = m.Commitment, ctx.Block.Height, Committed
	setJob(ctx.KV, j)
	k.touchProvider(ctx, signer)
	ctx.Emit(types.NewEvent("job_committed", "id", types.U64(j.ID), "provider", signer.String()))
	if j.Group != 0 {
		k.onCommit(ctx, j)
	}
	return nil
}

// HandleRevealResult reveals a committed result. A run that failed on its
// own settles at once; an output settles once validators attest that it
// can be fetched.
func (k Keeper) HandleRevealResult(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgRevealResult(body)
	if err != nil {
		return err
	}
	j, err := assignedJob(ctx, signer, m.ID)
	if err != nil {
		return err
	}
	switch {
	case j.State != Committed:
		return ErrWrongState.Wrapf("job %d is %s; reveal after a commit", j.ID, j.State)
	case ctx.Block.Height <= j.CommittedAt:
		return ErrTooEarly.Wrapf("job %d was committed at height %d; reveal in a later block", j.ID, j.CommittedAt)
	case j.Group != 0 && !k.gateOpen(ctx, j):
		return k.revealGate(ctx, j)
	case Commitment(j.ID, m.Output, m.GasUsed, m.Failure, m.Salt) != j.Commitment:
		return ErrBadReveal.Wrapf("job %d", j.ID)
	case m.GasUsed > j.GasLimit:
		return ErrBadReveal.Wrapf("job %d: gas %d above the limit %d", j.ID, m.GasUsed, j.GasLimit)
	case m.Failure == "" && m.OutputSize > j.MaxOutputBytes:
		return ErrBadReveal.Wrapf("job %d: output of %d bytes above the limit %d", j.ID, m.OutputSize, j.MaxOutputBytes)
	case len(m.Result) > 0 && (!j.OnChain || m.Failure != ""):
		return ErrBadReveal.Wrapf("job %d: a result in the reveal is for jobs that asked for it on chain and succeeded", j.ID)
	case j.OnChain && m.Failure == "" && m.OutputSize > 0 &&
		(uint64(len(m.Result)) != m.OutputSize || types.SumHash(m.Result) != m.Output):
		return ErrBadReveal.Wrapf("job %d asked for its result on chain: reveal the %d output bytes whose hash was committed", j.ID, m.OutputSize)
	}
	j.Output, j.OutputSize, j.GasUsed, j.RunFailure = m.Output, m.OutputSize, m.GasUsed, m.Failure
	k.touchProvider(ctx, signer)
	ctx.Emit(types.NewEvent("job_revealed", "id", types.U64(j.ID), "provider", signer.String(),
		"output", m.Output.String(), "gas_used", types.U64(m.GasUsed), "failure", m.Failure))
	if len(m.Result) > 0 {
		// Base64: event attributes travel as strings, and a result may be
		// any bytes.
		j.Result = m.Result
		ctx.Emit(types.NewEvent("job_result", "id", types.U64(j.ID), "client", j.Client.String(),
			"result", base64.StdEncoding.EncodeToString(m.Result)))
	}
	if j.Group != 0 {
		return k.onReveal(ctx, j)
	}
	switch {
	case m.Failure != "":
		// The job failed on its own: the provider is paid for the metered
		// work and not penalised.
		k.release(ctx, j)
		return k.finish(ctx, j, Failed, "the job failed: "+m.Failure, j.GasUsed)
	case m.Output == EmptyHash && m.OutputSize == 0, !GetParams(ctx.KV).AttestOutputs:
		k.release(ctx, j)
		return k.finish(ctx, j, Succeeded, "", j.GasUsed)
	}
	j.State = Revealed
	ctx.KV.Set(store.Key(prefixRevealed, store.BE64(j.ID)), []byte{})
	setJob(ctx.KV, j)
	return nil
}

func (k Keeper) touchProvider(ctx exec.Ctx, a types.Address) {
	if p := GetProvider(ctx.KV, a); p != nil {
		k.touchLease(ctx, p, GetParams(ctx.KV))
		setProvider(ctx.KV, p)
	}
}

// finish ends a job: the provider (if the job has one and gas > 0) is
// paid for gas at its price, never more than the escrow holds, and the
// client gets the rest back. Call release first for assigned jobs.
func (k Keeper) finish(ctx exec.Ctx, j *Job, s State, reason string, gas uint64) error {
	params := GetParams(ctx.KV)
	k.unlock(ctx, j)
	var pay types.Amount
	ran := !j.Provider.IsZero() && (s == Succeeded || j.RunFailure != "")
	if ran {
		if gas > 0 {
			c, err := Cost(gas, j.Price, params.GasPerCU)
			if err != nil || c > j.Escrow {
				c = j.Escrow
			}
			pay = c
			if err := k.Bank.Send(ctx.KV, Escrow, j.Provider, pay); err != nil {
				return err
			}
			addEpochWork(ctx.KV, j.Provider, gas)
		}
		if p := GetProvider(ctx.KV, j.Provider); p != nil {
			p.Earned += pay
			p.GasTotal += gas
			if s == Succeeded {
				p.Done++
			} else {
				p.Failed++
			}
			k.noteRep(ctx, p, repGood)
			reindex(ctx.KV, p, ctx.Block.Height)
			setProvider(ctx.KV, p)
		}
	}
	refund := j.Escrow - pay
	if err := k.Bank.Send(ctx.KV, Escrow, j.Client, refund); err != nil {
		return err
	}
	j.Paid, j.Refunded, j.Escrow = pay, refund, 0
	j.State, j.Reason, j.Finished = s, reason, ctx.Block.Height
	setJob(ctx.KV, j)
	ev := types.NewEvent("job_finished", "id", types.U64(j.ID), "state", s.String(), "paid", types.U64(uint64(pay)),
		"refunded", types.U64(uint64(refund)), "gas_used", types.U64(gas))
	if !j.Provider.IsZero() {
		ev.Attrs = append(ev.Attrs, types.Attr{Key: "provider", Value: j.Provider.String()})
	}
	if reason != "" {
		ev.Attrs = append(ev.Attrs, types.Attr{Key: "reason", Value: reason})
	}
	ctx.Emit(ev)
	return nil
}
