package app

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// withAgentParams shortens the registry's periods in a genesis.
func withAgentParams(t *testing.T, gen []byte, registration int64) []byte {
	var g Genesis
	if err := json.Unmarshal(gen, &g); err != nil {
		t.Fatal(err)
	}
	g.Agent.Params.RegistrationBlocks = registration
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An agent through the application: registered with its deposit in the
// deposit account (which refuses plain transfers), its sale refused while
// a real payment channel pays its owner, listed once the channel settled,
// bought in one transaction, expired by the end-block step, refunded after
// the unbonding period (the stake's, 5 blocks here); the discovery feed
// (AgentsChangedSince) sees each change, and every invariant holds after
// every block.
func TestAgentLifecycle(t *testing.T) {
	w := newWorld(3, 1)
	n := newNode(t, withAgentParams(t, withSettleBlocks(t, w.genesis(t), 2), 30))
	alice, bob, carol := w.users[0], w.users[1], w.users[2]
	if p := n.app.AgentParams(); p.UnbondingBlocks != 5 || p.RegistrationBlocks != 30 {
		t.Fatalf("params %+v: want the stake's unbonding period and the genesis's registration", p)
	}
	msg := func(kind uint16, body []byte) tx.Msg { return tx.Msg{Kind: kind, Body: body} }
	mustOK := func(what string, r interface{ GetCode() uint32 }, log string) {
		t.Helper()
		if r.GetCode() != 0 {
			t.Fatalf("%s: %s", what, log)
		}
	}
	var sk agent.PublicKey
	sk[0] = 7
	reg := msg(agent.KindRegister, agent.MsgRegister{SigningKey: sk, CardHash: types.SumHash([]byte("card")), CardSize: 4,
		Name: "tides", Skills: []agent.Skill{{ID: "tide-tables", Name: "Tide tables"}}, Price: types.MYC(1), Deposit: types.MYC(100)}.Encode())
	r := n.block([][]byte{w.sign(alice, reg)}).TxResults[0]
	mustOK("register", r, r.Log)
	if got := n.balance(agent.Deposits); got != types.MYC(100) {
		t.Fatalf("deposit account holds %s", got)
	}
	r = n.block([][]byte{w.sign(bob, send(agent.Deposits, 1))}).TxResults[0]
	if r.Code == 0 {
		t.Fatal("a plain transfer into the deposit account went through")
	}
	changed, h, _ := n.app.AgentsChangedSince(0)
	if len(changed) != 1 || changed[0].ID != 1 || h != n.height {
		t.Fatalf("changed since 0: %v at %d", changed, h)
	}

	open := msg(paych.KindOpen, paych.MsgOpen{Payee: addr(alice), VoucherKey: paych.KeyOf(key("v")), Amount: types.MYC(1)}.Encode())
	mustOK("open", n.block([][]byte{w.sign(carol, open)}).TxResults[0], "")
	sell := msg(agent.KindListForSale, agent.MsgListForSale{Agent: 1, Price: types.MYC(50)}.Encode())
	r = n.block([][]byte{w.sign(alice, sell)}).TxResults[0]
	if r.Code == 0 || !strings.Contains(r.Log, "payment channel 1 open") {
		t.Fatalf("listing with an open channel: code %d %s", r.Code, r.Log)
	}
	settle := msg(paych.KindSettle, paych.MsgChannel{Channel: 1}.Encode())
	mustOK("settle", n.block([][]byte{w.sign(alice, settle)}).TxResults[0], "")
	n.block(nil)
	n.block(nil)
	r = n.block([][]byte{w.sign(alice, sell)}).TxResults[0]
	mustOK("sell", r, r.Log)

	aliceBefore, bobBefore := n.balance(addr(alice)), n.balance(addr(bob))
	buy := msg(agent.KindBuy, agent.MsgBuy{Agent: 1, MaxPrice: types.MYC(50)}.Encode())
	r = n.block([][]byte{w.sign(bob, buy)}).TxResults[0]
	mustOK("buy", r, r.Log)
	if a, b := n.balance(addr(alice))-aliceBefore, bobBefore-n.balance(addr(bob)); a != types.MYC(50) || b != types.MYC(51) {
		t.Fatalf("alice got %s, bob paid %s (with a 1myc fee)", a, b)
	}
	info, ok := n.app.Agent(1)
	if !ok || info.Owner != addr(bob) || !info.SigningKey.IsZero() || info.OwnedSince != n.height || info.Reputation != 500000 {
		t.Fatalf("after the sale: %+v", info)
	}
	if got := n.app.Agents(agent.Filter{Owner: ptr(addr(bob))}); len(got) != 1 {
		t.Fatalf("bob's agents: %v", got)
	}

	for n.height < 31 {
		n.block(nil)
	}
	if info, _ := n.app.Agent(1); info.Status != agent.Expired {
		t.Fatalf("at height %d the agent is %s", n.height, info.Status)
	}
	dereg := msg(agent.KindDeregister, agent.MsgAgent{Agent: 1}.Encode())
	mustOK("deregister", n.block([][]byte{w.sign(bob, dereg)}).TxResults[0], "")
	before := n.balance(addr(bob))
	for i := 0; i < 5; i++ {
		n.block(nil)
	}
	if info, _ := n.app.Agent(1); info.Status != agent.Closed || n.balance(addr(bob))-before != types.MYC(100) {
		t.Fatalf("after unbonding: %s, bob got %s", info.Status, n.balance(addr(bob))-before)
	}
	if n.balance(agent.Deposits) != 0 {
		t.Fatalf("deposit account keeps %s", n.balance(agent.Deposits))
	}
	if refs := n.app.ReferencedBlobs(); refs[types.SumHash([]byte("card"))] {
		t.Fatal("the card of a closed agent is still referenced")
	}
	if fee := n.app.Params().Auth.MsgFees["agent/register"]; fee != 10000 {
		t.Fatalf("agent/register fee %s", fee)
	}
}

func ptr[T any](v T) *T { return &v }
