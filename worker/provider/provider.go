package provider

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/types"
)

// Config configures a provider.
type Config struct {
	Client    *client.Client
	Key       ed25519.PrivateKey
	Executors map[compute.Kind]Executor
	// Profile is the hardware to register, with its benchmark score.
	Profile compute.Profile
	// Price is in umyc per compute unit.
	Price  types.Amount
	Tier   compute.Tier
	Region string
	Slots  int
	// Stake is the provider bond to hold; 0 means twice the chain's
	// minimum, so that one missed deadline's slash does not take the
	// provider off the market.
	Stake types.Amount
	// StateFile keeps job states across restarts; empty keeps none.
	StateFile string
	Logger    *slog.Logger
	// Poll is the long poll's wait.
	Poll time.Duration
	// Grace is how long shutdown waits for running jobs.
	Grace time.Duration
	// Engine, if set, answers inference requests through the node's
	// gateway (OpenAI-compatible API) on ServeSlots concurrent polls
	// (default Slots).
	Engine     Engine
	ServeSlots int
	// PublicURL is where this provider serves DirectHandler, if it has a
	// public address: the node then posts requests straight to it.
	PublicURL string
	// Payments, if set with a price, makes the models Engine serves paid
	// with payment channel vouchers; Run then also runs the payee's
	// watcher, which redeems the best vouchers when a payer settles (and
	// once a lane has grown by RedeemAbove, if set).
	Payments    *Payments
	RedeemAbove types.Amount
	// Misbehave, for tests and the verification benchmark only, makes
	// this provider cheat (see Misbehaviour): a fake that stands in for
	// a dishonest provider the network must catch.
	Misbehave Misbehaviour
}

// Provider is a running provider daemon.
type Provider struct {
	cfg   Config
	addr  types.Address
	log   *slog.Logger
	state stateFile

	mu      sync.Mutex
	jobs    map[uint64]*jobState
	running map[uint64]bool
	sendMu  sync.Mutex
	wg      sync.WaitGroup
	slots   chan struct{}
	params  compute.Params
	renewed int64 // height of the last lease renewal sent
}

// New prepares a provider; Run starts it.
func New(cfg Config) (*Provider, error) {
	if cfg.Client == nil || cfg.Key == nil {
		return nil, errors.New("provider: a client and a key are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 1
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 20 * time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.Tier == 0 {
		cfg.Tier = compute.TierConsumer
	}
	if cfg.Profile.Runtimes == nil {
		cfg.Profile.Runtimes = runtimesOf(cfg.Executors)
	}
	if cfg.Payments != nil && cfg.Payments.Chain == nil {
		pay := *cfg.Payments
		pay.Chain = client.Payee{Client: cfg.Client, Key: cfg.Key}
		cfg.Payments = &pay
	}
	p := &Provider{cfg: cfg, addr: types.AddressFromPubKey(cfg.Key.Public().(ed25519.PublicKey)),
		log: cfg.Logger, state: stateFile{cfg.StateFile}, running: map[uint64]bool{}, slots: make(chan struct{}, cfg.Slots)}
	jobs, err := p.state.load()
	if err != nil {
		return nil, err
	}
	p.jobs = jobs
	return p, nil
}

// Address returns the provider's account.
func (p *Provider) Address() types.Address { return p.addr }

// Run registers the provider (or updates its registration) and serves
// jobs until ctx ends, then waits up to Grace for running jobs.
func (p *Provider) Run(ctx context.Context) error {
	if err := p.Register(ctx); err != nil {
		return err
	}
	// Jobs outlive the poll loop by up to Grace, so that a job running at
	// shutdown still uploads and commits its result.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	if p.cfg.Engine != nil {
		slots := p.cfg.ServeSlots
		if slots <= 0 {
			slots = p.cfg.Slots
		}
		var serving sync.WaitGroup
		defer serving.Wait()
		serving.Go(func() {
			Serve(ctx, p.cfg.Client, p.cfg.Key, p.cfg.Engine, p.cfg.Payments, slots, p.cfg.PublicURL, p.log)
		})
		if p.cfg.Payments.paid() {
			serving.Go(func() { p.watch(ctx) })
		}
		for _, m := range p.cfg.Engine.Models() {
			p.log.Info("serving model", "id", m.ID, "sha256", m.Hash, "engine", m.Engine)
		}
	}
	var after int64
	backoff := time.Second
	for ctx.Err() == nil {
		w, err := p.cfg.Client.Work(ctx, p.addr, after, p.cfg.Poll)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			p.log.Warn("cannot reach the node; retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		after = w.Height
		p.step(ctx, jobCtx, w)
		p.keepLease(ctx, w.Height)
	}
	p.log.Info("stopping: waiting for running jobs", "grace", p.cfg.Grace)
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(p.cfg.Grace):
		cancelJobs()
		p.wg.Wait()
		p.log.Warn("stopped with jobs still running; they run again after a restart")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.save(p.jobs)
}

// Register makes the chain's record match this provider's configuration:
// it registers, updates the profile or price, or tops up the stake, as
// needed, and waits for the transaction's block.
func (p *Provider) Register(ctx context.Context) error {
	params, err := p.cfg.Client.Params(ctx)
	if err != nil {
		return err
	}
	p.params = params.Compute
	want := p.cfg.Stake
	if want == 0 {
		want = 2 * p.params.MinProviderStake
	}
	if want < p.params.MinProviderStake {
		return fmt.Errorf("a stake of %s is below the chain's minimum of %s", want, p.params.MinProviderStake)
	}
	info, err := p.cfg.Client.Provider(ctx, p.addr)
	if err != nil && !client.IsNotFound(err) {
		return err
	}
	registered := err == nil && !info.Retired
	same := registered && sameProfile(info.Profile, p.cfg.Profile) && info.Price == p.cfg.Price && info.Tier == p.cfg.Tier &&
		info.Region == p.cfg.Region && int(info.Slots) == p.cfg.Slots && info.Stake >= want
	if same {
		p.log.Info("registered", "provider", p.addr, "price_per_cu", p.cfg.Price, "stake", info.Stake, "lease_expiry", info.Lease)
		return nil
	}
	var topUp types.Amount
	if info.Stake < want {
		topUp = want - info.Stake
	}
	m := compute.MsgRegisterProvider{Profile: p.cfg.Profile, Price: p.cfg.Price, Tier: p.cfg.Tier, Region: p.cfg.Region,
		Slots: uint32(p.cfg.Slots), Stake: topUp}
	p.log.Info("registering", "provider", p.addr, "cores", m.Profile.Cores, "memory_mb", m.Profile.MemoryMB,
		"accel", m.Profile.Accel, "score_cu_per_s", m.Profile.Score, "price_per_cu", m.Price, "stake", want)
	res, err := p.cfg.Client.Broadcast(ctx, p.cfg.Key, []tx.Msg{{Kind: compute.KindRegisterProvider, Body: m.Encode()}}, client.TxOptions{})
	if err != nil {
		return fmt.Errorf("register provider %s: %w", p.addr, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	r, err := p.cfg.Client.WaitTx(wctx, res.Hash)
	if err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("register provider %s: %s", p.addr, r.Log)
	}
	p.log.Info("registered", "provider", p.addr, "height", r.Height)
	return nil
}

// send submits one message; the next poll shows its effect.
func (p *Provider) send(ctx context.Context, kind uint16, body []byte, what string, id uint64) error {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	_, err := p.cfg.Client.Broadcast(ctx, p.cfg.Key, []tx.Msg{{Kind: kind, Body: body}}, client.TxOptions{})
	if err != nil {
		p.log.Warn("transaction refused", "job", id, "what", what, "err", err)
		return err
	}
	p.log.Debug("sent", "job", id, "what", what)
	return nil
}

// resendAfter is how many blocks a sent transaction gets to show its
// effect before it is sent again.
const resendAfter = 4

// step acts on the provider's open jobs as the chain shows them; jobs
// started now run under jobCtx.
func (p *Provider) step(ctx, jobCtx context.Context, w api.Work) {
	open := map[uint64]bool{}
	for _, j := range w.Jobs {
		open[j.ID] = true
		p.mu.Lock()
		st := p.jobs[j.ID]
		running := p.running[j.ID]
		p.mu.Unlock()
		switch {
		case j.State == compute.Assigned && st == nil:
			p.log.Info("job assigned", "job", j.ID, "kind", j.Kind, "gas_limit", j.GasLimit, "max_price", j.MaxPrice, "deadline", j.Deadline)
			p.track(&jobState{ID: j.ID, Phase: phaseRunning, SentAt: w.Height})
			if !j.Acked {
				p.send(ctx, compute.KindAckJob, compute.MsgJob{ID: j.ID}.Encode(), "ack", j.ID)
			}
			p.start(jobCtx, j)
		case j.State == compute.Assigned && st.Phase == phaseRunning && !running:
			p.log.Info("running the job again after a restart", "job", j.ID)
			p.start(jobCtx, j)
		case j.State == compute.Assigned && st.Phase == phaseDone && w.Height-st.SentAt >= resendAfter:
			p.commit(ctx, st, w.Height)
		case j.State == compute.Committed && st != nil && p.cfg.Misbehave.Kind == MisbehaveSilent:
			// Goes silent after committing.
		case j.State == compute.Committed && st != nil && j.CommittedAt < w.Height && (st.Phase != phaseCommitted || w.Height-st.SentAt >= resendAfter):
			p.reveal(ctx, st, w.Height)
		case j.State == compute.Committed && st == nil:
			p.log.Error("job committed but its result is lost from the provider's state: it will be missed", "job", j.ID)
		}
	}
	// Jobs that left the list are settled, cancelled, or missed.
	p.mu.Lock()
	var gone []uint64
	for id := range p.jobs {
		if !open[id] && !p.running[id] {
			gone = append(gone, id)
		}
	}
	for _, id := range gone {
		delete(p.jobs, id)
	}
	if len(gone) > 0 {
		if err := p.state.save(p.jobs); err != nil {
			p.log.Error("save provider state", "err", err)
		}
	}
	p.mu.Unlock()
	for _, id := range gone {
		if j, err := p.cfg.Client.Job(ctx, id); err == nil {
			p.log.Info("job finished", "job", id, "state", j.State, "paid", j.Paid, "gas_used", j.GasUsed, "reason", j.Reason)
		}
	}
}

func (p *Provider) track(st *jobState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs[st.ID] = st
	if err := p.state.save(p.jobs); err != nil {
		p.log.Error("save provider state", "err", err)
	}
}

// start runs a job in the background within the slot limit.
func (p *Provider) start(ctx context.Context, j *compute.Job) {
	p.mu.Lock()
	p.running[j.ID] = true
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() {
			p.mu.Lock()
			delete(p.running, j.ID)
			p.mu.Unlock()
		}()
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-p.slots }()
		st, err := p.execute(ctx, j)
		if err != nil {
			// The executor or the node failed us, not the job: keep the
			// job running so a restart (or the next try) runs it again.
			p.log.Error("job not run", "job", j.ID, "err", err)
			return
		}
		p.track(st)
		h, _ := p.height(ctx)
		p.commit(ctx, st, h)
	}()
}

// execute fetches the job's blobs, runs it and uploads its output.
func (p *Provider) execute(ctx context.Context, j *compute.Job) (*jobState, error) {
	st := &jobState{ID: j.ID, Phase: phaseDone}
	if _, err := rand.Read(st.Salt[:]); err != nil {
		return nil, err
	}
	fail := func(reason string) (*jobState, error) {
		st.Output, st.Failure = compute.EmptyHash, reason
		p.log.Info("job failed", "job", j.ID, "reason", reason)
		return st, nil
	}
	ex, ok := p.cfg.Executors[j.Kind]
	if !ok {
		return fail("unsupported_kind: " + j.Kind.String())
	}
	program, err := p.cfg.Client.GetBlob(ctx, j.Program)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return fail(truncate("program_unavailable: "+err.Error(), compute.MaxFailureLen))
	}
	input := j.Inline
	if len(input) == 0 {
		if input, err = p.cfg.Client.GetBlob(ctx, j.Input); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return fail(truncate("input_unavailable: "+err.Error(), compute.MaxFailureLen))
		}
	}
	mem := max(j.Req.MemoryMB, 64) << 20
	start := time.Now()
	out, err := ex.Run(ctx, program, input, Limits{Gas: j.GasLimit, MemoryBytes: mem, MaxOutputBytes: j.MaxOutputBytes, Timeout: p.timeout(j)})
	if err != nil {
		return nil, fmt.Errorf("run job %d: %w", j.ID, err)
	}
	st.GasUsed, st.Failure = out.GasUsed, truncate(out.Failure, compute.MaxFailureLen)
	if out.Failure != "" {
		st.Output = compute.EmptyHash
		p.log.Info("job failed on its own", "job", j.ID, "reason", out.Failure, "gas_used", out.GasUsed, "took", time.Since(start).Round(time.Millisecond))
		return st, nil
	}
	if p.cfg.Misbehave.Kind != "" {
		out.Output = p.cfg.Misbehave.tamper(j.ID, out.Output)
	}
	st.Output, st.OutputSize = types.SumHash(out.Output), uint64(len(out.Output))
	if j.OnChain {
		st.Result = out.Output
	}
	if len(out.Output) > 0 {
		if _, err := p.cfg.Client.PutBlob(ctx, out.Output, p.cfg.Key); err != nil {
			return nil, fmt.Errorf("upload the output of job %d: %w", j.ID, err)
		}
	}
	p.log.Info("job ran", "job", j.ID, "gas_used", out.GasUsed, "output_bytes", len(out.Output), "took", time.Since(start).Round(time.Millisecond))
	return st, nil
}

// timeout is the wall-clock safety net: ten times what the gas limit
// takes at the measured speed, and at least a minute.
func (p *Provider) timeout(j *compute.Job) time.Duration {
	score := max(p.cfg.Profile.Score, 1)
	secs := j.GasLimit / p.params.GasPerCU / score * 10
	return max(time.Duration(min(secs, 86400))*time.Second, time.Minute)
}

func (p *Provider) commit(ctx context.Context, st *jobState, h int64) {
	c := compute.Commitment(st.ID, st.Output, st.GasUsed, st.Failure, st.Salt)
	if p.send(ctx, compute.KindCommitResult, compute.MsgCommitResult{ID: st.ID, Commitment: c}.Encode(), "commit", st.ID) == nil {
		p.log.Info("result committed", "job", st.ID)
	}
	p.mu.Lock()
	st.SentAt = h
	p.mu.Unlock()
	p.track(st)
}

func (p *Provider) reveal(ctx context.Context, st *jobState, h int64) {
	m := compute.MsgRevealResult{ID: st.ID, Output: st.Output, OutputSize: st.OutputSize, GasUsed: st.GasUsed, Failure: st.Failure, Salt: st.Salt,
		Result: st.Result}
	if err := p.send(ctx, compute.KindRevealResult, m.Encode(), "reveal", st.ID); err != nil {
		// A verified job's run may reveal only once the runs it could
		// copy from have committed: try again at the next block.
		return
	}
	p.log.Info("result revealed", "job", st.ID, "output", st.Output, "gas_used", st.GasUsed)
	p.mu.Lock()
	st.Phase, st.SentAt = phaseCommitted, h
	p.mu.Unlock()
	p.track(st)
}

func (p *Provider) height(ctx context.Context) (int64, error) {
	s, err := p.cfg.Client.Status(ctx)
	return s.Height, err
}

// keepLease renews the lease when a quarter of it is left, unless the
// provider's own activity renewed it.
func (p *Provider) keepLease(ctx context.Context, h int64) {
	info, err := p.cfg.Client.Provider(ctx, p.addr)
	if err != nil {
		return
	}
	if info.Retired {
		if h-p.renewed < resendAfter {
			return
		}
		p.renewed = h
		p.log.Warn("the chain retired this provider (its stake fell below the minimum, or it deregistered); registering again", "stake", info.Stake, "jailed", info.Jailed)
		if err := p.Register(ctx); err != nil {
			p.log.Error("register again", "err", err)
		}
		return
	}
	if info.Lease-h <= p.params.LeaseBlocks/4 && h-p.renewed >= resendAfter {
		p.renewed = h
		if p.send(ctx, compute.KindRenewLease, nil, "renew lease", 0) == nil {
			p.log.Info("lease renewed", "expiry_was", info.Lease)
		}
	}
}

// runtimesOf lists the executor versions a provider runs, which it
// registers so that it only gets jobs naming them.
func runtimesOf(ex map[compute.Kind]Executor) []string {
	var out []string
	for _, k := range []compute.Kind{compute.KindWasm, compute.KindInference, compute.KindCheck} {
		if v, ok := ex[k].(interface{ Runtime() string }); ok && !slices.Contains(out, v.Runtime()) {
			out = append(out, v.Runtime())
		}
	}
	return out
}

func sameProfile(a, b compute.Profile) bool {
	return a.CPUModel == b.CPUModel && a.Cores == b.Cores && a.MemoryMB == b.MemoryMB && a.Accel == b.Accel &&
		a.AccelModel == b.AccelModel && a.AccelCount == b.AccelCount && a.AccelMemoryMB == b.AccelMemoryMB &&
		a.Score == b.Score && slices.Equal(a.Runtimes, b.Runtimes)
}
