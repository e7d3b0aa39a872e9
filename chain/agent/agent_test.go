package agent_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

// populated is the fuzzers' base state: alice's agent 1 and bob's agent 2
// (listed for sale at 5 MYC), a collective of both waiting for bob's
// consent, and carol's open report against agent 1.
func populated(t testing.TB) *store.MemDB {
	db := baseState(t)
	c := store.NewCache(db)
	ctx := exec.New(c, chaintest.Block(2))
	steps := []struct {
		who  string
		h    func(exec.Ctx, types.Address, []byte) error
		body []byte
	}{
		{"alice", keeper.HandleRegister, agent.MsgRegister{SigningKey: signingKey("alice"), CardHash: cardHash("a"), CardSize: 100,
			Name: "tides", Skills: []agent.Skill{{ID: "tide-tables", Name: "Tides", Tags: []string{"ocean"}}}, Price: types.MYC(1),
			Deposit: types.MYC(20)}.Encode()},
		{"bob", keeper.HandleRegister, agent.MsgRegister{SigningKey: signingKey("bob"), CardHash: cardHash("b"), CardSize: 100,
			Name: "echo", Endpoint: "https://echo.example", Deposit: types.MYC(10)}.Encode()},
		{"bob", keeper.HandleListForSale, agent.MsgListForSale{Agent: 2, Price: types.MYC(5)}.Encode()},
		{"alice", keeper.HandleCreateCollective, agent.MsgCreateCollective{Manager: 1, Name: "crew", CardHash: cardHash("c"),
			CardSize: 100, Split: []agent.Split{{Agent: 1, Bps: 4000}, {Agent: 2, Bps: 6000}}}.Encode()},
		{"carol", keeper.HandleReport, agent.MsgReport{Agent: 1, Bond: types.MYC(5), Reason: "slow"}.Encode()},
	}
	for _, s := range steps {
		if err := s.h(ctx, chaintest.Addr(s.who), s.body); err != nil {
			t.Fatal(err)
		}
	}
	db.Apply(c.Changes())
	return db
}

func seeds() [][]byte {
	split := []agent.Split{{Agent: 1, Bps: 5000}, {Agent: 2, Bps: 5000}}
	return [][]byte{
		agent.MsgRegister{SigningKey: signingKey("x"), CardHash: cardHash("x"), CardSize: 10, Name: "x",
			Skills: []agent.Skill{{ID: "s", Tags: []string{"t"}}}, Price: 1, Deposit: types.MYC(10)}.Encode(),
		agent.MsgRegister{SigningKey: signingKey("y"), CardHash: cardHash("y"), CardSize: 10, Name: "y", Endpoint: "http://h",
			Deposit: types.MYC(2000)}.Encode(),
		agent.MsgUpdate{Agent: 1, CardHash: cardHash("z"), CardSize: 5, Name: "z", Price: 3}.Encode(),
		agent.MsgRenew{Agent: 1, AddDeposit: types.MYC(1)}.Encode(),
		agent.MsgAgent{Agent: 1}.Encode(),
		agent.MsgAgent{Agent: 2}.Encode(),
		agent.MsgTransfer{Agent: 1, NewOwner: chaintest.Addr("bob")}.Encode(),
		agent.MsgSetKey{Agent: 2, Key: signingKey("z")}.Encode(),
		agent.MsgListForSale{Agent: 1, Price: types.MYC(3)}.Encode(),
		agent.MsgBuy{Agent: 2, MaxPrice: types.MYC(5)}.Encode(),
		agent.MsgCreateCollective{Manager: 1, Name: "c", CardHash: cardHash("c"), CardSize: 9, Split: split}.Encode(),
		agent.MsgProposeSplit{Collective: 1, CardHash: cardHash("d"), CardSize: 9, Split: split}.Encode(),
		agent.MsgAcceptSplit{Collective: 1, Agent: 2, Version: 1}.Encode(),
		agent.MsgLeaveCollective{Collective: 1, Agent: 2}.Encode(),
		agent.MsgLeaveCollective{Collective: 1, Agent: 1}.Encode(),
		agent.MsgPayCollective{Collective: 1, Amount: 7}.Encode(),
		agent.MsgRate{Agent: 1, Stars: 4, Amount: types.MYC(1)}.Encode(),
		agent.MsgReport{Agent: 2, Bond: types.MYC(5), Reason: "r"}.Encode(),
		agent.MsgWithdrawReport{Report: 1}.Encode(),
		{1, 2, 3},
	}
}

// Every decoder accepts only canonical bodies: what it accepts re-encodes
// to the same bytes, and it never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		check := func(name string, enc func() []byte, err error) {
			if err == nil && !bytes.Equal(enc(), b) {
				t.Fatalf("%s: %x re-encodes to %x", name, b, enc())
			}
		}
		m1, err := agent.DecodeMsgRegister(b)
		check("register", m1.Encode, err)
		m2, err := agent.DecodeMsgUpdate(b)
		check("update", m2.Encode, err)
		m3, err := agent.DecodeMsgRenew(b)
		check("renew", m3.Encode, err)
		m4, err := agent.DecodeMsgAgent(b)
		check("agent", m4.Encode, err)
		m5, err := agent.DecodeMsgTransfer(b)
		check("transfer", m5.Encode, err)
		m6, err := agent.DecodeMsgSetKey(b)
		check("set key", m6.Encode, err)
		m7, err := agent.DecodeMsgListForSale(b)
		check("list", m7.Encode, err)
		m8, err := agent.DecodeMsgBuy(b)
		check("buy", m8.Encode, err)
		m9, err := agent.DecodeMsgCreateCollective(b)
		check("create", m9.Encode, err)
		m10, err := agent.DecodeMsgProposeSplit(b)
		check("propose", m10.Encode, err)
		m11, err := agent.DecodeMsgAcceptSplit(b)
		check("accept", m11.Encode, err)
		m12, err := agent.DecodeMsgLeaveCollective(b)
		check("leave", m12.Encode, err)
		m13, err := agent.DecodeMsgPayCollective(b)
		check("pay", m13.Encode, err)
		m14, err := agent.DecodeMsgRate(b)
		check("rate", m14.Encode, err)
		m15, err := agent.DecodeMsgReport(b)
		check("report", m15.Encode, err)
		m16, err := agent.DecodeMsgWithdrawReport(b)
		check("withdraw", m16.Encode, err)
		if !bytes.Equal(in, b) {
			t.Fatal("a decoder modified its input")
		}
	})
}

// checked adds the registry's invariant to a handler for the fuzzers.
func checked(h chaintest.Handler) chaintest.Handler {
	return func(ctx exec.Ctx, signer types.Address, body []byte) error {
		if err := h(ctx, signer, body); err != nil {
			return err
		}
		if err := agent.CheckInvariant(ctx.KV, bankKeeper{}); err != nil {
			panic(err)
		}
		return nil
	}
}

func fuzzHandler(f *testing.F, h chaintest.Handler) {
	signers := []types.Address{chaintest.Addr("alice"), chaintest.Addr("bob"), chaintest.Addr("carol"), chaintest.Addr("nobody")}
	chaintest.FuzzHandlerWith(f, populated, signers, checked(h), seeds()...)
}

func FuzzRegister(f *testing.F)         { fuzzHandler(f, keeper.HandleRegister) }
func FuzzUpdate(f *testing.F)           { fuzzHandler(f, keeper.HandleUpdate) }
func FuzzRenew(f *testing.F)            { fuzzHandler(f, keeper.HandleRenew) }
func FuzzDeregister(f *testing.F)       { fuzzHandler(f, keeper.HandleDeregister) }
func FuzzTransfer(f *testing.F)         { fuzzHandler(f, keeper.HandleTransfer) }
func FuzzSetKey(f *testing.F)           { fuzzHandler(f, keeper.HandleSetKey) }
func FuzzListForSale(f *testing.F)      { fuzzHandler(f, keeper.HandleListForSale) }
func FuzzDelist(f *testing.F)           { fuzzHandler(f, keeper.HandleDelist) }
func FuzzBuy(f *testing.F)              { fuzzHandler(f, keeper.HandleBuy) }
func FuzzCreateCollective(f *testing.F) { fuzzHandler(f, keeper.HandleCreateCollective) }
func FuzzProposeSplit(f *testing.F)     { fuzzHandler(f, keeper.HandleProposeSplit) }
func FuzzAcceptSplit(f *testing.F)      { fuzzHandler(f, keeper.HandleAcceptSplit) }
func FuzzLeaveCollective(f *testing.F)  { fuzzHandler(f, keeper.HandleLeaveCollective) }
func FuzzPayCollective(f *testing.F)    { fuzzHandler(f, keeper.HandlePayCollective) }
func FuzzRate(f *testing.F)             { fuzzHandler(f, keeper.HandleRate) }
func FuzzReport(f *testing.F)           { fuzzHandler(f, keeper.HandleReport) }
func FuzzWithdrawReport(f *testing.F)   { fuzzHandler(f, keeper.HandleWithdrawReport) }
func FuzzReportBallot(f *testing.F)     { fuzzHandler(f, keeper.HandleReportBallot) }
func FuzzReportReveal(f *testing.F)     { fuzzHandler(f, keeper.HandleReportReveal) }

// The invariant catches a deposit account that holds more or less than
// the agents and reports account for, and an index entry without a
// record.
func TestInvariantCatchesDrift(t *testing.T) {
	db := populated(t)
	if err := agent.CheckInvariant(db, bankKeeper{}); err != nil {
		t.Fatalf("populated state: %v", err)
	}
	c := store.NewCache(db)
	if err := bank.Send(c, chaintest.Addr("alice"), agent.Deposits, 1); err != nil {
		t.Fatal(err)
	}
	if err := agent.CheckInvariant(c, bankKeeper{}); err == nil || !strings.Contains(err.Error(), "deposit account holds") {
		t.Fatalf("one umyc too many: got %v", err)
	}
	c = store.NewCache(db)
	c.Set(append([]byte("agent/s/"), 0, 0, 0, 0, 0, 0, 0, 1), []byte{})
	if err := agent.CheckInvariant(c, bankKeeper{}); err == nil {
		t.Fatal("a sale entry for an agent not for sale passed")
	}
}

// Params and records read back from JSON as written (the genesis file and
// the API).
func TestJSON(t *testing.T) {
	p := agent.DefaultParams()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(agent.Genesis{Params: p})
	if err != nil {
		t.Fatal(err)
	}
	var g agent.Genesis
	if err := json.Unmarshal(b, &g); err != nil || g.Params != p {
		t.Fatalf("params %s read back as %+v (%v)", b, g.Params, err)
	}
	a := agent.Get(populated(t), 1)
	b, err = json.Marshal(agent.InfoOf(a, 2, p))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":"1"`, `"status":"active"`, `"signing_key":"`, `"reputation":500000`, `"mailbox":true`,
		`"deposit":"20000000"`, `"skills":[{"id":"tide-tables","name":"Tides","tags":["ocean"]}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("agent JSON lacks %s: %s", want, b)
		}
	}
	var back agent.Agent
	if err := json.Unmarshal(b, &back); err != nil || back.ID != 1 || back.SigningKey != a.SigningKey || back.Status != agent.Active {
		t.Fatalf("agent JSON reads back as %+v (%v)", back, err)
	}
}

// Every result code is distinct and ErrorOf finds it.
func TestErrorCodes(t *testing.T) {
	seen := map[uint32]bool{}
	for code := uint32(2); code < 64; code++ {
		e := agent.ErrorOf(code)
		if e == nil {
			continue
		}
		if seen[e.Code] || e.Code != code || e.Codespace != agent.Codespace {
			t.Fatalf("code %d: %+v", code, e)
		}
		seen[code] = true
	}
	if len(seen) != 33 {
		t.Fatalf("%d codes found, want 33", len(seen))
	}
}

// Summarize fits a card's text to the registry and names what does not
// fit.
func TestSummarize(t *testing.T) {
	long := strings.Repeat("é", 200)
	name, desc, skills, err := agent.Summarize(" Tide\nOracle ", long, []agent.Skill{{ID: "tides", Name: "  Tide  tables ", Tags: []string{"ocean", " "}}})
	if err != nil || name != "Tide Oracle" || len(desc) != 256 || skills[0].Name != "Tide tables" || len(skills[0].Tags) != 1 {
		t.Fatalf("%q %d %+v %v", name, len(desc), skills, err)
	}
	for _, tc := range []struct {
		name   string
		skills []agent.Skill
		want   string
	}{
		{strings.Repeat("n", 65), nil, "over 64 bytes"},
		{"ok", []agent.Skill{{ID: "a b"}}, `id "a b": byte 1`},
		{"ok", []agent.Skill{{ID: "a", Tags: []string{strings.Repeat("t", 33)}}}, "over 32 bytes"},
		{"ok", make([]agent.Skill, 17), "lists 17 skills"},
	} {
		if _, _, _, err := agent.Summarize(tc.name, "", tc.skills); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: got %v, want %q", tc.name, tc.skills, err, tc.want)
		}
	}
}
