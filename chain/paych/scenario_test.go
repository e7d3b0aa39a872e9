package paych_test

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/paych"
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

var keeper = paych.Keeper{Bank: bankKeeper{}}

// scenarioParams has a short challenge period, so scenarios stay short.
func scenarioParams() paych.Params {
	p := paych.DefaultParams()
	p.SettleBlocks = 5
	return p
}

// world is the state of one scenario: accounts and keys by their
// chaintest name, vouchers by a label.
type world struct {
	t        *testing.T
	db       *store.MemDB
	h        int64
	names    map[types.Address]string
	vouchers map[string]paych.Voucher
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, db: chaintest.State(t), h: 2, names: map[types.Address]string{}, vouchers: map[string]paych.Voucher{}}
	if err := paych.InitGenesis(w.db, scenarioParams()); err != nil {
		t.Fatal(err)
	}
	for _, u := range append([]string{"nobody", "val"}, chaintest.Users...) {
		w.names[chaintest.Addr(u)] = u
	}
	w.names[paych.Escrow] = "escrow"
	return w
}

func (w *world) addr(name string) types.Address {
	if name == "escrow" {
		return paych.Escrow
	}
	a := chaintest.Addr(name)
	w.names[a] = name
	return a
}

func (w *world) show(v string) string {
	if a, err := types.ParseAddress(v); err == nil {
		if n, ok := w.names[a]; ok {
			return n
		}
	}
	return v
}

// run applies f in a branch kept only on success, checks the invariants
// (the module's, the supply's and the stakes'), and reports the error or
// the events. A failed step must leave the balances as they were.
func (w *world) run(f func(ctx exec.Ctx) error) string {
	c := store.NewCache(w.db)
	ctx := exec.New(c, chaintest.Block(w.h))
	if err := f(ctx); err != nil {
		return "error: " + w.showAll(err.Error()) + "\n"
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
			switch a.Key {
			case "amount", "paid", "refunded", "deposit":
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

// showAll replaces the addresses in a message by their names.
func (w *world) showAll(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		f = strings.TrimRight(f, ",;:)")
		if r := w.show(f); r != f {
			fields[i] = strings.Replace(fields[i], f, r, 1)
		}
	}
	return strings.Join(fields, " ")
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

// key is the voucher key of a name: a key apart from the account's.
func key(name string) ed25519.PrivateKey { return chaintest.Key(name + "/vouchers") }

func (w *world) print(c *paych.Channel) string {
	var b strings.Builder
	fmt.Fprintf(&b, "channel %d: %s payer=%s payee=%s deposit=%s paid=%s opened=%d", c.ID, c.State(), w.show(c.Payer.String()),
		w.show(c.Payee.String()), c.Deposit, c.Paid, c.Opened)
	if c.MinSettleHeight != 0 {
		fmt.Fprintf(&b, " min_settle=%d", c.MinSettleHeight)
	}
	if c.SettlingAt != 0 {
		fmt.Fprintf(&b, " settling_at=%d", c.SettlingAt)
	}
	if c.Collected != 0 {
		fmt.Fprintf(&b, " collected=%d refunded=%s", c.Collected, c.Refunded)
	}
	b.WriteString("\n")
	for _, l := range c.Lanes {
		fmt.Fprintf(&b, "  lane %d: nonce=%d redeemed=%s\n", l.Lane, l.Nonce, l.Redeemed)
	}
	return b.String()
}

func (w *world) do(d *datadriven.TestData) string {
	t := w.t
	switch d.Cmd {
	case "height":
		w.h = int64(w.num(d, "h", ""))
		return "ok\n"
	case "next":
		w.h += int64(w.num(d, "n", "1"))
		return fmt.Sprintf("height %d\n", w.h)
	case "open":
		m := paych.MsgOpen{Payee: w.addr(arg(d, "to", "bob")), VoucherKey: paych.KeyOf(key(arg(d, "key", arg(d, "by", "alice")))),
			Amount: w.amount(d, "amount", "10myc")}
		if arg(d, "key", "") == "none" {
			m.VoucherKey = paych.PublicKey{}
		}
		if to := arg(d, "to", ""); to == "zero" {
			m.Payee = types.Address{}
		}
		by := w.addr(arg(d, "by", "alice"))
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleOpen(ctx, by, m.Encode()) })
	case "topup":
		m := paych.MsgTopUp{Channel: w.num(d, "ch", "1"), Amount: w.amount(d, "amount", "1myc")}
		by := w.addr(arg(d, "by", "alice"))
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleTopUp(ctx, by, m.Encode()) })
	case "voucher":
		// voucher name=V ch=1 lane=0 nonce=1 amount=3myc [min=H] [expiry=H]
		// [key=NAME] [chain=ID]: a voucher signed off chain; nothing on
		// chain changes.
		v := paych.Voucher{Channel: w.num(d, "ch", "1"), Lane: w.num(d, "lane", "0"), Nonce: w.num(d, "nonce", "1"),
			Amount: w.amount(d, "amount", "1myc"), MinSettleHeight: int64(w.num(d, "min", "0")), Expiry: int64(w.num(d, "expiry", "0"))}
		v.Sign(arg(d, "chain", chaintest.ChainID), key(arg(d, "key", "alice")))
		w.vouchers[arg(d, "name", "")] = v
		return "ok\n"
	case "tamper":
		// tamper v=V as=W [ch=] [lane=] [nonce=] [amount=]: a copy of V
		// with fields changed and the signature kept.
		v, ok := w.vouchers[arg(d, "v", "")]
		if !ok {
			t.Fatalf("no voucher %q", arg(d, "v", ""))
		}
		v.Channel, v.Lane, v.Nonce = w.num(d, "ch", fmt.Sprint(v.Channel)), w.num(d, "lane", fmt.Sprint(v.Lane)), w.num(d, "nonce", fmt.Sprint(v.Nonce))
		v.Amount = w.amount(d, "amount", fmt.Sprint(uint64(v.Amount), "umyc"))
		w.vouchers[arg(d, "as", "")] = v
		return "ok\n"
	case "redeem":
		v, ok := w.vouchers[arg(d, "v", "")]
		if !ok {
			t.Fatalf("no voucher %q", arg(d, "v", ""))
		}
		by := w.addr(arg(d, "by", "bob"))
		return w.run(func(ctx exec.Ctx) error { return keeper.HandleRedeem(ctx, by, paych.MsgRedeem{Voucher: v}.Encode()) })
	case "settle", "collect":
		m := paych.MsgChannel{Channel: w.num(d, "ch", "1")}
		by := w.addr(arg(d, "by", "alice"))
		h := keeper.HandleSettle
		if d.Cmd == "collect" {
			h = keeper.HandleCollect
		}
		return w.run(func(ctx exec.Ctx) error { return h(ctx, by, m.Encode()) })
	case "show":
		c := paych.Get(w.db, w.num(d, "ch", "1"))
		if c == nil {
			return "no channel\n"
		}
		return w.print(c)
	case "list":
		f := paych.Filter{After: w.num(d, "after", "0"), Limit: int(w.num(d, "limit", "0"))}
		if p := arg(d, "payer", ""); p != "" {
			a := w.addr(p)
			f.Payer = &a
		}
		if p := arg(d, "payee", ""); p != "" {
			a := w.addr(p)
			f.Payee = &a
		}
		cs := paych.List(w.db, f)
		if len(cs) == 0 {
			return "none\n"
		}
		var b strings.Builder
		for _, c := range cs {
			b.WriteString(w.print(c))
		}
		return b.String()
	case "balances":
		var b strings.Builder
		for _, n := range strings.Split(arg(d, "of", "alice,bob,escrow"), ",") {
			fmt.Fprintf(&b, "%s=%s ", n, bank.Balance(w.db, w.addr(n)))
		}
		return strings.TrimSpace(b.String()) + "\n"
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

// TestScenarios runs testdata/scenarios: stories of opens, top-ups,
// vouchers, redeems, settles and collects, each file tied to the rules of
// the payment channel actor (doc.go) it checks, with the events, errors,
// channels and balances after each step. The module's invariant (escrow =
// open channels' deposit − paid) and the supply's are checked after every
// step. Regenerate the expectations with
// go test ./chain/paych -run TestScenarios -rewrite, and read the diff.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, filepath.Join("testdata", "scenarios"), func(t *testing.T, path string) {
		w := newWorld(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			w.t = t
			return w.do(d)
		})
	})
}
