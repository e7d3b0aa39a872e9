package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	a2ago "github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2aclient"
	"github.com/a2aproject/a2a-go/a2aclient/agentcard"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/api"
	registry "github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/mailbox"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

const testChain = "mycel-sdk-test"

func key(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)) }

func addr(k ed25519.PrivateKey) types.Address {
	return types.AddressFromPubKey(k.Public().(ed25519.PublicKey))
}

// fakeNode is a node's API over a registry held in memory: the real
// api.Handler for the mailboxes, answers and the A2A relay, and the
// registry's and channels' reads the SDK makes.
type fakeNode struct {
	mu       sync.Mutex
	agents   map[uint64]*registry.Agent
	cards    map[uint64][]byte
	channels map[uint64]*paych.Channel
	srv      *httptest.Server
}

type fakeBackend struct {
	api.Backend
	n *fakeNode
}

func (b fakeBackend) Status(context.Context) (api.Status, error) {
	return api.Status{ChainID: testChain, Height: 10}, nil
}

func (b fakeBackend) AccountExists(types.Address) bool { return true }

func (n *fakeNode) AgentRecord(_ context.Context, id uint64) (api.AgentRecord, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.agents[id]
	if a == nil {
		return api.AgentRecord{}, fmt.Errorf("%w: agent %d", api.ErrNotFound, id)
	}
	return api.AgentRecord{ID: id, Owner: a.Owner, SigningKey: a.SigningKey, Endpoint: a.Endpoint, Listed: a.Status == registry.Active}, nil
}

func (n *fakeNode) AgentCard(_ context.Context, id uint64) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.cards[id]
	if !ok {
		return nil, fmt.Errorf("%w: card of agent %d", api.ErrNotFound, id)
	}
	return c, nil
}

func newFakeNode(t testing.TB) *fakeNode {
	n := &fakeNode{agents: map[uint64]*registry.Agent{}, cards: map[uint64][]byte{}, channels: map[uint64]*paych.Channel{}}
	store, err := mailbox.OpenInMemory(mailbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := api.Handler(api.Config{Backend: fakeBackend{n: n}, Messaging: &api.Messaging{ChainID: testChain, Agents: n, Mailbox: store, RelayKey: key(99)}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/agents/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseUint(r.PathValue("id"), 10, 64)
		n.mu.Lock()
		a := n.agents[id]
		n.mu.Unlock()
		if a == nil {
			http.Error(w, `{"error":{"code":"not_found","message":"no agent"}}`, 404)
			return
		}
		json.NewEncoder(w).Encode(registry.Info{Agent: a})
	})
	mux.HandleFunc("GET /agents/{id}/.well-known/agent-card.json", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseUint(r.PathValue("id"), 10, 64)
		b, err := n.AgentCard(r.Context(), id)
		if err != nil {
			http.Error(w, `{"error":{"code":"not_found","message":"no card"}}`, 404)
			return
		}
		w.Write(b)
	})
	mux.HandleFunc("GET /v1/channels/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseUint(r.PathValue("id"), 10, 64)
		n.mu.Lock()
		c := n.channels[id]
		n.mu.Unlock()
		json.NewEncoder(w).Encode(c)
	})
	mux.Handle("/", h)
	n.srv = httptest.NewServer(mux)
	t.Cleanup(n.srv.Close)
	return n
}

// register puts an agent in the fake registry as Register would.
func (n *fakeNode) register(a *Agent, id uint64, owner types.Address) {
	a.SetID(id)
	var k registry.PublicKey
	copy(k[:], a.cfg.Key.Public().(ed25519.PublicKey))
	n.mu.Lock()
	defer n.mu.Unlock()
	card := a.CardJSON()
	n.agents[id] = &registry.Agent{ID: id, Owner: owner, SigningKey: k, Endpoint: a.cfg.PublicURL, Status: registry.Active, ExpiresAt: 1 << 40,
		CardHash: types.SumHash(card), CardSize: uint64(len(card))}
	n.cards[id] = card
}

type world struct {
	node            *fakeNode
	host, nat, user *Agent
	hostSrv         *httptest.Server
	payee           *paywallet.Payee
	ctx             context.Context
}

func echo(prefix string) Handler {
	return func(_ context.Context, r *Request) (*Reply, error) {
		return Text(fmt.Sprintf("%s%s (paid %d)", prefix, r.Text(), uint64(r.Paid))), nil
	}
}

// newWorld: agent 1 with its own host (a free echo and a paid tide
// skill), agent 2 behind the node's mailbox, agent 3 the caller, who has
// a channel (1) to agent 1's owner.
func newWorld(t testing.TB) *world {
	w := &world{node: newFakeNode(t)}
	// Registered after the node's cleanup, so it runs first: the mailbox
	// loop's long poll ends before the node closes.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w.ctx = ctx
	node := client.New(w.node.srv.URL)
	var err error
	w.hostSrv = httptest.NewUnstartedServer(nil)
	owner1 := key(11)
	w.payee, err = paywallet.OpenPayee(t.TempDir(), testChain, addr(owner1), paywallet.PayeeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.payee.Close() })
	w.host, _ = New(Config{Node: node, Key: key(1), PublicURL: "http://" + w.hostSrv.Listener.Addr().String(), Payee: w.payee,
		Card: a2a.Card{Name: "Host", Description: "has its own host"}})
	w.host.Handle(a2a.Skill{ID: "echo", Name: "Echo"}, 0, echo("echo: "))
	w.host.Handle(a2a.Skill{ID: "tide", Name: "Tides", Tags: []string{"sea"}}, 1000, echo("tide: "))
	w.hostSrv.Config.Handler = w.host.Handler()
	w.hostSrv.Start()
	t.Cleanup(w.hostSrv.Close)
	w.node.register(w.host, 1, addr(owner1))

	w.nat, _ = New(Config{Node: node, Key: key(2), Card: a2a.Card{Name: "Nat", Description: "behind NAT"}})
	w.nat.Handle(a2a.Skill{ID: "echo", Name: "Echo"}, 0, echo("nat: "))
	w.node.register(w.nat, 2, addr(key(12)))
	go w.nat.ServeMailbox(ctx)

	payer, err := paywallet.OpenPayer(t.TempDir(), testChain, key(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { payer.Close() })
	ch := &paych.Channel{ID: 1, Payer: addr(key(13)), Payee: addr(owner1), VoucherKey: paych.KeyOf(key(3)), Deposit: 10_000, Opened: 1}
	w.node.channels[1] = ch
	if err := payer.Track(*ch); err != nil {
		t.Fatal(err)
	}
	w.user, _ = New(Config{Node: node, Key: key(3), Payer: payer, Card: a2a.Card{Name: "User", Description: "calls others"}})
	w.node.register(w.user, 3, addr(key(13)))
	return w
}

func TestCallDirectAndThroughMailbox(t *testing.T) {
	w := newWorld(t)
	ans, err := w.user.Call(w.ctx, 1, Call{Text: "hi"})
	if err != nil || ans.Err() != nil || ans.Text() != "echo: hi (paid 0)" {
		t.Fatalf("direct: %+v %v", ans, err)
	}
	if ans.Envelope.From != 1 || ans.Envelope.ReplyTo != ans.Request || !ans.Envelope.Sealed {
		t.Fatalf("answer envelope %+v", ans.Envelope)
	}
	ans, err = w.user.Call(w.ctx, 2, Call{Text: "hello", Skill: "echo"})
	if err != nil || ans.Text() != "nat: hello (paid 0)" {
		t.Fatalf("mailbox: %+v %v", ans, err)
	}
	// A caller that is not registered gets its answer sealed to a key of
	// the call's own.
	anon, _ := New(Config{Node: client.New(w.node.srv.URL), Key: key(4)})
	ans, err = anon.Call(w.ctx, 2, Call{Text: "who"})
	if err != nil || ans.Text() != "nat: who (paid 0)" {
		t.Fatalf("anonymous: %+v %v", ans, err)
	}
	ans, err = w.user.Call(w.ctx, 1, Call{Text: "x", Skill: "nope"})
	if err != nil || ans.State != a2a.StateRejected || !strings.Contains(ans.Error, "no skill") {
		t.Fatalf("unknown skill: %+v %v", ans, err)
	}
}

func TestPaidSkill(t *testing.T) {
	w := newWorld(t)
	ans, err := w.user.Call(w.ctx, 1, Call{Text: "brest", Skill: "tide"})
	if err != nil || ans.State != a2a.StateRejected || !strings.Contains(ans.Error, "voucher") {
		t.Fatalf("unpaid: %+v %v", ans, err)
	}
	ans, err = w.user.Call(w.ctx, 1, Call{Text: "brest", Skill: "tide", Pay: 999, Channel: 1})
	if err != nil || ans.State != a2a.StateRejected || !strings.Contains(ans.Error, "cover") || ans.Err() == nil {
		t.Fatalf("underpaid: %+v %v", ans, err)
	}
	// Vouchers are cumulative: the refused one's 999 counts toward the
	// next, which the payee counts in full.
	ans, err = w.user.Call(w.ctx, 1, Call{Text: "brest", Skill: "tide", Pay: 1000, Channel: 1})
	if err != nil || ans.Err() != nil || ans.Text() != "tide: brest (paid 1999)" {
		t.Fatalf("paid: %+v %v", ans, err)
	}
	ans, err = w.user.Call(w.ctx, 1, Call{Text: "roscoff", Skill: "tide", Pay: 1000, Channel: 1})
	if err != nil || ans.Text() != "tide: roscoff (paid 1000)" {
		t.Fatalf("paid again: %+v %v", ans, err)
	}
	if best := w.payee.Best(1); len(best) != 1 || best[0].Amount != 2999 || best[0].Nonce != 3 {
		t.Fatalf("payee holds %+v", best)
	}
}

// Envelopes that fail a check are refused, each with its reason: a
// replay (one envelope posted twice, as to two nodes), a sender forging
// another agent's id, a tampered field, an expired envelope.
func TestHostRefusals(t *testing.T) {
	w := newWorld(t)
	pub := w.host.EncryptionKey()
	body := agentmsg.Body{Message: &a2a.Message{MessageID: "m", Role: a2a.RoleUser, Parts: []a2a.Part{a2a.TextPart("x")}}}
	make := func(k ed25519.PrivateKey, from uint64, mod func(*agentmsg.Message)) agentmsg.Message {
		m, err := agentmsg.Make(testChain, k, agentmsg.Draft{From: from, To: 1, SealTo: &pub}, body.Encode(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if mod != nil {
			mod(&m)
		}
		return m
	}
	post := func(m agentmsg.Message) (int, string) {
		b, _ := json.Marshal(m)
		resp, err := http.Post(w.hostSrv.URL+EnvelopePath, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Error struct{ Code string } `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Error.Code
	}
	ok := make(key(3), 3, nil)
	if status, code := post(ok); status != 200 {
		t.Fatalf("first: %d %s", status, code)
	}
	for _, tc := range []struct {
		name   string
		m      agentmsg.Message
		status int
		code   string
	}{
		{"replay", ok, 409, "replayed"},
		{"forged sender", make(key(5), 3, nil), 403, "wrong_key"},
		{"tampered", make(key(3), 3, func(m *agentmsg.Message) { m.Envelope.Session = "x" }), 401, "bad_signature"},
		{"expired", make(key(3), 3, func(m *agentmsg.Message) {
			m.Envelope.Expires = time.Now().Add(-time.Minute).Unix()
			m.Envelope.Sign(testChain, key(3))
		}), 400, "envelope_expired"},
		{"wrong target", make(key(3), 3, func(m *agentmsg.Message) { m.Envelope.To = 2; m.Envelope.Sign(testChain, key(3)) }), 400, "malformed_envelope"},
		{"sealed to another", make(key(3), 3, func(m *agentmsg.Message) {
			other := agentmsg.EncryptionKeyOf(key(8))
			*m, _ = agentmsg.Make(testChain, key(3), agentmsg.Draft{From: 3, To: 1, SealTo: &other}, body.Encode(), time.Now())
		}), 400, "unreadable_payload"},
	} {
		if status, code := post(tc.m); status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, code, tc.status, tc.code)
		}
	}
}

// The agent's own host answers the real A2A Go client (0.3) and a
// hand-made 1.0 SendMessage.
func TestHostA2A(t *testing.T) {
	w := newWorld(t)
	card, err := agentcard.DefaultResolver.Resolve(w.ctx, w.hostSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Skills) != 2 || card.URL != w.hostSrv.URL+"/a2a" {
		t.Fatalf("card %+v", card)
	}
	c, err := a2aclient.NewFromCard(w.ctx, card)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SendMessage(w.ctx, &a2ago.MessageSendParams{Message: a2ago.NewMessage(a2ago.MessageRoleUser, a2ago.TextPart{Text: "hey"})})
	if err != nil {
		t.Fatal(err)
	}
	task, ok := res.(*a2ago.Task)
	if !ok || task.Status.State != a2ago.TaskStateCompleted || task.Status.Message.Parts[0].(a2ago.TextPart).Text != "echo: hey (paid 0)" {
		t.Fatalf("a2a-go: %#v", res)
	}
	got, err := c.GetTask(w.ctx, &a2ago.TaskQueryParams{ID: task.ID})
	if err != nil || got.ID != task.ID {
		t.Fatalf("tasks/get: %v", err)
	}
	resp, err := http.Post(w.hostSrv.URL+"/a2a", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"SendMessage",
		"params":{"message":{"messageId":"m","role":"ROLE_USER","parts":[{"text":"low"}],"metadata":{"mycel/skill":"tide"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result struct {
			Task struct {
				Status struct {
					State string `json:"state"`
				} `json:"status"`
			} `json:"task"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Result.Task.Status.State != "TASK_STATE_REJECTED" {
		t.Fatalf("1.0 SendMessage of a paid skill without a voucher: %+v %v", out, err)
	}
}

// A2A clients reach the agent behind NAT through the node's relay: the
// SDK's mailbox loop answers the node's sealed envelope.
func TestRelayToMailboxAgent(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	card := w.nat.Card()
	if card.JSONRPCURL() != w.node.srv.URL+"/agents/2/a2a" {
		t.Fatalf("card URL %s", card.JSONRPCURL())
	}
	c, err := a2aclient.NewFromCard(ctx, &a2ago.AgentCard{Name: card.Name, URL: card.JSONRPCURL(), PreferredTransport: a2ago.TransportProtocolJSONRPC})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SendMessage(ctx, &a2ago.MessageSendParams{Message: a2ago.NewMessage(a2ago.MessageRoleUser, a2ago.TextPart{Text: "via relay"})})
	if err != nil {
		t.Fatal(err)
	}
	task := res.(*a2ago.Task)
	if task.Status.State != a2ago.TaskStateCompleted || task.Status.Message.Parts[0].(a2ago.TextPart).Text != "nat: via relay (paid 0)" {
		t.Fatalf("relayed: %#v", task.Status)
	}
}
