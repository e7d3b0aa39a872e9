package bench

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	gogotypes "github.com/cosmos/gogoproto/types"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

// SchedulerOptions size the scheduler benchmark.
type SchedulerOptions struct {
	Sizes []int `json:"providers"`
	// Jobs is how many queued jobs one end-block step matches.
	Jobs     int       `json:"jobs"`
	Dir      string    `json:"-"`
	Progress io.Writer `json:"-"`
}

// SchedulerSize is one size's measurement.
type SchedulerSize struct {
	Providers int `json:"providers"`
	Matched   int `json:"matched"`
	// EndBlock is the end-block step that matched the jobs, on Pebble.
	EndBlockSeconds float64 `json:"end_block_seconds"`
	JobsPerSecond   float64 `json:"jobs_per_second"`
	// Naive is the same matching by scanning every provider for each job,
	// the baseline.
	NaiveSeconds float64 `json:"naive_seconds"`
	// Growth is this size's time per job over the previous size's.
	Growth float64 `json:"growth_from_previous"`
}

// SchedulerResult is the benchmark's outcome. Ratio is the naive scan's
// time over the scheduler's at the largest size: higher is better.
type SchedulerResult struct {
	Sizes    []SchedulerSize  `json:"sizes"`
	Ratio    float64          `json:"ratio"`
	Options  SchedulerOptions `json:"options"`
	Settings string           `json:"settings"`
}

// Scheduler registers providers by transactions through the application
// on Pebble, queues jobs, and times the end-block step that matches them,
// at each size; and, as the baseline, the same matching by a linear scan.
func Scheduler(ctx context.Context, o SchedulerOptions) (SchedulerResult, error) {
	if len(o.Sizes) == 0 {
		o.Sizes = []int{1000, 10000, 100000}
	}
	if o.Jobs <= 0 {
		o.Jobs = 2000
	}
	res := SchedulerResult{Options: o, Settings: fmt.Sprintf(
		"providers with random classes (1-64 cores, 1-256 GB, a quarter with GPUs of 8-80 GB) and prices, 4 slots each, registered by signed transactions; %d jobs with random requirements matched in one end-block step over Pebble", o.Jobs)}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "mycel-bench-sched-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	for i, n := range o.Sizes {
		say(o.Progress, "scheduler: %d providers ...", n)
		s, err := schedulerSize(ctx, filepath.Join(dir, fmt.Sprint(n)), n, o.Jobs)
		if err != nil {
			return res, fmt.Errorf("%d providers: %w", n, err)
		}
		if i > 0 && res.Sizes[i-1].Matched > 0 && s.Matched > 0 {
			prev := res.Sizes[i-1].EndBlockSeconds / float64(res.Sizes[i-1].Matched)
			s.Growth = (s.EndBlockSeconds / float64(s.Matched)) / prev
		}
		say(o.Progress, "scheduler: %d providers: %d jobs matched in %.1f ms (naive scan %.1f ms)", n, s.Matched, s.EndBlockSeconds*1e3, s.NaiveSeconds*1e3)
		res.Sizes = append(res.Sizes, s)
	}
	last := res.Sizes[len(res.Sizes)-1]
	if last.EndBlockSeconds > 0 {
		res.Ratio = last.NaiveSeconds / last.EndBlockSeconds
	}
	return res, nil
}

func say(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// schedNode drives an App block by block, as CometBFT would.
type schedNode struct {
	app *app.App
	db  *storage.DB
	h   int64
}

func (n *schedNode) block(txs [][]byte) (*abci.FinalizeBlockResponse, error) {
	n.h++
	r, err := n.app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Txs: txs, Height: n.h,
		Time: time.Unix(1_800_000_000+n.h, 0), Hash: []byte(fmt.Sprint(n.h))})
	if err != nil {
		return nil, err
	}
	_, err = n.app.Commit(context.Background(), &abci.CommitRequest{})
	return r, err
}

const schedChain = "mycel-bench-sched"

func schedulerSize(ctx context.Context, dir string, n, jobs int) (SchedulerSize, error) {
	out := SchedulerSize{Providers: n}
	db, err := storage.Open(dir, quiet())
	if err != nil {
		return out, err
	}
	defer db.Close()
	a := app.New(db, app.Options{Logger: quiet()})
	keys := make([]ed25519.PrivateKey, n)
	var accs []app.GenesisAccount
	for i := range keys {
		keys[i] = benchKey(1_000_000 + i)
		accs = append(accs, app.GenesisAccount{Address: types.AddressFromPubKey(keys[i].Public().(ed25519.PublicKey)), Amount: types.MYC(100)})
	}
	clientKey := benchKey(-1)
	accs = append(accs, app.GenesisAccount{Address: types.AddressFromPubKey(clientKey.Public().(ed25519.PublicKey)), Amount: types.MYC(1_000_000)})
	val := benchKey(-2)
	accs = append(accs, app.GenesisAccount{Address: types.AddressFromPubKey(val.Public().(ed25519.PublicKey)), Amount: types.MYC(10)})
	g, err := app.BuildGenesis(accs, []app.GenesisValidator{{Operator: accs[len(accs)-1].Address,
		ConsensusKey: benchKey(-3).Public().(ed25519.PublicKey), Bond: types.MYC(1)}}, app.DefaultStake(10, 10))
	if err != nil {
		return out, err
	}
	// One match a block while the jobs are queued; the measured step
	// raises it.
	g.Compute.MaxAssignPerBlock = 1
	raw, _ := json.Marshal(g)
	if _, err := a.InitChain(ctx, &abci.InitChainRequest{ChainId: schedChain, Time: time.Unix(1_800_000_000, 0), InitialHeight: 1,
		AppStateBytes: raw, ConsensusParams: &cmtproto.ConsensusParams{Evidence: &cmtproto.EvidenceParams{MaxAgeNumBlocks: 10},
			Feature: &cmtproto.FeatureParams{VoteExtensionsEnableHeight: &gogotypes.Int64Value{Value: 1}}}}); err != nil {
		return out, err
	}
	node := &schedNode{app: a, db: db}
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	params := a.ComputeParams()
	sign := func(k ed25519.PrivateKey, seq uint64, m tx.Msg) []byte {
		t := &tx.Tx{ChainID: schedChain, Sequence: seq, Fee: types.MYC(1), Msgs: []tx.Msg{m}}
		t.Sign(k)
		return t.Encode()
	}
	// Register the providers, 5000 a block.
	for start := 0; start < n; start += 5000 {
		var txs [][]byte
		for i := start; i < min(start+5000, n); i++ {
			prof := compute.Profile{CPUModel: "bench", Cores: uint32(1 << rng.IntN(7)), MemoryMB: uint64(1024 << rng.IntN(9)), Score: 100}
			if rng.IntN(4) == 0 {
				prof.Accel, prof.AccelCount, prof.AccelMemoryMB = compute.AccelGPU, 1, uint64(8192*(1+rng.IntN(10)))
			}
			m := compute.MsgRegisterProvider{Profile: prof, Price: types.Amount(1 + rng.IntN(100)), Tier: compute.TierDatacenter,
				Slots: 4, Stake: params.MinProviderStake}
			txs = append(txs, sign(keys[i], 0, tx.Msg{Kind: compute.KindRegisterProvider, Body: m.Encode()}))
		}
		r, err := node.block(txs)
		if err != nil {
			return out, err
		}
		for _, tr := range r.TxResults {
			if tr.Code != 0 {
				return out, fmt.Errorf("register provider: %s", tr.Log)
			}
		}
	}
	// Queue the jobs.
	var txs [][]byte
	for i := 0; i < jobs; i++ {
		req := compute.Requirements{Cores: uint32(1 + rng.IntN(16)), MemoryMB: uint64(256 << rng.IntN(8))}
		if rng.IntN(4) == 0 {
			req.Accel, req.AccelMemoryMB = compute.AccelGPU, uint64(4096*(1+rng.IntN(8)))
		}
		m := compute.MsgSubmitJob{Kind: compute.KindWasm, Program: types.SumHash([]byte("p")), Req: req,
			MaxPrice: types.MYC(10), GasLimit: 1e9, Redundancy: 1}
		txs = append(txs, sign(clientKey, uint64(i), tx.Msg{Kind: compute.KindSubmitJob, Body: m.Encode()}))
	}
	r, err := node.block(txs)
	if err != nil {
		return out, err
	}
	for _, tr := range r.TxResults {
		if tr.Code != 0 {
			return out, fmt.Errorf("submit job: %s", tr.Log)
		}
	}

	// The measured step: one end block over the committed state on
	// Pebble, matching every queued job.
	k := app.ComputeKeeper()
	measure := func() (int, time.Duration, error) {
		c := store.NewCache(db.State())
		p := compute.GetParams(c)
		p.MaxAssignPerBlock = uint32(jobs)
		if err := compute.InitGenesis(c, p); err != nil {
			return 0, 0, err
		}
		ctx := exec.New(c, types.Block{ChainID: schedChain, Height: node.h + 1, TimeUnixNano: (1_800_000_000 + node.h + 1) * 1e9, LastBlockHash: []byte("b")})
		start := time.Now()
		err := k.EndBlock(ctx)
		took := time.Since(start)
		matched := 0
		for _, e := range ctx.Events() {
			if e.Type == "job_assigned" {
				matched++
			}
		}
		return matched, took, err
	}
	// Once to warm the caches, then measured.
	if _, _, err := measure(); err != nil {
		return out, err
	}
	matched, took, err := measure()
	if err != nil {
		return out, err
	}
	out.Matched, out.EndBlockSeconds = matched, took.Seconds()
	if took > 0 {
		out.JobsPerSecond = float64(matched) / took.Seconds()
	}
	out.NaiveSeconds, err = naiveMatch(db.State(), jobs)
	return out, err
}

// naiveMatch is the baseline: for each queued job, scan every provider
// and keep the cheapest that serves it and has a free slot.
func naiveMatch(r store.Reader, jobs int) (float64, error) {
	provs := compute.Providers(r, types.Address{}, 1<<30)
	queued := compute.Jobs(r, compute.JobFilter{State: compute.Queued, Limit: jobs})
	free := make(map[types.Address]uint32, len(provs))
	for _, p := range provs {
		free[p.Address] = p.Slots - p.Active
	}
	params := compute.GetParams(r)
	start := time.Now()
	for _, j := range queued {
		need := compute.ClassNeeded(j.Req)
		var best *compute.Provider
		for _, p := range provs {
			if free[p.Address] == 0 || !compute.ClassOf(p.Profile).Serves(need) {
				continue
			}
			c, err := compute.Cost(j.GasLimit, p.Price, params.GasPerCU)
			if err != nil || c+params.FeeAllowance > j.MaxPrice {
				continue
			}
			if best == nil || p.Price < best.Price {
				best = p
			}
		}
		if best != nil {
			free[best.Address]--
		}
	}
	return time.Since(start).Seconds(), nil
}
