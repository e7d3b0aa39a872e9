package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cometbft/cometbft/mempool"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// backend serves the API from a running node.
type backend struct{ n *Node }

var _ api.Backend = (*backend)(nil)

func (b *backend) Status(ctx context.Context) (api.Status, error) {
	st, err := b.n.rpc.Status(ctx)
	if err != nil {
		return api.Status{}, err
	}
	var out api.Status
	out.ChainID = st.NodeInfo.Network
	out.NodeID = string(st.NodeInfo.ID())
	out.Moniker = st.NodeInfo.Moniker
	out.Height = st.SyncInfo.LatestBlockHeight
	copy(out.AppHash[:], st.SyncInfo.LatestAppHash)
	out.LatestBlockTime = st.SyncInfo.LatestBlockTime
	out.CatchingUp = st.SyncInfo.CatchingUp
	out.APIAddress = b.n.apiAddr
	out.RPCAddress = b.n.conf.RPC.ListenAddress
	out.P2PAddress = b.n.conf.P2P.ListenAddress
	out.Validator.Address = st.ValidatorInfo.Address.String()
	out.Validator.Power = st.ValidatorInfo.VotingPower
	out.Peers = b.n.cmt.Switch().Peers().Size()
	out.Version = fmt.Sprintf("mycel app v%d, CometBFT %s", app.Version, st.NodeInfo.Version)
	return out, nil
}

func (b *backend) Account(_ context.Context, addr types.Address, prove bool) (app.AccountState, error) {
	return b.n.app.Account(addr, prove)
}

func (b *backend) AccountExists(addr types.Address) bool {
	st := b.n.db.State()
	return bank.Balance(st, addr) > 0 || auth.GetAccount(st, addr).Sequence > 0
}

func (b *backend) SubmitTx(ctx context.Context, raw []byte) (api.SubmitResult, error) {
	res, err := b.n.rpc.BroadcastTxSync(ctx, raw)
	var invalid mempool.ErrInvalidTx
	if errors.As(err, &invalid) {
		out := api.SubmitResult{Hash: tx.Hash(raw), Code: invalid.Code, Codespace: invalid.Codespace, Log: invalid.Log}
		return out, &api.TxRefusedError{Result: out}
	}
	if err != nil {
		return api.SubmitResult{}, mempoolError(err)
	}
	out := api.SubmitResult{Code: res.Code, Codespace: res.Codespace, Log: res.Log}
	copy(out.Hash[:], res.Hash)
	if res.Code != 0 {
		return out, &api.TxRefusedError{Result: out}
	}
	return out, nil
}

// mempoolError classifies CometBFT's refusals that come before the
// application sees a transaction.
func mempoolError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "tx already exists in cache"):
		return fmt.Errorf("%w: this exact transaction was already submitted: %s", api.ErrConflict, msg)
	case errors.Is(err, mempool.ErrRecheckFull), strings.Contains(msg, "mempool is full"):
		return fmt.Errorf("%w: mempool is full, retry shortly: %s", api.ErrUnavailable, msg)
	case strings.Contains(msg, "tx too large"):
		return fmt.Errorf("%w: %s", api.ErrBadRequest, msg)
	}
	return err
}

func (b *backend) Tx(ctx context.Context, hash types.Hash) (api.TxResult, error) {
	res, err := b.n.rpc.Tx(ctx, hash[:], false)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return api.TxResult{}, fmt.Errorf("%w: transaction %s is not in a committed block (yet)", api.ErrNotFound, hash)
		}
		return api.TxResult{}, err
	}
	out := api.TxResult{Hash: hash, Height: res.Height, Index: res.Index,
		Code: res.TxResult.Code, Codespace: res.TxResult.Codespace, Log: res.TxResult.Log, Events: []types.Event{}}
	for _, e := range res.TxResult.Events {
		ev := types.Event{Type: e.Type}
		for _, a := range e.Attributes {
			ev.Attrs = append(ev.Attrs, types.Attr{Key: a.Key, Value: a.Value})
		}
		out.Events = append(out.Events, ev)
	}
	if v, err := b.n.app.DescribeTx(cmttypes.Tx(res.Tx)); err == nil {
		out.Tx = &v
	}
	return out, nil
}

func (b *backend) Params(context.Context) (app.Params, error) { return b.n.app.Params(), nil }

func (b *backend) Validators(context.Context) ([]stake.ActiveValidator, error) {
	return b.n.app.Validators(), nil
}

func (b *backend) Supply(context.Context) (app.Supply, error) { return b.n.app.Supply(), nil }

func (b *backend) Block(ctx context.Context, height int64) (api.Block, error) {
	if height > b.n.Height() {
		return api.Block{}, fmt.Errorf("%w: block %d is not committed yet (height %d)", api.ErrNotFound, height, b.n.Height())
	}
	res, err := b.n.rpc.Block(ctx, &height)
	if err != nil {
		return api.Block{}, fmt.Errorf("%w: block %d: %v", api.ErrNotFound, height, err)
	}
	out := api.Block{Height: res.Block.Height, Time: res.Block.Time, NumTxs: len(res.Block.Txs),
		Proposer: res.Block.ProposerAddress.String()}
	copy(out.Hash[:], res.BlockID.Hash)
	copy(out.AppHash[:], res.Block.AppHash)
	if h, ok := b.n.app.AppHashAt(height); ok {
		out.ResultAppHash = &h
	}
	return out, nil
}

func (b *backend) Providers(_ context.Context, after types.Address, limit int) ([]app.ProviderInfo, error) {
	return b.n.app.Providers(after, limit), nil
}

func (b *backend) Provider(_ context.Context, a types.Address) (app.ProviderInfo, error) {
	p, ok := b.n.app.Provider(a)
	if !ok {
		return p, fmt.Errorf("%w: %s is not a registered provider", api.ErrNotFound, a)
	}
	return p, nil
}

func (b *backend) Jobs(_ context.Context, f compute.JobFilter) ([]*compute.Job, error) {
	return b.n.app.Jobs(f), nil
}

func (b *backend) Job(_ context.Context, id uint64) (*compute.Job, error) {
	j, ok := b.n.app.Job(id)
	if !ok {
		return nil, fmt.Errorf("%w: no job %d", api.ErrNotFound, id)
	}
	return j, nil
}

func (b *backend) Group(_ context.Context, id uint64) (*compute.Group, error) {
	g, ok := b.n.app.Group(id)
	if !ok {
		return nil, fmt.Errorf("%w: job %d is not a verified job", api.ErrNotFound, id)
	}
	return g, nil
}

func (b *backend) Work(ctx context.Context, p types.Address, after int64, wait time.Duration) (api.Work, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for b.n.app.Height() <= after {
		select {
		case <-ctx.Done():
			return b.work(p), nil
		case <-time.After(50 * time.Millisecond):
		}
	}
	return b.work(p), nil
}

func (b *backend) work(p types.Address) api.Work {
	// Read the height first: the jobs are at least that fresh.
	h := b.n.app.Height()
	return api.Work{Height: h, Jobs: b.n.app.Jobs(compute.JobFilter{Provider: &p, Limit: compute.MaxSlots})}
}

func (b *backend) FetchBlob(ctx context.Context, h types.Hash) error { return b.n.fetch.fetch(ctx, h) }

func (b *backend) RegistryModel(_ context.Context, h types.Hash) (*model.Model, error) {
	m, ok := b.n.app.RegistryModel(h)
	if !ok {
		return nil, fmt.Errorf("%w: model %s is not registered (see GET /v1/registry/models)", api.ErrNotFound, h)
	}
	return m, nil
}

func (b *backend) RegistryModels(_ context.Context, f model.Filter) ([]*model.Model, error) {
	return b.n.app.RegistryModels(f)
}
