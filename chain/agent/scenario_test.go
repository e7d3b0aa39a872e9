package agent_test

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

// bankKeeper is the real bank behind the module's interface.
type bankKeeper struct{}

func (bankKeeper) Send(kv store.KV, from, to types.Address, a types.Amount) error {
	return bank.Send(kv, from, to, a)
}
func (bankKeeper) Balance(r store.Reader, a types.Address) types.Amount { return bank.Balance(r, a) }
func (bankKeeper) Burn(kv store.KV, from types.Address, a types.Amount) error {
	return bank.Burn(kv, from, a)
}

// channels is the real payment channel module behind the market's
// interface, as the application wires it.
type channels struct{}

func (channels) Open(r store.Reader, h int64, a types.Address) []uint64 {
	var ids []uint64
	for _, f := range []paych.Filter{{Payer: &a, Limit: 1000}, {Payee: &a, Limit: 1000}} {
		for _, c := range paych.List(r, f) {
			if c.Collected == 0 && (c.SettlingAt == 0 || h < c.SettlingAt) {
				ids = append(ids, c.ID)
			}
		}
	}
	return ids
}

var (
	keeper = agent.Keeper{Bank: bankKeeper{}, Channels: channels{}, Validators: validators{}}
	chans  = paych.Keeper{Bank: bankKeeper{}}
)

// validators weighs ballots by the real stake module's validator bonds
// (chaintest's genesis bonds "val").
type validators struct{}

func (validators) ValidatorBond(r store.Reader, a types.Address) types.Amount {
	if b, ok := stake.GetBond(r, a, stake.Validator); ok && !b.Jailed {
		return b.Amount
	}
	return 0
}

// scenarioParams has short periods, so scenarios stay short.
func scenarioParams() agent.Params {
	p := agent.DefaultParams()
	p.RegistrationBlocks = 10
	p.UnbondingBlocks = 5
	p.RatingEpochBlocks = 10
	p.RatingKeep = types.FractionOne / 2
	p.ReportVoteBlocks, p.ReportRevealBlocks = 4, 3
	p.ReportBond = types.MYC(5)
	return p
}

// baseState is chaintest's genesis with the registry's and the payment
// channels' rules.
func baseState(t testing.TB) *store.MemDB {
	db := chaintest.State(t)
	if err := agent.InitGenesis(db, agent.Genesis{Params: scenarioParams()}); err != nil {
		t.Fatal(err)
	}
	p := paych.DefaultParams()
	p.SettleBlocks = 3
	if err := paych.InitGenesis(db, p); err != nil {
		t.Fatal(err)
	}
	return db
}

// signingKey is the signing key of a name: a key apart from any
// account's.
func signingKey(name string) agent.PublicKey {
	var k agent.PublicKey
	copy(k[:], chaintest.Key(name+"/agent").Public().(ed25519.PublicKey))
	return k
}

// cardHash is the card with label L.
func cardHash(label string) types.Hash { return types.SumHash([]byte("card/" + label)) }

// world is the state of one scenario: accounts by their chaintest name,
// signing keys and cards by label.
type world struct {
	t     *testing.T
	db    *store.MemDB
	h     int64
	names map[string]string
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, db: baseState(t), h: 1, names: map[string]string{}}
	for _, u := range append([]string{"nobody", "val"}, chaintest.Users...) {
		w.names[chaintest.Addr(u).String()] = u
	}
	w.names[agent.Deposits.String()] = "deposits"
	return w
}

func (w *world) addr(name string) types.Address {
	switch name {
	case "deposits":
		return agent.Deposits
	case "zero":
		return types.Address{}
	}
	a := chaintest.Addr(name)
	w.names[a.String()] = name
	return a
}

func (w *world) key(name string) agent.PublicKey {
	if name == "none" {
		return agent.PublicKey{}
	}
	k := signingKey(name)
	w.names[k.String()] = name
	return k
}

func (w *world) card(label string) types.Hash {
	h := cardHash(label)
	w.names[h.String()] = label
	return h
}

func (w *world) show(v string) string {
	if n, ok := w.names[v]; ok {
		return n
	}
	return v
}

// showAll replaces the addresses, keys and hashes in a message by names.
func (w *world) showAll(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		f = strings.TrimLeft(strings.TrimRight(f, ",;:)"), "(")
		if r := w.show(f); r != f {
			fields[i] = strings.Replace(fields[i], f, r, 1)
		}
	}
	return strings.Join(fields, " ")
}

var amountKeys = map[string]bool{"amount": true, "deposit": true, "price": true, "burned": true, "bond": true}

// run applies f in a branch kept only on success, checks the invariants
// (the registry's, the channels', the supply's and the stakes'), and
// reports the error or the events. A failed step leaves nothing behind.
func (w *world) run(f func(ctx exec.Ctx) error) string {
	c := store.NewCache(w.db)
	ctx := exec.New(c, chaintest.Block(w.h))
	if err := f(ctx); err != nil {
		return "error: " + w.showAll(err.Error()) + "\n"
	}
	if err := agent.CheckInvariant(c, bankKeeper{}); err != nil {
		w.t.Fatalf("height %d: %v", w.h, err)
	}
	if err := paych.CheckInvariant(c, bankKeeper{}); err != nil {
		w.t.Fatalf("height %d: %v", w.h, err)
	}
	chaintest.CheckInvariants(w.t, c)
	w.db.Apply(c.Changes())
	var b strings.Builder
	for _, e := range ctx.Events() {
		b.WriteString(e.Type)
		for _, a := range e.Attrs {
			v := w.show(a.Value)
			if amountKeys[a.Key] {
				n, _ := strconv.ParseUint(v, 10, 64)
				v = types.Amount(n).String()
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
	for _, line := range strings.Split(d.Input, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k == key {
			return v
		}
	}
	for _, a := range d.CmdArgs {
		if a.Key == key {
			return strings.Join(a.Vals, ",")
		}
	}
	return def
}

func (w *world) num(d *datadriven.TestData, key, def string) uint64 {
	n, err := strconv.ParseUint(arg(d, key, def), 10, 64)
	if err != nil {
		w.t.Fatalf("%s: %v", key, err)
	}
	return n
}

func (w *world) amount(d *datadriven.TestData, key, def string) types.Amount {
	a, err := types.ParseAmount(arg(d, key, def))
	if err != nil {
		w.t.Fatalf("%s: %v", key, err)
	}
	return a
}

// skills reads skills=ID:tag|tag;ID2 ... with the name the id in capitals.
func skills(s string) []agent.Skill {
	out := []agent.Skill{}
	if s == "" {
		return out
	}
	for _, sk := range strings.Split(s, ";") {
		id, tags, _ := strings.Cut(sk, ":")
		k := agent.Skill{ID: id, Name: strings.ToUpper(id)}
		if tags != "" {
			k.Tags = strings.Split(tags, "|")
		}
		out = append(out, k)
	}
	return out
}

func (w *world) split(s string) []agent.Split {
	var out []agent.Split
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		a, b, _ := strings.Cut(part, ":")
		id, err1 := strconv.ParseUint(a, 10, 64)
		bps, err2 := strconv.ParseUint(b, 10, 32)
		if err1 != nil || err2 != nil {
			w.t.Fatalf("split %q: want AGENT:BPS,...", s)
		}
		out = append(out, agent.Split{Agent: id, Bps: uint32(bps)})
	}
	return out
}

func (w *world) print(a *agent.Agent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "agent %d: %s %q owner=%s since=%d", a.ID, a.Status, a.Name, w.show(a.Owner.String()), a.OwnedSince)
	if a.SigningKey.IsZero() {
		b.WriteString(" key=none")
	} else {
		fmt.Fprintf(&b, " key=%s@%d", w.show(a.SigningKey.String()), a.KeySince)
	}
	fmt.Fprintf(&b, " card=%s deposit=%s price=%s", w.show(a.CardHash.String()), a.Deposit, a.Price)
	if a.Endpoint == "" {
		b.WriteString(" endpoint=mailbox")
	} else {
		fmt.Fprintf(&b, " endpoint=%s", a.Endpoint)
	}
	fmt.Fprintf(&b, " expires=%d", a.ExpiresAt)
	if a.RefundAt != 0 {
		fmt.Fprintf(&b, " refund_at=%d", a.RefundAt)
	}
	if a.Refunded != 0 {
		fmt.Fprintf(&b, " refunded=%s", a.Refunded)
	}
	if a.ForSale {
		fmt.Fprintf(&b, " for_sale=%s", a.SalePrice)
	}
	if a.Rep.Count > 0 {
		fmt.Fprintf(&b, " ratings=%d", a.Rep.Count)
	}
	if a.OpenReports > 0 {
		fmt.Fprintf(&b, " reports=%d", a.OpenReports)
	}
	for _, s := range a.Skills {
		fmt.Fprintf(&b, " skill=%s", s.ID)
		if len(s.Tags) > 0 {
			fmt.Fprintf(&b, "[%s]", strings.Join(s.Tags, ","))
		}
	}
	b.WriteString("\n")
	return b.String()
}

func printShares(b *strings.Builder, ss []agent.Share) {
	for i, s := range ss {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(b, "%d:%d", s.Agent, s.Bps)
		if !s.Accepted {
			b.WriteString("?")
		}
	}
}

func (w *world) printCollective(c *agent.Collective) string {
	var b strings.Builder
	fmt.Fprintf(&b, "collective %d: %q manager=%d version=%d", c.ID, c.Name, c.Manager, c.Version)
	if c.Version > 0 {
		fmt.Fprintf(&b, " card=%s split=", w.show(c.CardHash.String()))
		printShares(&b, c.Shares)
	}
	if c.Proposal != nil {
		fmt.Fprintf(&b, " proposal=%d card=%s split=", c.Proposal.Version, w.show(c.Proposal.CardHash.String()))
		printShares(&b, c.Proposal.Shares)
	}
	if c.Closed != 0 {
		fmt.Fprintf(&b, " closed=%d", c.Closed)
	}
	if c.Paid > 0 {
		fmt.Fprintf(&b, " paid=%s", c.Paid)
	}
	b.WriteString("\n")
	return b.String()
}

// register builds a registration from the arguments: defaults are a card
// labelled by the name, 20 MYC of deposit, a price of 1 MYC, the mailbox,
// and the owner's signing key.
func (w *world) register(d *datadriven.TestData) agent.MsgRegister {
	name := arg(d, "name", "helper")
	by := arg(d, "by", "alice")
	return agent.MsgRegister{SigningKey: w.key(arg(d, "key", by)), CardHash: w.card(arg(d, "card", name)),
		CardSize: w.num(d, "size", "500"), Name: name, Description: arg(d, "description", ""),
		Skills: skills(arg(d, "skills", "")), Price: w.amount(d, "price", "1myc"), Endpoint: arg(d, "endpoint", ""),
		Deposit: w.amount(d, "deposit", "20myc")}
}

func (w *world) send(d *datadriven.TestData, by string, h func(exec.Ctx, types.Address, []byte) error, body []byte) string {
	signer := w.addr(arg(d, "by", by))
	return w.run(func(ctx exec.Ctx) error { return h(ctx, signer, body) })
}

func (w *world) do(d *datadriven.TestData) string {
	t := w.t
	id := func() uint64 { return w.num(d, "id", "1") }
	switch d.Cmd {
	case "height":
		w.h = int64(w.num(d, "h", ""))
		return "ok\n"
	case "endblock":
		// endblock [h=H]: move to height H (default: this one) and run
		// its end-block step.
		if arg(d, "h", "") != "" {
			w.h = int64(w.num(d, "h", ""))
		}
		return w.run(keeper.EndBlock)
	case "register":
		return w.send(d, "alice", keeper.HandleRegister, w.register(d).Encode())
	case "update":
		a := agent.Get(w.db, id())
		if a == nil {
			a = &agent.Agent{}
		}
		m := agent.MsgUpdate{Agent: id(), CardHash: a.CardHash, CardSize: a.CardSize, Name: a.Name, Description: a.Description,
			Skills: a.Skills, Price: a.Price, Endpoint: a.Endpoint}
		if c := arg(d, "card", ""); c != "" {
			m.CardHash = w.card(c)
		}
		m.Name, m.Endpoint = arg(d, "name", m.Name), arg(d, "endpoint", m.Endpoint)
		m.Price = w.amount(d, "price", m.Price.String())
		if s := arg(d, "skills", "-"); s != "-" {
			m.Skills = skills(s)
		}
		return w.send(d, "alice", keeper.HandleUpdate, m.Encode())
	case "renew":
		return w.send(d, "alice", keeper.HandleRenew, agent.MsgRenew{Agent: id(), AddDeposit: w.amount(d, "add", "0umyc")}.Encode())
	case "deregister":
		return w.send(d, "alice", keeper.HandleDeregister, agent.MsgAgent{Agent: id()}.Encode())
	case "transfer":
		return w.send(d, "alice", keeper.HandleTransfer, agent.MsgTransfer{Agent: id(), NewOwner: w.addr(arg(d, "to", "bob"))}.Encode())
	case "setkey":
		return w.send(d, "bob", keeper.HandleSetKey, agent.MsgSetKey{Agent: id(), Key: w.key(arg(d, "key", "bob"))}.Encode())
	case "sell":
		return w.send(d, "alice", keeper.HandleListForSale, agent.MsgListForSale{Agent: id(), Price: w.amount(d, "price", "50myc")}.Encode())
	case "delist":
		return w.send(d, "alice", keeper.HandleDelist, agent.MsgAgent{Agent: id()}.Encode())
	case "buy":
		return w.send(d, "bob", keeper.HandleBuy, agent.MsgBuy{Agent: id(), MaxPrice: w.amount(d, "max", "1000myc")}.Encode())
	case "create":
		m := agent.MsgCreateCollective{Manager: w.num(d, "manager", "1"), Name: arg(d, "name", "crew"),
			CardHash: w.card(arg(d, "card", "crew")), CardSize: w.num(d, "size", "800"), Split: w.split(arg(d, "split", ""))}
		return w.send(d, "alice", keeper.HandleCreateCollective, m.Encode())
	case "propose":
		m := agent.MsgProposeSplit{Collective: w.num(d, "collective", "1"), CardHash: w.card(arg(d, "card", "crew")),
			CardSize: w.num(d, "size", "800"), Split: w.split(arg(d, "split", ""))}
		return w.send(d, "alice", keeper.HandleProposeSplit, m.Encode())
	case "accept":
		m := agent.MsgAcceptSplit{Collective: w.num(d, "collective", "1"), Agent: w.num(d, "agent", ""), Version: w.num(d, "version", "1")}
		return w.send(d, "bob", keeper.HandleAcceptSplit, m.Encode())
	case "leave":
		m := agent.MsgLeaveCollective{Collective: w.num(d, "collective", "1"), Agent: w.num(d, "agent", "")}
		return w.send(d, "bob", keeper.HandleLeaveCollective, m.Encode())
	case "pay":
		m := agent.MsgPayCollective{Collective: w.num(d, "collective", "1"), Amount: w.amount(d, "amount", "1myc")}
		return w.send(d, "carol", keeper.HandlePayCollective, m.Encode())
	case "rate":
		m := agent.MsgRate{Agent: id(), Stars: uint8(w.num(d, "stars", "5")), Amount: w.amount(d, "pay", "0.01myc")}
		if task := arg(d, "task", ""); task != "" {
			m.Task = w.card(task)
		}
		return w.send(d, "carol", keeper.HandleRate, m.Encode())
	case "report":
		m := agent.MsgReport{Agent: id(), Bond: w.amount(d, "bond", "5myc"), Reason: arg(d, "reason", "did not deliver")}
		if ev := arg(d, "evidence", ""); ev != "" {
			m.Evidence = w.card(ev)
		}
		return w.send(d, "carol", keeper.HandleReport, m.Encode())
	case "ballot":
		// ballot report=N by=val vote=1|2 [reveal=yes]
		rid, vote := w.num(d, "report", "1"), uint8(w.num(d, "vote", "2"))
		salt := [32]byte{byte(rid), vote}
		if arg(d, "reveal", "") != "" {
			if s := arg(d, "salt-vote", ""); s != "" {
				salt[1] = byte(w.num(d, "salt-vote", ""))
			}
			return w.send(d, "val", keeper.HandleReportReveal, agent.MsgReportReveal{Subject: rid, Vote: vote, Salt: salt}.Encode())
		}
		signer := w.addr(arg(d, "by", "val"))
		m := agent.MsgReportBallot{Subject: rid, Commitment: agent.BallotCommitment(rid, signer, vote, salt)}
		return w.send(d, "val", keeper.HandleReportBallot, m.Encode())
	case "withdraw":
		return w.send(d, "carol", keeper.HandleWithdrawReport, agent.MsgWithdrawReport{Report: w.num(d, "report", "1")}.Encode())
	case "open-channel":
		m := paych.MsgOpen{Payee: w.addr(arg(d, "to", "alice")), VoucherKey: paych.KeyOf(chaintest.Key("vouchers")),
			Amount: w.amount(d, "amount", "1myc")}
		return w.send(d, "carol", chans.HandleOpen, m.Encode())
	case "settle-channel", "collect-channel":
		h := chans.HandleSettle
		if d.Cmd == "collect-channel" {
			h = chans.HandleCollect
		}
		return w.send(d, "alice", h, paych.MsgChannel{Channel: w.num(d, "ch", "1")}.Encode())
	case "raw":
		// raw kind=NAME hex=BYTES: a body as a hostile client sends it.
		body, err := strconv.Unquote(`"` + arg(d, "body", "") + `"`)
		if err != nil {
			t.Fatal(err)
		}
		h := map[string]func(exec.Ctx, types.Address, []byte) error{"register": keeper.HandleRegister,
			"create": keeper.HandleCreateCollective, "rate": keeper.HandleRate}[arg(d, "kind", "")]
		return w.send(d, "alice", h, []byte(body))
	case "show":
		a := agent.Get(w.db, id())
		if a == nil {
			return "no agent\n"
		}
		return w.print(a)
	case "collective":
		c := agent.GetCollective(w.db, w.num(d, "id", "1"))
		if c == nil {
			return "no collective\n"
		}
		return w.printCollective(c)
	case "collectives":
		var b strings.Builder
		for _, c := range agent.CollectivesOf(w.db, id()) {
			fmt.Fprintf(&b, "%d ", c.ID)
		}
		if b.Len() == 0 {
			return "none\n"
		}
		return strings.TrimSpace(b.String()) + "\n"
	case "list":
		f := agent.Filter{After: w.num(d, "after", "0"), Limit: int(w.num(d, "limit", "0")), ForSale: arg(d, "for_sale", "") != ""}
		if o := arg(d, "owner", ""); o != "" {
			a := w.addr(o)
			f.Owner = &a
		}
		as := agent.List(w.db, f)
		if len(as) == 0 {
			return "none\n"
		}
		var b strings.Builder
		for _, a := range as {
			b.WriteString(w.print(a))
		}
		return b.String()
	case "changed":
		var ids []string
		agent.ChangedSince(w.db, int64(w.num(d, "since", "0")), func(a *agent.Agent) bool {
			ids = append(ids, fmt.Sprintf("%d@%d", a.ID, a.Updated))
			return true
		})
		return strings.Join(ids, " ") + "\n"
	case "reputation":
		a := agent.Get(w.db, id())
		return fmt.Sprintf("agent %d: reputation %d ppm at height %d (ratings %d, weight %d, stars %d as of epoch %d)\n", a.ID,
			agent.Reputation(a, w.h, scenarioParams()), w.h, a.Rep.Count, a.Rep.Weight, a.Rep.Stars, a.Rep.Epoch)
	case "reports":
		var b strings.Builder
		for _, r := range agent.ReportsOf(w.db, id()) {
			fmt.Fprintf(&b, "report %d: agent=%d reporter=%s bond=%s reason=%q height=%d", r.ID, r.Agent, w.show(r.Reporter.String()),
				r.Bond, r.Reason, r.Height)
			if !r.Evidence.IsZero() {
				fmt.Fprintf(&b, " evidence=%s", w.show(r.Evidence.String()))
			}
			if !r.Open() {
				fmt.Fprintf(&b, " withdrawn=%d", r.Withdrawn)
			}
			b.WriteString("\n")
		}
		if b.Len() == 0 {
			return "none\n"
		}
		return b.String()
	case "balances":
		var b strings.Builder
		for _, n := range strings.Split(arg(d, "of", "alice,bob,carol,deposits"), ",") {
			fmt.Fprintf(&b, "%s=%s ", n, bank.Balance(w.db, w.addr(n)))
		}
		fmt.Fprintf(&b, "burned=%s", bank.GetSupply(w.db).Burned)
		return b.String() + "\n"
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

// TestScenarios runs testdata/scenarios: stories of registrations,
// renewals, expiries, refunds, transfers, sales, collectives, ratings and
// reports, each file tied to the rules of doc.go it checks, with the
// events, errors, records and balances after each step. The registry's
// invariant (the deposit account holds exactly the deposits not yet
// refunded plus the open report bonds), the channels', the supply's and
// the stakes' are checked after every step. Regenerate the expectations
// with go test ./chain/agent -run TestScenarios -rewrite, and read the
// diff.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, filepath.Join("testdata", "scenarios"), func(t *testing.T, path string) {
		w := newWorld(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			w.t = t
			return w.do(d)
		})
	})
}
