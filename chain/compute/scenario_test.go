package compute_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

// The keeper over the real bank and stake modules.
type bankKeeper struct{}

func (bankKeeper) Send(kv store.KV, from, to types.Address, a types.Amount) error {
	return bank.Send(kv, from, to, a)
}
func (bankKeeper) Balance(r store.Reader, a types.Address) types.Amount { return bank.Balance(r, a) }
func (bankKeeper) Burn(kv store.KV, from types.Address, a types.Amount) error {
	return bank.Burn(kv, from, a)
}

type stakeKeeper struct{}

func (stakeKeeper) ProviderBond(r store.Reader, a types.Address) (types.Amount, bool) {
	b, _ := stake.GetBond(r, a, stake.Provider)
	return b.Amount, b.Jailed
}
func (stakeKeeper) ValidatorBond(r store.Reader, a types.Address) types.Amount {
	if b, ok := stake.GetBond(r, a, stake.Validator); ok && !b.Jailed {
		return b.Amount
	}
	return 0
}

func (stakeKeeper) BondProvider(ctx exec.Ctx, a types.Address, amt types.Amount) error {
	return stake.BondFor(ctx, a, stake.Provider, amt)
}
func (stakeKeeper) SlashProvider(ctx exec.Ctx, a types.Address, f types.Fraction, reason string, o compute.Slashing) (types.Amount, types.Amount, error) {
	return stake.Slash(ctx, a, stake.Provider, f, reason, stake.SlashOptions{InfractionHeight: o.Since, Jail: o.Jail, Tombstone: o.Ban, Reporter: o.Reporter})
}

// keyTestBeacon holds the beacon a scenario sets with the beacon command.
var keyTestBeacon = []byte("test/beacon")

var keeper = compute.Keeper{Bank: bankKeeper{}, Stake: stakeKeeper{}, RewardPool: mint.ProviderPool, FeeCollector: auth.FeeCollector,
	Beacon: func(r store.Reader) []byte { return r.Get(keyTestBeacon) }}

// scenarioParams are short periods, so scenarios stay short.
func scenarioParams() compute.Params {
	p := compute.DefaultParams()
	p.MinProviderStake = types.MYC(10)
	p.LeaseBlocks, p.AckBlocks, p.DefaultDeadline, p.QueueBlocks, p.RewardEpochBlocks = 20, 3, 8, 15, 10
	p.MaxAssignPerBlock, p.MaxAttempts = 3, 2
	p.FeeAllowance = 30_000
	p.Verification.RevealBlocks, p.Verification.ChallengeBlocks, p.Verification.PlantRate = 4, 5, 0
	return p
}

// world is the state of one scenario.
type world struct {
	t      *testing.T
	db     *store.MemDB
	h      int64
	jobs   map[string]uint64
	names  map[types.Address]string
	salts  map[string][32]byte
	result map[string]compute.MsgRevealResult
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, db: chaintest.State(t), h: 2, jobs: map[string]uint64{}, names: map[types.Address]string{},
		salts: map[string][32]byte{}, result: map[string]compute.MsgRevealResult{}}
	if err := compute.InitGenesis(w.db, scenarioParams()); err != nil {
		t.Fatal(err)
	}
	for _, u := range chaintest.Users {
		w.names[chaintest.Addr(u)] = u
	}
	return w
}

func (w *world) ctx(c store.KV) exec.Ctx {
	b := chaintest.Block(w.h)
	hash := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(w.h)))
	b.LastBlockHash = hash[:]
	return exec.New(c, b)
}

// run applies f in a branch kept only on success, checks the invariants,
// and reports the error or the events.
func (w *world) run(f func(ctx exec.Ctx) error) string {
	c := store.NewCache(w.db)
	ctx := w.ctx(c)
	if err := f(ctx); err != nil {
		return "error: " + err.Error() + "\n"
	}
	chaintest.CheckInvariants(w.t, c)
	if err := compute.CheckInvariant(c, bankKeeper{}); err != nil {
		w.t.Fatalf("height %d: %v", w.h, err)
	}
	w.db.Apply(c.Changes())
	return w.events(ctx.Events())
}

func (w *world) name(a types.Address) string {
	if n, ok := w.names[a]; ok {
		return n
	}
	return a.String()
}

func (w *world) jobName(id string) string {
	n, _ := strconv.ParseUint(id, 10, 64)
	best := ""
	for k, v := range w.jobs {
		if v == n && (best == "" || len(k) < len(best) || (len(k) == len(best) && k < best)) {
			best = k // a group's first run has two names: print the shorter
		}
	}
	if best != "" {
		return best
	}
	return "job" + id
}

// events prints the compute events, with names for addresses and jobs.
func (w *world) events(evs []types.Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Type == "bond" || e.Type == "transfer" {
			continue
		}
		fmt.Fprintf(&b, "%s", e.Type)
		for _, a := range e.Attrs {
			v := a.Value
			switch a.Key {
			case "id":
				v = w.jobName(v)
			case "provider", "client", "address", "auditor", "challenger", "disputer", "voter":
				if ad, err := types.ParseAddress(v); err == nil {
					v = w.name(ad)
				}
			case "program", "output", "class", "deadline", "price_per_cu", "gas_limit", "stake", "slots", "max_price", "burned", "fraction", "purpose":
				continue
			}
			fmt.Fprintf(&b, " %s=%s", a.Key, v)
		}
		b.WriteString("\n")
	}
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}

func arg(d *datadriven.TestData, key, def string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key {
			if len(a.Vals) == 0 {
				return ""
			}
			return a.Vals[0]
		}
	}
	return def
}

func num(t *testing.T, s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return n
}

func amount(t *testing.T, s string) types.Amount {
	a, err := types.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) addr(name string) types.Address {
	a := chaintest.Addr(name)
	w.names[a] = name
	return a
}

func (w *world) do(d *datadriven.TestData) string {
	t := w.t
	switch d.Cmd {
	case "fund":
		a := w.addr(arg(d, "who", ""))
		return w.run(func(ctx exec.Ctx) error { return bank.Mint(ctx.KV, a, amount(t, arg(d, "amount", "100myc"))) })
	case "pool":
		return w.run(func(ctx exec.Ctx) error { return bank.Mint(ctx.KV, mint.ProviderPool, amount(t, arg(d, "amount", ""))) })
	case "provider":
		a := w.addr(arg(d, "name", ""))
		tier, _ := compute.ParseTier(arg(d, "tier", "datacenter"))
		m := compute.MsgRegisterProvider{
			Profile: compute.Profile{CPUModel: "test", Cores: uint32(num(t, arg(d, "cores", "4"))), MemoryMB: num(t, arg(d, "mem", "8192"))},
			Price:   amount(t, arg(d, "price", "10umyc")), Tier: tier, Region: "lab",
			Slots: uint32(num(t, arg(d, "slots", "1"))), Stake: amount(t, arg(d, "stake", "0umyc")),
		}
		if g := arg(d, "gpu", ""); g != "" {
			m.Profile.Accel, m.Profile.AccelCount, m.Profile.AccelMemoryMB = compute.AccelGPU, 1, num(t, g)
		}
		for _, a := range d.CmdArgs {
			if a.Key == "runtimes" {
				m.Profile.Runtimes = a.Vals
			}
		}
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleRegisterProvider(ctx, a, m.Encode()) })
	case "submit":
		client := w.addr(arg(d, "client", "alice"))
		m := compute.MsgSubmitJob{
			Kind: compute.Kind(num(t, arg(d, "kind", "1"))), Program: types.SumHash([]byte("prog")), Input: types.SumHash([]byte(arg(d, "name", ""))),
			Req:      compute.Requirements{Cores: uint32(num(t, arg(d, "cores", "1"))), MemoryMB: num(t, arg(d, "mem", "256"))},
			MaxPrice: amount(t, arg(d, "max", "1myc")), GasLimit: num(t, arg(d, "gas", "1000000000")),
			DeadlineBlocks: int64(num(t, arg(d, "deadline", "0"))),
		}
		if g := arg(d, "gpu", ""); g != "" {
			m.Req.Accel, m.Req.AccelMemoryMB = compute.AccelGPU, num(t, g)
		}
		if in := arg(d, "inline", ""); in != "" {
			m.Inline, m.Input = []byte(in), types.Hash{}
		}
		m.OnChain = arg(d, "onchain", "") == "true"
		if v := arg(d, "verify", ""); v != "" {
			mode, err := compute.ParseVerifyMode(v)
			if err != nil {
				t.Fatal(err)
			}
			m.Verify = uint8(mode)
		}
		m.Redundancy = uint32(num(t, arg(d, "r", "0")))
		m.AuditRate = types.Fraction(num(t, arg(d, "rate", "0")))
		out := w.run(func(ctx exec.Ctx) error { return keeper.HandleSubmitJob(ctx, client, m.Encode()) })
		if !strings.HasPrefix(out, "error") {
			var max uint64
			for _, id := range w.jobs {
				max = maxU(max, id)
			}
			w.jobs[arg(d, "name", "")] = max + 1
			out = strings.ReplaceAll(out, "job"+strconv.FormatUint(max+1, 10), arg(d, "name", ""))
			if m.Verify != 0 {
				w.nameRuns(arg(d, "name", ""))
			}
		}
		return out
	case "endblock":
		n := int(num(t, arg(d, "n", "1")))
		var b strings.Builder
		for i := 0; i < n; i++ {
			out := w.run(func(ctx exec.Ctx) error { return keeper.EndBlock(ctx) })
			if out != "ok\n" {
				fmt.Fprintf(&b, "height %d:\n%s", w.h, out)
			}
			w.h++
		}
		if b.Len() == 0 {
			return "ok\n"
		}
		return b.String()
	case "ack", "commit", "reveal", "cancel":
		j := arg(d, "job", "")
		id := w.jobs[j]
		job := compute.GetJob(w.db, id)
		if job == nil {
			return fmt.Sprintf("no job %q\n", j)
		}
		who := job.Provider
		if by := arg(d, "by", ""); by != "" {
			who = w.addr(by)
		}
		switch d.Cmd {
		case "ack":
			return w.run(func(ctx exec.Ctx) error { return keeper.HandleAckJob(ctx, who, compute.MsgJob{ID: id}.Encode()) })
		case "cancel":
			if arg(d, "by", "") == "" {
				who = job.Client
			}
			return w.run(func(ctx exec.Ctx) error { return keeper.HandleCancelJob(ctx, who, compute.MsgJob{ID: id}.Encode()) })
		case "commit":
			base, _, _ := strings.Cut(j, ".")
			out := []byte(arg(d, "output", "out-"+base))
			r := compute.MsgRevealResult{ID: id, Output: types.SumHash(out), OutputSize: uint64(len(out)),
				GasUsed: num(t, arg(d, "gas", "5000000")), Failure: arg(d, "failure", "")}
			if len(out) == 0 {
				r.Output = compute.EmptyHash
			}
			if arg(d, "copy", "") != "" {
				// A lazy referee: it copies the first claim put to it
				// instead of running the job.
				c := w.claims(job.Group)[0]
				r.Output, r.OutputSize, r.GasUsed, r.Failure = c.Output, c.OutputSize, c.GasUsed, c.Failure
			}
			r.Salt = sha256.Sum256([]byte("salt-" + j))
			w.result[j] = r
			c := compute.Commitment(id, r.Output, r.GasUsed, r.Failure, r.Salt)
			return w.run(func(ctx exec.Ctx) error {
				return keeper.HandleCommitResult(ctx, who, compute.MsgCommitResult{ID: id, Commitment: c}.Encode())
			})
		default: // reveal
			r := w.result[j]
			if arg(d, "tamper", "") != "" {
				r.GasUsed++
			}
			if res := arg(d, "result", ""); res != "" {
				r.Result = []byte(res)
			}
			return w.run(func(ctx exec.Ctx) error { return keeper.HandleRevealResult(ctx, who, r.Encode()) })
		}
	case "attest":
		var ids []uint64
		for _, a := range d.CmdArgs {
			if a.Key == "jobs" {
				for _, v := range a.Vals {
					ids = append(ids, w.jobs[v])
				}
			}
		}
		power := int64(num(t, arg(d, "power", "3")))
		return w.run(func(ctx exec.Ctx) error {
			return keeper.ApplyAttestations(ctx, []compute.Attestation{{Power: power, Jobs: ids}}, int64(num(t, arg(d, "total", "4"))))
		})
	case "beacon":
		v := []byte(arg(d, "value", ""))
		return w.run(func(ctx exec.Ctx) error { ctx.KV.Set(keyTestBeacon, v); return nil })
	case "params":
		p := compute.GetParams(w.db)
		if v := arg(d, "plant", ""); v != "" {
			p.Verification.PlantRate = types.Fraction(num(t, v))
		}
		if v := arg(d, "ban", ""); v != "" {
			p.Verification.BanOnFault = v == "true"
		}
		return w.run(func(ctx exec.Ctx) error { return compute.InitGenesis(ctx.KV, p) })
	case "challenge":
		who := w.addr(arg(d, "by", "carol"))
		m := compute.MsgChallenge{Job: w.jobs[arg(d, "job", "")], Bond: amount(t, arg(d, "bond", "1myc"))}
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleChallenge(ctx, who, m.Encode()) })
	case "group":
		name := arg(d, "job", "")
		g := compute.GetGroup(w.db, w.jobs[name])
		if g == nil {
			return "no group\n"
		}
		w.nameRuns(name)
		var b strings.Builder
		fmt.Fprintf(&b, "%s: %s %s", name, g.Mode, g.Phase)
		if g.Audited {
			b.WriteString(" audited")
		}
		if g.Budget > 0 {
			fmt.Fprintf(&b, " budget=%d", g.Budget)
		}
		if g.Bond > 0 {
			fmt.Fprintf(&b, " bond=%d", g.Bond)
		}
		if g.Outcome != "" {
			fmt.Fprintf(&b, " outcome=%q", g.Outcome)
		}
		b.WriteString("\n")
		for _, id := range append(append([]uint64(nil), g.Members...), g.Referees...) {
			j := compute.GetJob(w.db, id)
			prov := "-"
			if !j.Provider.IsZero() {
				prov = w.name(j.Provider)
			}
			fmt.Fprintf(&b, "  %s %s provider=%s %s", w.jobName(strconv.FormatUint(id, 10)), j.Role, prov, j.State)
			if j.State.Finished() {
				fmt.Fprintf(&b, " paid=%d refunded=%d", j.Paid, j.Refunded)
			}
			if j.Lock > 0 {
				fmt.Fprintf(&b, " lock=%d", j.Lock)
			}
			b.WriteString("\n")
		}
		return b.String()
	case "dispute":
		prov := w.addr(arg(d, "provider", ""))
		key := chaintest.Key(arg(d, "provider", ""))
		rf := types.ReceiptFields{Version: compute.ReceiptVersion, Runtime: arg(d, "runtime", "mycel-rt/1"),
			Deterministic: arg(d, "deterministic", "true") == "true", Model: types.SumHash([]byte("model")),
			Request: types.SumHash([]byte("request")), Output: types.SumHash([]byte(arg(d, "output", "answer"))), Provider: prov}
		m := compute.MsgDispute{Receipt: rf, PubKey: key.Public().(ed25519.PublicKey), Signature: ed25519.Sign(key, rf.SignBytes()),
			Evidence: types.SumHash([]byte("evidence")), Bond: amount(t, arg(d, "bond", "1myc"))}
		if arg(d, "forge", "") != "" {
			m.Receipt.Output = types.SumHash([]byte("forged"))
		}
		who := w.addr(arg(d, "by", "carol"))
		out := w.run(func(ctx exec.Ctx) error { return keeper.HandleDispute(ctx, who, m.Encode()) })
		if i := strings.Index(out, "dispute_opened id=job"); i >= 0 {
			rest := out[i+len("dispute_opened id=job"):]
			id := num(t, rest[:strings.IndexByte(rest, ' ')])
			name := arg(d, "name", "")
			w.jobs[name] = id
			w.nameRuns(name)
			out = strings.ReplaceAll(out, "id=job"+strconv.FormatUint(id, 10)+" ", "id="+name+" ")
		}
		return out
	case "ballot":
		who := w.addr(arg(d, "by", "val"))
		id := w.jobs[arg(d, "dispute", "")]
		vote := uint8(num(t, arg(d, "vote", "2")))
		salt := sha256.Sum256([]byte("ballot-" + arg(d, "by", "val")))
		if arg(d, "reveal", "") != "" {
			m := compute.MsgBallotReveal{Subject: id, Vote: vote, Salt: salt}
			return w.run(func(ctx exec.Ctx) error { return keeper.HandleBallotReveal(ctx, who, m.Encode()) })
		}
		m := compute.MsgBallot{Subject: id, Commitment: compute.BallotCommitment(id, who, vote, salt)}
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleBallot(ctx, who, m.Encode()) })
	case "last":
		jobs := compute.Jobs(w.db, compute.JobFilter{Limit: 1 << 20})
		w.jobs[arg(d, "as", "")] = jobs[len(jobs)-1].ID
		return "ok\n"
	case "renew":
		a := w.addr(arg(d, "name", ""))
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleRenewLease(ctx, a, nil) })
	case "deregister":
		a := w.addr(arg(d, "name", ""))
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleDeregisterProvider(ctx, a, nil) })
	case "unbond":
		a := w.addr(arg(d, "name", ""))
		m := stake.MsgUnbond{Purpose: stake.Provider, Amount: amount(t, arg(d, "amount", ""))}
		return w.run(func(ctx exec.Ctx) error { return stake.HandleUnbond(ctx, a, m.Encode()) })
	case "jobs":
		var names []string
		for n := range w.jobs {
			names = append(names, n)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, n := range names {
			j := compute.GetJob(w.db, w.jobs[n])
			fmt.Fprintf(&b, "%s: %s", n, j.State)
			if !j.Provider.IsZero() {
				fmt.Fprintf(&b, " provider=%s", w.name(j.Provider))
			}
			if j.State.Finished() {
				fmt.Fprintf(&b, " paid=%d refunded=%d", j.Paid, j.Refunded)
			} else {
				fmt.Fprintf(&b, " escrow=%d", j.Escrow)
			}
			if j.Reason != "" {
				fmt.Fprintf(&b, " reason=%q", j.Reason)
			}
			b.WriteString("\n")
		}
		return b.String()
	case "balance":
		var b strings.Builder
		for _, a := range d.CmdArgs {
			fmt.Fprintf(&b, "%s=%d ", a.Key, bank.Balance(w.db, w.addr(a.Key)))
		}
		return strings.TrimSpace(b.String()) + "\n"
	case "providers":
		var b strings.Builder
		for _, p := range compute.Providers(w.db, types.Address{}, 100) {
			bond, jailed := stakeKeeper{}.ProviderBond(w.db, p.Address)
			fmt.Fprintf(&b, "%s: active=%d/%d done=%d failed=%d missed=%d earned=%d bond=%d lease=%d",
				w.name(p.Address), p.Active, p.Slots, p.Done, p.Failed, p.Missed, p.Earned, bond, p.Lease)
			if arg(d, "rep", "") != "" {
				fmt.Fprintf(&b, " faults=%d slashed=%d rep=%d", p.Faults, p.Slashed, compute.Reputation(p, bond, w.h, compute.GetParams(w.db)))
			}
			if p.Retired {
				b.WriteString(" retired")
			}
			if jailed {
				b.WriteString(" jailed")
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

// claims are the results put to a group's referees: the planted claim,
// or the members' revealed results.
func (w *world) claims(group uint64) []compute.Claim {
	g := compute.GetGroup(w.db, group)
	if len(g.Claims) > 0 {
		return g.Claims
	}
	var out []compute.Claim
	for _, id := range g.Members {
		if j := compute.GetJob(w.db, id); j.State == compute.Revealed {
			out = append(out, compute.Claim{Provider: j.Provider, Output: j.Output, OutputSize: j.OutputSize, GasUsed: j.GasUsed, Failure: j.RunFailure})
		}
	}
	return out
}

// nameRuns names a verification group's runs NAME.1, NAME.2, ... in the
// order the group lists them (members, then referees).
func (w *world) nameRuns(name string) {
	g := compute.GetGroup(w.db, w.jobs[name])
	if g == nil {
		return
	}
	for i, id := range append(append([]uint64(nil), g.Members...), g.Referees...) {
		w.jobs[fmt.Sprintf("%s.%d", name, i+1)] = id
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// TestScenarios runs testdata/scenarios: each file is a story of
// registrations, submissions, blocks and results with the expected
// events and state after each step. Regenerate expectations with
// go test ./chain/compute -run TestScenarios -rewrite, and read the diff.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, filepath.Join("testdata", "scenarios"), func(t *testing.T, path string) {
		w := newWorld(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			w.t = t
			return w.do(d)
		})
	})
}
