package app

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// FinalizeBlock executes a decided block against the staged state and
// returns each transaction's result, the validator updates and the new app
// hash. Nothing reaches disk until Commit.
func (a *App) FinalizeBlock(_ context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	a.staged = store.NewCache(a.db.State())
	chainID := string(a.staged.Get(keyChainID))
	blk := types.Block{
		ChainID: chainID, Height: req.Height, TimeUnixNano: req.Time.UnixNano(),
		Proposer: req.ProposerAddress, LastBlockHash: req.Hash,
	}
	cache := store.NewCache(a.staged)
	ctx := exec.New(cache, blk)

	for _, ev := range req.Misbehavior {
		// Both kinds of CometBFT evidence prove a validator signed
		// conflicting votes or headers.
		if err := stake.HandleDoubleSign(ctx, ev.Validator.Address, ev.Height); err != nil {
			return nil, fmt.Errorf("height %d: handle evidence: %w", req.Height, err)
		}
	}

	txs := req.Txs
	var results []*abci.ExecTxResult
	if extensionsFor(cache, req.Height) && len(txs) > 0 && isExtensionTx(txs[0]) {
		info, err := decodeExtensionTx(txs[0])
		if err == nil {
			err = a.applyExtensions(ctx, info)
		}
		if err != nil {
			return nil, fmt.Errorf("height %d: vote extensions: %w", req.Height, err)
		}
		results = append(results, &abci.ExecTxResult{})
		txs = txs[1:]
	}
	decoded, hashes := a.verifyBlockTxs(txs)
	for i, raw := range txs {
		r := a.deliver(ctx, raw, decoded[i])
		a.metrics.tx(r.Codespace, r.Code)
		results = append(results, r)
	}

	if err := a.compute.EndBlock(ctx); err != nil {
		return nil, fmt.Errorf("height %d: compute: %w", req.Height, err)
	}
	if err := agentKeeper().EndBlock(ctx); err != nil {
		return nil, fmt.Errorf("height %d: agents: %w", req.Height, err)
	}
	recipients := activeRecipients(cache)
	if err := mint.EndBlock(ctx, auth.FeeCollector, recipients); err != nil {
		return nil, fmt.Errorf("height %d: rewards: %w", req.Height, err)
	}
	updates, err := stake.EndBlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("height %d: stake: %w", req.Height, err)
	}
	setLastBlock(cache, blk)

	changes := cache.Changes()
	root := a.tree.Update(changes)
	cache.WriteTo(a.staged)
	if err := a.checkInvariants(a.staged); err != nil {
		return nil, fmt.Errorf("height %d: invariant broken: %w", req.Height, err)
	}
	a.stagedH = req.Height
	a.pendingH = hashes
	a.metrics.block(req.Height, len(req.Txs), time.Since(start))
	return &abci.FinalizeBlockResponse{
		TxResults:        results,
		ValidatorUpdates: abciUpdates(updates),
		AppHash:          root[:],
		Events:           abciEvents(ctx.Events()),
	}, nil
}

func activeRecipients(r store.Reader) []mint.Recipient {
	vals := stake.ActiveValidators(r)
	out := make([]mint.Recipient, len(vals))
	for i, v := range vals {
		out[i] = mint.Recipient{Address: v.Operator, Weight: v.Bonded}
	}
	return out
}

// decodedTx is a transaction decoded and checked without state.
type decodedTx struct {
	tx  *tx.Tx
	err error // the stateless failure, if any
}

// verifyBlockTxs decodes a block's transactions and checks the signatures
// that CheckTx has not already checked, spread over the CPUs.
func (a *App) verifyBlockTxs(raws [][]byte) ([]decodedTx, []types.Hash) {
	out := make([]decodedTx, len(raws))
	hashes := make([]types.Hash, len(raws))
	var todo []int
	for i, raw := range raws {
		hashes[i] = tx.Hash(raw)
		t, err := a.decode(raw)
		out[i] = decodedTx{tx: t, err: err}
		if err == nil && !a.sigs.has(hashes[i]) {
			todo = append(todo, i)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Each worker checks its share as one batch.
			var mine []int
			batch := types.NewSignatureBatch()
			for j := w; j < len(todo); j += workers {
				i := todo[j]
				mine = append(mine, i)
				batch.Add(out[i].tx.PubKey, out[i].tx.SignBytes(), out[i].tx.Sig)
			}
			for k, ok := range batch.Verify() {
				i := mine[k]
				if ok {
					a.sigs.add(hashes[i])
				} else {
					out[i].err = auth.ErrBadSignature.Wrapf("signer %s", out[i].tx.Signer())
				}
			}
		}(w)
	}
	wg.Wait()
	return out, hashes
}

// decode parses a transaction and checks that the router knows its
// messages.
func (a *App) decode(raw []byte) (*tx.Tx, error) {
	t, err := tx.Decode(raw)
	if err != nil {
		return nil, auth.ErrMalformedTx.Wrapf("%v", err)
	}
	for i, m := range t.Msgs {
		if _, ok := a.router.byKind[m.Kind]; !ok {
			return nil, auth.ErrUnknownMsg.Wrapf("message %d has kind %#x", i, m.Kind)
		}
	}
	return t, nil
}

// deliver runs one transaction. A transaction that fails auth's rules
// changes nothing. One that passes them pays its fee and uses its sequence
// even if a message then fails, so failed transactions still cost their
// sender; the messages' writes are then dropped.
func (a *App) deliver(ctx exec.Ctx, raw []byte, d decodedTx) *abci.ExecTxResult {
	if d.err != nil {
		return errResult(d.err)
	}
	t := d.tx
	// The transaction's events go in its result, not the block's.
	cache := store.NewCache(ctx.KV)
	actx := exec.New(cache, ctx.Block)
	if err := auth.Ante(actx, t, len(raw), a.feePayer(actx, t)); err != nil {
		return errResult(err)
	}
	actx.Emit(types.NewEvent("tx", "signer", t.Signer().String(), "sequence", types.U64(t.Sequence), "fee", types.U64(uint64(t.Fee))))
	mctx, msgs := actx.Branch()
	res := &abci.ExecTxResult{}
	if err := a.runMsgs(mctx, t); err != nil {
		res = errResult(err)
	} else {
		msgs.Commit()
	}
	cache.WriteTo(ctx.KV)
	res.Events = abciEvents(actx.Events())
	return res
}

// feePayer returns who pays a transaction's fee when it is not the signer:
// a job's escrow pays for its provider's acknowledgement, commit and
// reveal.
func (a *App) feePayer(ctx exec.Ctx, t *tx.Tx) auth.FeePayer {
	if len(t.Msgs) != 1 {
		return nil
	}
	if p := a.compute.FeePayer(ctx, t.Signer(), t.Msgs[0].Kind, t.Msgs[0].Body); p != nil {
		return p
	}
	return nil
}

func (a *App) runMsgs(ctx exec.Ctx, t *tx.Tx) error {
	signer := t.Signer()
	for i, m := range t.Msgs {
		if err := a.router.byKind[m.Kind].Handle(ctx, signer, m.Body); err != nil {
			return fmt.Errorf("message %d (%s): %w", i, a.router.byKind[m.Kind].Name, err)
		}
	}
	return nil
}

func errResult(err error) *abci.ExecTxResult {
	space, code := types.CodeOf(err)
	return &abci.ExecTxResult{Code: code, Codespace: space, Log: err.Error()}
}

func abciEvents(evs []types.Event) []abci.Event {
	out := make([]abci.Event, len(evs))
	for i, e := range evs {
		attrs := make([]abci.EventAttribute, len(e.Attrs))
		for j, at := range e.Attrs {
			attrs[j] = abci.EventAttribute{Key: at.Key, Value: at.Value, Index: true}
		}
		out[i] = abci.Event{Type: e.Type, Attributes: attrs}
	}
	return out
}
