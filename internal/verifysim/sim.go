// Package verifysim simulates the verification protocol of chain/compute
// against adversarial providers: it drives the real compute keeper, over
// the real bank and stake modules, on an in-memory state, with providers
// that each follow an adversary.Strategy, a client that submits jobs in one
// verification mode, a beacon that changes every block, and, optionally, a
// watcher that re-executes optimistic results and makes fraud proofs. It
// checks the modules' invariants after every block and reports what the
// protocol cost and what it caught: the verification work over the useful
// work, the blocks from submission to a final result, the faults proven
// on the runs where a provider committed a wrong result beside the rate
// the theory predicts, and any honest provider slashed.
//
// The tests of this package are the protocol's property tests; `mycel
// bench verify` (internal/bench) prints the same report.
package verifysim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/adversary"
	"github.com/mycelnet/mycel/types"
)

// Config is one simulation: a mode, a population and a workload.
type Config struct {
	// Mode is the verification mode of every job (redundant or
	// optimistic).
	Mode compute.VerifyMode
	// Jobs is how many jobs the client submits, JobsPerBlock of them a
	// block (default 4).
	Jobs         int
	JobsPerBlock int
	// Redundancy is a redundant job's number of providers (default 3);
	// AuditRate an optimistic job's audit rate (default 10%).
	Redundancy uint32
	AuditRate  types.Fraction
	// Watch is the chance that a watcher re-executes an optimistic result
	// in its challenge window, and challenges it when it is wrong.
	Watch float64
	// Providers are the providers' strategies, one each.
	Providers []adversary.Strategy
	// Slots and Stake are each provider's job slots (default 4) and
	// provider stake (default 100 MYC).
	Slots uint32
	Stake types.Amount
	// Replace puts a fresh provider of the same strategy in the place of
	// a cheater that was jailed, banned or slashed below the minimum stake
	// (Sybil re-entry), so the population keeps its mix.
	Replace bool
	// Params are the compute rules (nil: compute.DefaultParams()).
	Params *compute.Params
	// Seed seeds the beacon and the strategies' coins.
	Seed uint64
	// MaxBlocks bounds the simulation (default: the submission blocks
	// plus 3,000).
	MaxBlocks int64
}

// The job every client submission asks for: its maximum price covers the
// gas limit at the providers' price and the fee allowance.
const (
	jobMaxPrice = types.Amount(100_000)
	jobGasLimit = 1_000_000_000
	price       = types.Amount(10) // umyc per compute unit
)

type provider struct {
	name  string
	addr  types.Address
	strat adversary.Strategy
	open  map[uint64]bool // run ids assigned to it
	gone  bool            // replaced; it still finishes the runs it holds
	stats *StrategyStats
}

// run is the harness's record of one run (a job id) and its current
// assignment.
type run struct {
	id, group  uint64
	role       compute.Role
	prov       *provider
	assignedAt int64
	decided    bool
	answer     adversary.Result
	salt       [32]byte
	committed  bool
	revealed   bool
	lie        bool // it committed a result that differs from the truth
	faulted    bool
}

type group struct {
	id        uint64
	planted   bool
	submitted int64
	finished  int64 // 0 while open
	watched   bool
}

type sim struct {
	cfg     Config
	params  compute.Params
	db      *store.MemDB
	k       compute.Keeper
	h       int64
	beacon  []byte
	rng     *rand.Rand
	client  types.Address
	watcher types.Address
	bank    types.Address // funds replacement providers
	provs   []*provider
	byAddr  map[types.Address]*provider
	runs    map[uint64]*run
	groups  map[uint64]*group
	open    map[uint64]*group
	kinds   map[string]*StrategyStats

	submitted     int
	burned        types.Amount // burned by slashes and lost bonds, from events
	honestSlashes int
	honestFaults  int
	copies        int // copiers that found something to copy
	challenges    int
}

// Run simulates a configuration to its end: every job submitted and
// every verification group finished, or MaxBlocks. An error is a broken
// invariant, a refused action that the rules should have allowed, or a
// failed end block.
func Run(cfg Config) (*Report, error) {
	s, err := newSim(cfg)
	if err != nil {
		return nil, err
	}
	for s.h < s.cfg.MaxBlocks {
		if s.submitted >= s.cfg.Jobs && len(s.open) == 0 {
			break
		}
		if err := s.step(); err != nil {
			return nil, fmt.Errorf("height %d: %w", s.h, err)
		}
	}
	return s.report()
}

func newSim(cfg Config) (*sim, error) {
	if cfg.Mode != compute.VerifyRedundant && cfg.Mode != compute.VerifyOptimistic {
		return nil, fmt.Errorf("verifysim: mode %s: redundant or optimistic", cfg.Mode)
	}
	if cfg.JobsPerBlock <= 0 {
		cfg.JobsPerBlock = 4
	}
	if cfg.Redundancy == 0 {
		cfg.Redundancy = 3
	}
	if cfg.AuditRate == 0 {
		cfg.AuditRate = types.FractionOne / 10
	}
	if cfg.Slots == 0 {
		cfg.Slots = 4
	}
	if cfg.Stake == 0 {
		cfg.Stake = types.MYC(100)
	}
	if cfg.MaxBlocks == 0 {
		cfg.MaxBlocks = int64(cfg.Jobs/cfg.JobsPerBlock) + 3000
	}
	params := compute.DefaultParams()
	if cfg.Params != nil {
		params = *cfg.Params
	}
	s := &sim{cfg: cfg, params: params, h: 2, rng: rand.New(rand.NewPCG(cfg.Seed, 0x76657269667973)),
		client: address("client"), watcher: address("watcher"), bank: address("treasury"),
		byAddr: map[types.Address]*provider{}, runs: map[uint64]*run{}, groups: map[uint64]*group{},
		open: map[uint64]*group{}, kinds: map[string]*StrategyStats{}}
	// The keeper exactly as the application wires it, with the beacon
	// this simulation sets each block.
	s.k = app.ComputeKeeper()
	s.k.Beacon = func(store.Reader) []byte { return s.beacon }
	runs := uint64(cfg.Redundancy)
	if cfg.Mode == compute.VerifyOptimistic {
		runs = 2
	}
	clientFunds, err := jobMaxPrice.MulDiv(runs*uint64(cfg.Jobs)+1, 1)
	if err != nil {
		return nil, err
	}
	funds := []bank.GenesisBalance{
		{Address: s.client, Amount: clientFunds},
		{Address: s.watcher, Amount: types.MYC(1_000_000)},
		{Address: s.bank, Amount: types.MYC(100_000_000)},
	}
	db, err := genesis(funds, types.MYC(1000), params)
	if err != nil {
		return nil, err
	}
	s.db = db
	for _, st := range cfg.Providers {
		if err := s.addProvider(st); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *sim) blk() types.Block {
	return block(s.h, hash("last-block", s.cfg.Seed, uint64(s.h-1)))
}

func hash(domain string, parts ...uint64) []byte {
	h := sha256.New()
	h.Write([]byte("mycel/verifysim/" + domain + "\x00"))
	var b [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(b[:], p)
		h.Write(b[:])
	}
	return h.Sum(nil)
}

// tx applies f in a branch of the state, kept only when f succeeds, as
// the application does with a transaction.
func (s *sim) tx(f func(ctx exec.Ctx) error) error {
	c := store.NewCache(s.db)
	ctx := exec.New(c, s.blk())
	if err := f(ctx); err != nil {
		return err
	}
	s.db.Apply(c.Changes())
	return s.events(ctx.Events())
}

// addProvider funds, bonds and registers a provider with a strategy.
func (s *sim) addProvider(st adversary.Strategy) error {
	name := "p" + strconv.Itoa(len(s.provs))
	p := &provider{name: name, addr: address(name), strat: st, open: map[uint64]bool{}}
	if p.stats = s.kinds[st.Name()]; p.stats == nil {
		p.stats = &StrategyStats{Strategy: st.Name()}
		s.kinds[st.Name()] = p.stats
	}
	p.stats.Providers++
	s.provs = append(s.provs, p)
	s.byAddr[p.addr] = p
	if err := s.tx(func(ctx exec.Ctx) error { return bank.Send(ctx.KV, s.bank, p.addr, s.cfg.Stake+types.MYC(10)) }); err != nil {
		return err
	}
	m := compute.MsgRegisterProvider{Profile: compute.Profile{CPUModel: "sim", Cores: 8, MemoryMB: 16384, Score: 1000},
		Price: price, Tier: compute.TierDatacenter, Region: "sim", Slots: s.cfg.Slots, Stake: s.cfg.Stake}
	if err := s.tx(func(ctx exec.Ctx) error { return s.k.HandleRegisterProvider(ctx, p.addr, m.Encode()) }); err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	return nil
}

// truth is the result an honest run of a job gets: a deterministic
// function of its input, which is unique to the client's job.
func truth(input types.Hash) adversary.Result {
	out := sha256.Sum256(append([]byte("mycel/verifysim/output\x00"), input[:]...))
	return adversary.Result{Output: out, Size: 64 + uint64(input[0]), Gas: 2_000_000 + uint64(input[1])*100_000}
}

// step runs one block: submissions, every provider's actions, the
// watcher, end block, replacements and the invariants.
func (s *sim) step() error {
	s.beacon = hash("beacon", s.cfg.Seed, uint64(s.h))
	for i := 0; i < s.cfg.JobsPerBlock && s.submitted < s.cfg.Jobs; i++ {
		if err := s.submit(); err != nil {
			return err
		}
	}
	order := s.rng.Perm(len(s.provs))
	for _, i := range order {
		if err := s.act(s.provs[i]); err != nil {
			return fmt.Errorf("%s (%s): %w", s.provs[i].name, s.provs[i].strat.Name(), err)
		}
	}
	if err := s.watch(); err != nil {
		return err
	}
	if err := s.tx(func(ctx exec.Ctx) error { return s.k.EndBlock(ctx) }); err != nil {
		return fmt.Errorf("end block: %w", err)
	}
	if s.cfg.Replace {
		if err := s.replace(); err != nil {
			return err
		}
	}
	if err := s.check(); err != nil {
		return err
	}
	s.h++
	return nil
}

func (s *sim) submit() error {
	n := uint64(s.submitted)
	var input types.Hash
	copy(input[:], hash("input", s.cfg.Seed, n))
	m := compute.MsgSubmitJob{Kind: compute.KindWasm, Program: types.SumHash([]byte("verifysim/program")), Input: input,
		Req: compute.Requirements{Cores: 1, MemoryMB: 256}, MaxPrice: jobMaxPrice, GasLimit: jobGasLimit, Verify: uint8(s.cfg.Mode)}
	if s.cfg.Mode == compute.VerifyRedundant {
		m.Redundancy = s.cfg.Redundancy
	} else {
		m.AuditRate = s.cfg.AuditRate
	}
	s.submitted++
	return s.tx(func(ctx exec.Ctx) error { return s.k.HandleSubmitJob(ctx, s.client, m.Encode()) })
}

// act lets a provider act on each run it holds: commit what its strategy
// says, then reveal once the rules let it (a refused early reveal is
// tried again next block).
func (s *sim) act(p *provider) error {
	ids := make([]uint64, 0, len(p.open))
	for id := range p.open {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		j := compute.GetJob(s.db, id)
		r := s.runs[id]
		if j == nil || r == nil || j.Provider != p.addr || j.State.Finished() || r.prov != p {
			delete(p.open, id)
			continue
		}
		switch j.State {
		case compute.Assigned:
			if err := s.commit(p, r, j); err != nil {
				return err
			}
		case compute.Committed:
			if s.h <= j.CommittedAt {
				continue
			}
			if !p.strat.Reveal(s.view(p, r, j), r.answer) {
				continue
			}
			m := compute.MsgRevealResult{ID: id, Output: r.answer.Output, OutputSize: r.answer.Size, GasUsed: r.answer.Gas,
				Failure: r.answer.Failure, Salt: r.salt}
			err := s.tx(func(ctx exec.Ctx) error { return s.k.HandleRevealResult(ctx, p.addr, m.Encode()) })
			switch {
			case errors.Is(err, compute.ErrTooEarly):
			case err != nil:
				return fmt.Errorf("reveal run %d: %w", id, err)
			default:
				r.revealed = true
			}
		}
	}
	if pr := compute.GetProvider(s.db, p.addr); pr != nil && !pr.Retired && pr.Lease-s.h < s.params.LeaseBlocks/4 {
		// The daemon renews its lease when a quarter is left.
		if err := s.tx(func(ctx exec.Ctx) error { return s.k.HandleRenewLease(ctx, p.addr, nil) }); err != nil {
			return fmt.Errorf("renew lease: %w", err)
		}
	}
	return nil
}

func (s *sim) commit(p *provider, r *run, j *compute.Job) error {
	if !r.decided {
		a := p.strat.Commit(s.view(p, r, j), s.rng)
		if a.Wait {
			if j.Acked {
				return nil
			}
			// It has the job and waits for something to copy.
			return s.tx(func(ctx exec.Ctx) error { return s.k.HandleAckJob(ctx, p.addr, compute.MsgJob{ID: r.id}.Encode()) })
		}
		if p.strat.Kind == adversary.Copier {
			s.copies++
		}
		r.decided, r.answer = true, a.Result
		copy(r.salt[:], hash("salt", s.cfg.Seed, r.id, uint64(r.assignedAt)))
	}
	c := compute.Commitment(r.id, r.answer.Output, r.answer.Gas, r.answer.Failure, r.salt)
	if err := s.tx(func(ctx exec.Ctx) error {
		return s.k.HandleCommitResult(ctx, p.addr, compute.MsgCommitResult{ID: r.id, Commitment: c}.Encode())
	}); err != nil {
		return fmt.Errorf("commit run %d: %w", r.id, err)
	}
	r.committed = true
	r.lie = r.answer.Key() != truth(j.Input).Key()
	p.stats.Runs++
	if r.lie {
		p.stats.Lies++
	}
	return nil
}

// view is what p can see of run r (job j) now.
func (s *sim) view(p *provider, r *run, j *compute.Job) adversary.View {
	v := adversary.View{Self: p.addr, Role: j.Role, Program: j.Program, Input: j.Input, Truth: truth(j.Input)}
	g := compute.GetGroup(s.db, j.Group)
	if g == nil {
		return v
	}
	v.Audited = j.Role == compute.RoleProvider && g.Audited
	var peers []uint64
	switch {
	case j.Role == compute.RoleReferee:
		peers = currentReferees(g)
		if len(g.Claims) > 0 {
			for _, c := range g.Claims {
				v.Claims = append(v.Claims, adversary.ClaimResult(c))
			}
		} else {
			for _, id := range g.Members {
				if m := compute.GetJob(s.db, id); m != nil && m.State == compute.Revealed {
					v.Claims = append(v.Claims, resultOf(m))
				}
			}
		}
	case g.Mode == compute.VerifyRedundant || (j.Role == compute.RoleProvider && g.Mode == compute.VerifyOptimistic):
		peers = g.Members
	case j.Role == compute.RoleAuditor:
		if pr := s.runs[g.Members[0]]; pr != nil && pr.decided && pr.prov != nil && sameRing(pr.prov.strat, p.strat) {
			ans := pr.answer
			v.Partner = &ans
		}
	}
	for _, id := range peers {
		if id == j.ID {
			continue
		}
		m := compute.GetJob(s.db, id)
		switch {
		case m == nil:
		case m.State == compute.Committed || m.State == compute.Assigned:
			v.Pending++
		case m.CommittedAt > 0 && (m.State == compute.Revealed || m.State.Finished()) && !m.Output.IsZero():
			v.Peers = append(v.Peers, resultOf(m))
		}
	}
	return v
}

func sameRing(a, b adversary.Strategy) bool { return a.Ring != 0 && a.Ring == b.Ring }

func resultOf(j *compute.Job) adversary.Result {
	return adversary.Result{Output: j.Output, Size: j.OutputSize, Gas: j.GasUsed, Failure: j.RunFailure}
}

// currentReferees are the referee runs of the round under way.
func currentReferees(g *compute.Group) []uint64 {
	n := min(int(g.RoundSize), len(g.Referees))
	return g.Referees[len(g.Referees)-n:]
}

// watch lets the watcher re-execute optimistic results in their
// challenge window and challenge the wrong ones.
func (s *sim) watch() error {
	if s.cfg.Watch <= 0 {
		return nil
	}
	ids := make([]uint64, 0, len(s.open))
	for id := range s.open {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		gr := s.open[id]
		g := compute.GetGroup(s.db, id)
		if gr.watched || g == nil || g.Phase != compute.PhaseChallenge {
			continue
		}
		gr.watched = true
		if s.rng.Float64() >= s.cfg.Watch {
			continue
		}
		prov := compute.GetJob(s.db, g.Members[0])
		if resultOf(prov).Key() == truth(prov.Input).Key() {
			continue
		}
		m := compute.MsgChallenge{Job: id, Bond: s.params.Verification.ChallengeBond}
		if err := s.tx(func(ctx exec.Ctx) error { return s.k.HandleChallenge(ctx, s.watcher, m.Encode()) }); err != nil {
			return fmt.Errorf("challenge job %d: %w", id, err)
		}
		s.challenges++
	}
	return nil
}

// replace puts fresh providers in the place of cheaters the chain jailed,
// banned or drained.
func (s *sim) replace() error {
	for _, p := range s.provs {
		if p.gone || p.strat.IsHonest() {
			continue
		}
		bond, jailed := s.k.Stake.ProviderBond(s.db, p.addr)
		if !jailed && bond >= s.params.MinProviderStake {
			continue
		}
		p.gone = true
		if err := s.addProvider(p.strat); err != nil {
			return err
		}
	}
	return nil
}

// events follows what a transaction or end block did.
func (s *sim) events(evs []types.Event) error {
	for _, e := range evs {
		at := map[string]string{}
		for _, a := range e.Attrs {
			at[a.Key] = a.Value
		}
		id, _ := strconv.ParseUint(at["id"], 10, 64)
		switch e.Type {
		case "job_submitted":
			g := &group{id: id, submitted: s.h}
			s.groups[id], s.open[id] = g, g
		case "referees_drawn":
			if s.groups[id] == nil { // a planted task
				g := &group{id: id, planted: true, submitted: s.h}
				s.groups[id], s.open[id] = g, g
			}
		case "job_verified":
			if g := s.groups[id]; g != nil && g.finished == 0 {
				g.finished = s.h
				delete(s.open, id)
			}
		case "job_assigned":
			a, err := types.ParseAddress(at["provider"])
			if err != nil {
				return err
			}
			p := s.byAddr[a]
			j := compute.GetJob(s.db, id)
			if p == nil || j == nil {
				return fmt.Errorf("run %d assigned to unknown provider %s", id, a)
			}
			s.runs[id] = &run{id: id, group: j.Group, role: j.Role, prov: p, assignedAt: s.h}
			p.open[id] = true
		case "job_fault":
			r := s.runs[id]
			if r == nil {
				return fmt.Errorf("fault on unknown run %d", id)
			}
			r.faulted = true
			r.prov.stats.Faults++
			if r.lie {
				r.prov.stats.Caught++
			}
			if r.prov.strat.IsHonest() {
				s.honestFaults++
			}
		case "job_missed":
			if r := s.runs[id]; r != nil {
				r.prov.stats.Missed++
			}
		case "slash":
			a, err := types.ParseAddress(at["address"])
			if err != nil {
				return err
			}
			amt, _ := strconv.ParseUint(at["amount"], 10, 64)
			burned, _ := strconv.ParseUint(at["burned"], 10, 64)
			s.burned += types.Amount(burned)
			if p := s.byAddr[a]; p != nil {
				p.stats.Slashed += types.Amount(amt)
				if p.strat.IsHonest() {
					s.honestSlashes++
				}
			}
		case "challenge_lost", "dispute_settled":
			burned, _ := strconv.ParseUint(at["burned"], 10, 64)
			s.burned += types.Amount(burned)
		}
	}
	return nil
}

// check verifies the invariants after a block: the bank's supply (every
// balance sums to genesis + minted − burned, and the burned supply is what
// slashes and lost bonds burned), the stake pool, and the compute
// module's escrow, slots and locks.
func (s *sim) check() error {
	if err := bank.CheckInvariant(s.db); err != nil {
		return err
	}
	if err := stake.CheckInvariant(s.db); err != nil {
		return err
	}
	if err := compute.CheckInvariant(s.db, s.k.Bank); err != nil {
		return err
	}
	sup := bank.GetSupply(s.db)
	if sup.Minted != 0 || sup.Burned != s.burned {
		return fmt.Errorf("supply: minted %s, burned %s; slashes and lost bonds burned %s", sup.Minted, sup.Burned, s.burned)
	}
	return nil
}

// Mixed is a population of honest providers and one provider of each
// cheating strategy: a liar, a liar that lies on 30% of its runs, a
// random one, a copier, a silent one, a pair of colluders, a provider of
// a cheaper model and a lazy auditor in the colluders' ring. With Replace
// the mix stays as cheaters are banned. Referee rounds keep an honest
// strict majority, the condition the protocol's guarantees rest on, but
// for one rare draw: the lazy auditor and a fresh small-model provider in
// the same round judging the claim of a banned small-model provider, which
// both would reproduce. Report.Captured counts such rounds.
func Mixed(honest int) []adversary.Strategy {
	var ps []adversary.Strategy
	for i := 0; i < honest; i++ {
		ps = append(ps, adversary.Strategy{Kind: adversary.Honest})
	}
	return append(ps,
		adversary.Strategy{Kind: adversary.Liar},
		adversary.Strategy{Kind: adversary.LiarQ, Q: 0.3},
		adversary.Strategy{Kind: adversary.Random},
		adversary.Strategy{Kind: adversary.Copier},
		adversary.Strategy{Kind: adversary.Silent},
		adversary.Strategy{Kind: adversary.Colluder, Ring: 1},
		adversary.Strategy{Kind: adversary.Colluder, Ring: 1},
		adversary.Strategy{Kind: adversary.SmallModel},
		adversary.Strategy{Kind: adversary.LazyAuditor, Ring: 1},
	)
}
