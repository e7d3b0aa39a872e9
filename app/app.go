package app

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

// Version is the application's protocol version, reported to CometBFT.
const Version uint64 = 1

var (
	keyChainID   = []byte("app/chain_id")
	keyLastBlock = []byte("app/last_block") // height, time of the last finalized block
)

// Options configure an App.
type Options struct {
	Logger *slog.Logger
	// Registerer receives the application's metrics; nil for none.
	Registerer prometheus.Registerer
	// CheckInvariants verifies the supply and stake invariants after every
	// block and fails the block if they break. Tests turn it on.
	CheckInvariants bool
	// TreeCacheNodes bounds the decoded Merkle tree nodes kept in memory.
	TreeCacheNodes int
	// Availability lists the revealed jobs whose outputs this node holds,
	// for its vote extensions; nil attests nothing.
	Availability func() []uint64
}

// App is the mycel ABCI application.
type App struct {
	abci.BaseApplication

	log     *slog.Logger
	db      *storage.DB
	router  *router
	compute compute.Keeper
	sigs    *sigCache
	metrics *metrics
	opts    Options

	// Consensus connection state, guarded by mu.
	mu       sync.Mutex
	tree     *store.Tree
	staged   *store.Cache // writes of the finalized block, not yet committed
	stagedH  int64
	pendingH []types.Hash // hashes of the staged block's transactions

	// Check state, guarded by checkMu.
	checkMu    sync.Mutex
	check      *store.Cache
	checkBlock types.Block
}

var _ abci.Application = (*App)(nil)

// New opens the application over its state database.
func New(db *storage.DB, o Options) *App {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.TreeCacheNodes == 0 {
		o.TreeCacheNodes = 1 << 18
	}
	a := &App{
		log:     o.Logger,
		db:      db,
		router:  newRouter(Routes()),
		compute: computeKeeper(),
		sigs:    newSigCache(1 << 17),
		metrics: newMetrics(o.Registerer),
		opts:    o,
		tree:    store.NewTree(db.Nodes(), db.Root(), o.TreeCacheNodes),
	}
	a.resetCheckState()
	return a
}

// lastBlock reads the chain id and the last finalized block's height and
// time from committed state.
func lastBlock(r store.Reader) types.Block {
	b := types.Block{ChainID: string(r.Get(keyChainID))}
	if v := r.Get(keyLastBlock); len(v) == 16 {
		b.Height = int64(binary.BigEndian.Uint64(v))
		b.TimeUnixNano = int64(binary.BigEndian.Uint64(v[8:]))
	}
	return b
}

func setLastBlock(kv store.KV, b types.Block) {
	v := binary.BigEndian.AppendUint64(nil, uint64(b.Height))
	kv.Set(keyLastBlock, binary.BigEndian.AppendUint64(v, uint64(b.TimeUnixNano)))
}

// resetCheckState starts CheckTx over from committed state, for the next
// block.
func (a *App) resetCheckState() {
	st := a.db.State()
	last := lastBlock(st)
	a.checkMu.Lock()
	a.check = store.NewCache(st)
	a.checkBlock = types.Block{ChainID: last.ChainID, Height: last.Height + 1, TimeUnixNano: last.TimeUnixNano}
	a.checkMu.Unlock()
}

// Info tells CometBFT where the application's state stands, so its
// handshake replays the blocks the application has not committed.
func (a *App) Info(context.Context, *abci.InfoRequest) (*abci.InfoResponse, error) {
	h := a.db.Height()
	resp := &abci.InfoResponse{Version: "mycel", AppVersion: Version, LastBlockHeight: h}
	if h > 0 {
		root := a.db.Root()
		resp.LastBlockAppHash = root[:]
	}
	return resp, nil
}

// InitChain writes the genesis state. It is staged with block 1 and
// committed with it.
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var g Genesis
	if err := json.Unmarshal(req.AppStateBytes, &g); err != nil {
		return nil, fmt.Errorf("parse genesis app_state: %w", err)
	}
	if ev := req.ConsensusParams.GetEvidence(); ev != nil {
		if err := g.Stake.Params.CheckEvidenceAge(ev.MaxAgeNumBlocks, int64(ev.MaxAgeDuration.Seconds())); err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
	}
	if a.db.Height() == 0 && lastBlock(a.db.State()).ChainID != "" {
		// Genesis was committed before a crash that came ahead of block
		// 1; CometBFT asks again. Answer as before.
		root := a.db.Root()
		return &abci.InitChainResponse{AppHash: root[:], Validators: abciUpdates(a.genesisUpdates())}, nil
	}
	genesis := store.NewCache(a.db.State())
	blk := types.Block{ChainID: req.ChainId, Height: req.InitialHeight - 1, TimeUnixNano: req.Time.UnixNano()}
	ctx := exec.New(genesis, blk)
	ctx.KV.Set(keyChainID, []byte(req.ChainId))
	setLastBlock(ctx.KV, blk)
	var ve int64
	if f := req.ConsensusParams.GetFeature(); f != nil && f.VoteExtensionsEnableHeight != nil {
		ve = f.VoteExtensionsEnableHeight.Value
	}
	if g.Compute.AttestOutputs && ve <= 0 {
		return nil, fmt.Errorf("genesis: compute.attest_outputs needs vote extensions (consensus_params.feature.vote_extensions_enable_height > 0)")
	}
	ctx.KV.Set(keyVEHeight, binary.BigEndian.AppendUint64(nil, uint64(ve)))
	updates, err := a.initGenesis(ctx, g)
	if err != nil {
		return nil, err
	}
	if err := a.checkInvariants(genesis); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	// Genesis is committed at once, as height 0, so CheckTx sees the
	// funded accounts before block 1.
	changes := genesis.Changes()
	root := a.tree.Update(changes)
	if err := a.db.Commit(storage.Block{Height: 0, Root: root, Changes: changes, Nodes: a.tree.Flush()}); err != nil {
		return nil, fmt.Errorf("commit genesis: %w", err)
	}
	a.resetCheckState()
	a.log.Info("genesis committed", "chain_id", req.ChainId, "validators", len(updates), "app_hash", root)
	return &abci.InitChainResponse{AppHash: root[:], Validators: abciUpdates(updates)}, nil
}

func abciUpdates(us []stake.ValidatorUpdate) []abci.ValidatorUpdate {
	out := make([]abci.ValidatorUpdate, len(us))
	for i, u := range us {
		out[i] = abci.ValidatorUpdate{Power: u.Power, PubKeyBytes: u.PubKey, PubKeyType: "ed25519"}
	}
	return out
}

func (a *App) checkInvariants(r store.Reader) error {
	if !a.opts.CheckInvariants {
		return nil
	}
	return errors.Join(bank.CheckInvariant(r), stake.CheckInvariant(r), compute.CheckInvariant(r, bankKeeper{}), model.CheckInvariant(r),
		paych.CheckInvariant(r, bankKeeper{}), agent.CheckInvariant(r, bankKeeper{}))
}

// Commit writes the staged block to disk in one synced batch.
func (a *App) Commit(context.Context, *abci.CommitRequest) (*abci.CommitResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.staged == nil {
		return nil, errors.New("commit without a finalized block")
	}
	start := time.Now()
	root := a.tree.Root()
	changes := a.staged.Changes()
	nodes := a.tree.Flush()
	if err := a.db.Commit(storage.Block{Height: a.stagedH, Root: root, Changes: changes, Nodes: nodes}); err != nil {
		return nil, err
	}
	a.staged = nil
	a.sigs.forget(a.pendingH)
	a.pendingH = nil
	a.resetCheckState()
	a.metrics.commit(a.stagedH, len(changes), len(nodes), time.Since(start))
	return &abci.CommitResponse{}, nil
}

// ChainID returns the chain id from committed state.
func (a *App) ChainID() string { return lastBlock(a.db.State()).ChainID }

// genesisUpdates returns the validator set as genesis left it.
func (a *App) genesisUpdates() []stake.ValidatorUpdate {
	var out []stake.ValidatorUpdate
	for _, v := range stake.ActiveValidators(a.db.State()) {
		out = append(out, stake.ValidatorUpdate{PubKey: v.ConsensusKey, Power: v.Power})
	}
	return out
}
