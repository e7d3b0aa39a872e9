package app

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/chain/tx"
)

// maxTxBytesHard bounds what CheckTx will even decode; the fee schedule's
// limit (at most this) is applied by auth.Ante.
const maxTxBytesHard = 1 << 20

// CheckTx admits a transaction to the mempool if it would succeed now: it
// runs auth's rules and the messages against the check state, which keeps
// the effects of transactions already admitted since the last block. So an
// underfunded transfer is refused here and never costs a fee.
func (a *App) CheckTx(_ context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	res := a.checkTx(req.Tx)
	a.metrics.check(res.Codespace, res.Code)
	return res, nil
}

func (a *App) checkTx(raw []byte) *abci.CheckTxResponse {
	if len(raw) > maxTxBytesHard {
		return checkErr(auth.ErrTxTooLarge.Wrapf("%d bytes, the limit is %d", len(raw), maxTxBytesHard))
	}
	t, err := a.decode(raw)
	if err != nil {
		return checkErr(err)
	}
	h := tx.Hash(raw)
	if !a.sigs.has(h) {
		// Outside any lock: CheckTx calls verify in parallel.
		if !t.VerifySignature() {
			return checkErr(auth.ErrBadSignature.Wrapf("signer %s", t.Signer()))
		}
		a.sigs.add(h)
	}

	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	cache := store.NewCache(a.check)
	ctx := exec.New(cache, a.checkBlock)
	if err := auth.Ante(ctx, t, len(raw), a.feePayer(ctx, t)); err != nil {
		return checkErr(err)
	}
	if err := a.runMsgs(ctx, t); err != nil {
		return checkErr(err)
	}
	cache.WriteTo(a.check)
	return &abci.CheckTxResponse{Code: 0}
}

func checkErr(err error) *abci.CheckTxResponse {
	r := errResult(err)
	return &abci.CheckTxResponse{Code: r.Code, Codespace: r.Codespace, Log: r.Log}
}

// PrepareProposal fills a block from the mempool in order, up to the size
// limit, leaving out anything that does not decode. When the last height
// carried vote extensions, they go first.
func (a *App) PrepareProposal(_ context.Context, req *abci.PrepareProposalRequest) (*abci.PrepareProposalResponse, error) {
	txs := make([][]byte, 0, len(req.Txs)+1)
	var total int64
	if extensionsFor(a.db.State(), req.Height) {
		ext, err := extensionTx(req.LocalLastCommit)
		if err != nil {
			return nil, fmt.Errorf("vote extensions: %w", err)
		}
		txs = append(txs, ext)
		total += int64(len(ext))
	}
	for _, raw := range req.Txs {
		if total+int64(len(raw)) > req.MaxTxBytes {
			break
		}
		if _, err := a.decode(raw); err != nil {
			continue
		}
		total += int64(len(raw))
		txs = append(txs, raw)
	}
	return &abci.PrepareProposalResponse{Txs: txs}, nil
}

// ProcessProposal refuses a block carrying transactions that do not even
// decode: an honest proposer never includes them. Everything else is
// decided by FinalizeBlock's result codes.
func (a *App) ProcessProposal(_ context.Context, req *abci.ProcessProposalRequest) (*abci.ProcessProposalResponse, error) {
	reject := &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}
	txs := req.Txs
	st := a.db.State()
	if extensionsFor(st, req.Height) {
		if len(txs) == 0 {
			a.log.Info("proposal refused: no vote extensions", "height", req.Height)
			return reject, nil
		}
		info, err := decodeExtensionTx(txs[0])
		if err == nil {
			err = checkExtensions(st, lastBlock(st).ChainID, req.Height, info, req.ProposedLastCommit)
		}
		if err != nil {
			a.log.Info("proposal refused", "height", req.Height, "err", err)
			return reject, nil
		}
		txs = txs[1:]
	}
	for _, raw := range txs {
		if len(raw) > maxTxBytesHard {
			return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
		}
		if _, err := a.decode(raw); err != nil {
			return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
		}
	}
	return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_ACCEPT}, nil
}
