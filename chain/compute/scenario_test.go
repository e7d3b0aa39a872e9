package compute_test

import (
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

type stakeKeeper struct{}

func (stakeKeeper) ProviderBond(r store.Reader, a types.Address) (types.Amount, bool) {
	b, _ := stake.GetBond(r, a, stake.Provider)
	return b.Amount, b.Jailed
}
func (stakeKeeper) BondProvider(ctx exec.Ctx, a types.Address, amt types.Amount) error {
	return stake.BondFor(ctx, a, stake.Provider, amt)
}
func (stakeKeeper) SlashProvider(ctx exec.Ctx, a types.Address, f types.Fraction, reason string, since int64) error {
	_, err := stake.Slash(ctx, a, stake.Provider, f, reason, stake.SlashOptions{InfractionHeight: since})
	return err
}

var keeper = compute.Keeper{Bank: bankKeeper{}, Stake: stakeKeeper{}, RewardPool: mint.ProviderPool, FeeCollector: auth.FeeCollector}

// scenarioParams are short periods, so scenarios stay short.
func scenarioParams() compute.Params {
	p := compute.DefaultParams()
	p.MinProviderStake = types.MYC(10)
	p.LeaseBlocks, p.AckBlocks, p.DefaultDeadline, p.QueueBlocks, p.RewardEpochBlocks = 20, 3, 8, 15, 10
	p.MaxAssignPerBlock, p.MaxAttempts = 3, 2
	p.FeeAllowance = 30_000
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
	for k, v := range w.jobs {
		if v == n {
			return k
		}
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
			case "provider", "client", "address":
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
		out := w.run(func(ctx exec.Ctx) error { return keeper.HandleSubmitJob(ctx, client, m.Encode()) })
		if !strings.HasPrefix(out, "error") {
			var max uint64
			for _, id := range w.jobs {
				max = maxU(max, id)
			}
			w.jobs[arg(d, "name", "")] = max + 1
			out = strings.ReplaceAll(out, "job"+strconv.FormatUint(max+1, 10), arg(d, "name", ""))
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
			out := []byte(arg(d, "output", "out-"+j))
			r := compute.MsgRevealResult{ID: id, Output: types.SumHash(out), OutputSize: uint64(len(out)),
				GasUsed: num(t, arg(d, "gas", "5000000")), Failure: arg(d, "failure", "")}
			if len(out) == 0 {
				r.Output = compute.EmptyHash
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
