package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/mailbox"
	"github.com/mycelnet/mycel/types"
)

const msgChain = "mycel-test"

func seedKey(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)) }

// directory is a fake registry.
type directory struct {
	agents map[uint64]AgentRecord
	cards  map[uint64][]byte
}

func (d *directory) AgentRecord(_ context.Context, id uint64) (AgentRecord, error) {
	r, ok := d.agents[id]
	if !ok {
		return r, fmt.Errorf("%w: no agent %d", ErrNotFound, id)
	}
	return r, nil
}

func (d *directory) AgentCard(_ context.Context, id uint64) ([]byte, error) {
	c, ok := d.cards[id]
	if !ok {
		return nil, fmt.Errorf("%w: agent %d has no card here", ErrNotFound, id)
	}
	return c, nil
}

// accountsBackend knows which accounts exist.
type accountsBackend struct {
	Backend
	accounts map[types.Address]bool
}

func (b *accountsBackend) AccountExists(a types.Address) bool { return b.accounts[a] }

func record(id uint64, key ed25519.PrivateKey, listed bool) AgentRecord {
	r := AgentRecord{ID: id, Listed: listed}
	copy(r.SigningKey[:], key.Public().(ed25519.PublicKey))
	return r
}

type msgFixture struct {
	t     *testing.T
	srv   *httptest.Server
	store *mailbox.Store
	now   time.Time
}

// newMsgFixture: agent 1 behind a mailbox (key 1), agent 2 a sender (key
// 2), agent 3 expired; account of key 4 funded.
func newMsgFixture(t *testing.T, o mailbox.Options) *msgFixture {
	return newMsgFixtureCard(t, o, false)
}

// newMsgFixtureCard also serves agent 1's card where nodes serve it, if
// serveCard.
func newMsgFixtureCard(t *testing.T, o mailbox.Options, serveCard bool) *msgFixture {
	store, err := mailbox.OpenInMemory(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	card := a2a.Card{Name: "one", Description: "agent one", Version: "1", Skills: []a2a.Skill{{ID: "echo", Name: "Echo"}}}
	f := &msgFixture{t: t, store: store, now: time.Now()}
	srv := httptest.NewUnstartedServer(nil)
	card.SetJSONRPC("http://" + srv.Listener.Addr().String() + "/agents/1/a2a")
	agentmsg.SetCardInfo(&card, agentmsg.CardInfo{EncryptionKey: agentmsg.EncryptionKeyOf(seedKey(1)), Mailboxes: []string{"http://" + srv.Listener.Addr().String()}})
	cb, _ := json.Marshal(card)
	dir := &directory{agents: map[uint64]AgentRecord{1: record(1, seedKey(1), true), 2: record(2, seedKey(2), true), 3: record(3, seedKey(3), false)},
		cards: map[uint64][]byte{1: cb}}
	be := &accountsBackend{accounts: map[types.Address]bool{types.AddressFromPubKey(seedKey(4).Public().(ed25519.PublicKey)): true}}
	h := Handler(Config{Backend: be, Now: func() time.Time { return f.now },
		Messaging: &Messaging{ChainID: msgChain, Agents: dir, Mailbox: store, RelayKey: seedKey(9)}})
	if serveCard {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /agents/1"+a2a.WellKnownPath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(cb)
		})
		mux.Handle("/", h)
		h = mux
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	f.srv = srv
	return f
}

func (f *msgFixture) do(method, path string, body any) (int, string) {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *msgFixture) make(key ed25519.PrivateKey, d agentmsg.Draft, payload []byte) agentmsg.Message {
	f.t.Helper()
	m, err := agentmsg.Make(msgChain, key, d, payload, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *msgFixture) fetch(key ed25519.PrivateKey, agent uint64, req agentmsg.FetchRequest) (int, MailboxFetch, string) {
	f.t.Helper()
	if req.Challenge == "" {
		var c Challenge
		status, body := f.do("GET", fmt.Sprintf("/v1/agents/%d/mailbox/challenge", agent), nil)
		if status != 200 || json.Unmarshal([]byte(body), &c) != nil {
			f.t.Fatalf("challenge: %d %s", status, body)
		}
		req.Challenge = c.Challenge
	}
	req.Agent = agent
	if err := req.Sign(msgChain, key); err != nil {
		f.t.Fatal(err)
	}
	status, body := f.do("POST", fmt.Sprintf("/v1/agents/%d/mailbox/fetch", agent), req)
	var out MailboxFetch
	if status == 200 {
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			f.t.Fatal(err)
		}
	}
	return status, out, body
}

func errCode(body string) string {
	var e ErrorBody
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error.Code
}

// The mailbox's refusals, each with its status and code: every rule of
// POST /v1/agents/{id}/mailbox.
func TestMailboxPutRefusals(t *testing.T) {
	f := newMsgFixture(t, mailbox.Options{MaxMessageBytes: 1000, MaxDepth: 3})
	ok := f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1}, []byte("hi"))
	if status, body := f.do("POST", "/v1/agents/1/mailbox", ok); status != 201 {
		t.Fatalf("put: %d %s", status, body)
	}
	altered := f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1}, []byte("hi"))
	altered.Envelope.Session = "changed"
	tooFar := f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1, TTL: 48 * time.Hour}, nil)
	expired := f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1, Expires: f.now.Add(-time.Second)}, nil)
	mismatch := f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1}, []byte("hi"))
	mismatch.Payload = []byte("ho")
	for _, tc := range []struct {
		name   string
		path   string
		m      any
		status int
		code   string
	}{
		{"replayed", "/v1/agents/1/mailbox", ok, 409, "replayed"},
		{"too large", "/v1/agents/1/mailbox", f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1}, make([]byte, 1001)), 413, "payload_too_large"},
		{"forged field", "/v1/agents/1/mailbox", altered, 401, "bad_signature"},
		{"payload swapped", "/v1/agents/1/mailbox", mismatch, 400, "payload_mismatch"},
		{"another's key", "/v1/agents/1/mailbox", f.make(seedKey(3), agentmsg.Draft{From: 2, To: 1}, nil), 403, "wrong_key"},
		{"unknown sender agent", "/v1/agents/1/mailbox", f.make(seedKey(2), agentmsg.Draft{From: 8, To: 1}, nil), 403, "wrong_key"},
		{"expired sender agent", "/v1/agents/1/mailbox", f.make(seedKey(3), agentmsg.Draft{From: 3, To: 1}, nil), 403, "wrong_key"},
		{"no account", "/v1/agents/1/mailbox", f.make(seedKey(5), agentmsg.Draft{To: 1}, nil), 403, "forbidden"},
		{"other mailbox", "/v1/agents/2/mailbox", f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1}, nil), 400, "bad_request"},
		{"unknown target", "/v1/agents/7/mailbox", f.make(seedKey(2), agentmsg.Draft{From: 2, To: 7}, nil), 404, "not_found"},
		{"expired target", "/v1/agents/3/mailbox", f.make(seedKey(2), agentmsg.Draft{From: 2, To: 3}, nil), 404, "not_found"},
		{"expired", "/v1/agents/1/mailbox", expired, 400, "envelope_expired"},
		{"too far", "/v1/agents/1/mailbox", tooFar, 400, "envelope_too_far"},
		{"garbage", "/v1/agents/1/mailbox", map[string]string{"envelope": "AAAA"}, 400, "malformed_envelope"},
	} {
		status, body := f.do("POST", tc.path, tc.m)
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	// An account that exists may send without being an agent.
	if status, body := f.do("POST", "/v1/agents/1/mailbox", f.make(seedKey(4), agentmsg.Draft{To: 1}, nil)); status != 201 {
		t.Fatalf("account sender: %d %s", status, body)
	}
	f.do("POST", "/v1/agents/1/mailbox", f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1}, nil))
	status, body := f.do("POST", "/v1/agents/1/mailbox", f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1}, nil))
	if status != 429 || errCode(body) != "mailbox_full" {
		t.Fatalf("full mailbox: %d %s", status, body)
	}
	// A body far above any payload is refused before it is read.
	big := strings.Repeat("x", agentmsg.MaxPayload*2)
	if status, body := f.do("POST", "/v1/agents/1/mailbox", map[string]string{"envelope": big}); status != 413 {
		t.Fatalf("huge body: %d %s", status, body)
	}
}

// Fetching takes a fresh challenge signed by the agent's current key;
// messages go only after an acknowledgement; answers reach the sender.
func TestMailboxFetchAndAnswer(t *testing.T) {
	f := newMsgFixture(t, mailbox.Options{})
	var ids []agentmsg.ID
	for i := 0; i < 3; i++ {
		m := f.make(seedKey(2), agentmsg.Draft{From: 2, To: 1, Session: "s"}, []byte(fmt.Sprint("m", i)))
		if status, body := f.do("POST", "/v1/agents/1/mailbox", m); status != 201 {
			t.Fatalf("put: %d %s", status, body)
		}
		ids = append(ids, m.Envelope.ID(msgChain))
	}
	if status, _, body := f.fetch(seedKey(2), 1, agentmsg.FetchRequest{Limit: 10}); status != 401 {
		t.Fatalf("fetch with another agent's key: %d %s", status, body)
	}
	status, got, body := f.fetch(seedKey(1), 1, agentmsg.FetchRequest{Limit: 2})
	if status != 200 || len(got.Messages) != 2 || got.Waiting != 3 || string(got.Messages[1].Message.Payload) != "m1" {
		t.Fatalf("fetch: %d %s", status, body)
	}
	// The challenge is single use; the answer carries the next one.
	used := agentmsg.FetchRequest{Challenge: got.Next.Challenge, Limit: 10}
	status, got2, body := f.fetch(seedKey(1), 1, agentmsg.FetchRequest{Challenge: got.Next.Challenge, After: 2, Ack: 2, Limit: 10})
	if status != 200 || len(got2.Messages) != 1 || got2.Acked != 2 || got2.Waiting != 1 || got2.Messages[0].Seq != 3 {
		t.Fatalf("fetch after ack: %d %s", status, body)
	}
	if status, _, body := f.fetch(seedKey(1), 1, used); status != 401 || !strings.Contains(body, "used") {
		t.Fatalf("reused challenge: %d %s", status, body)
	}

	// Agent 1 answers the first message; agent 2 reads the answer.
	ans := f.make(seedKey(1), agentmsg.Draft{From: 1, To: 2, ReplyTo: ids[0]}, []byte("answer"))
	if status, body := f.do("GET", "/v1/agents/1/answers/"+ids[0].String(), nil); status != 404 {
		t.Fatalf("answer before it came: %d %s", status, body)
	}
	if status, body := f.do("POST", "/v1/agents/1/answers", ans); status != 204 {
		t.Fatalf("answer: %d %s", status, body)
	}
	if status, body := f.do("POST", "/v1/agents/1/answers", f.make(seedKey(1), agentmsg.Draft{From: 1, To: 2, ReplyTo: ids[0]}, nil)); status != 409 {
		t.Fatalf("second answer: %d %s", status, body)
	}
	forged := f.make(seedKey(2), agentmsg.Draft{From: 2, To: 2, ReplyTo: ids[1]}, nil)
	if status, body := f.do("POST", "/v1/agents/2/answers", forged); status != 403 {
		t.Fatalf("another agent answering agent 1's message: %d %s", status, body)
	}
	if status, body := f.do("POST", "/v1/agents/1/answers", f.make(seedKey(1), agentmsg.Draft{From: 1, ReplyTo: agentmsg.ID{1}}, nil)); status != 404 {
		t.Fatalf("answer to nothing stored here: %d %s", status, body)
	}
	status, body = f.do("GET", "/v1/agents/1/answers/"+ids[0].String()+"?wait=1s", nil)
	var back agentmsg.Message
	if status != 200 || json.Unmarshal([]byte(body), &back) != nil || string(back.Payload) != "answer" {
		t.Fatalf("read answer: %d %s", status, body)
	}
}

// The relay takes hand-made A2A 1.0 JSON-RPC calls for an agent behind a
// mailbox: the message reaches the mailbox sealed, the agent's answer
// completes the task.
func TestRelayHandMade10(t *testing.T) {
	f := newMsgFixture(t, mailbox.Options{})
	status, body := f.do("POST", "/agents/1/a2a", json.RawMessage(`{"jsonrpc":"2.0","id":"r1","method":"SendMessage","params":{
		"message":{"messageId":"m1","role":"ROLE_USER","parts":[{"text":"what is the tide?"}],"metadata":{"mycel/skill":"echo"}},
		"configuration":{"returnImmediately":true}}}`))
	var resp struct {
		Result struct {
			Task struct {
				ID     string `json:"id"`
				Status struct {
					State string `json:"state"`
				} `json:"status"`
			} `json:"task"`
		} `json:"result"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &resp) != nil || resp.Result.Task.Status.State != "TASK_STATE_SUBMITTED" {
		t.Fatalf("SendMessage: %d %s", status, body)
	}
	taskID := resp.Result.Task.ID

	// The agent fetches: a sealed envelope from the node's relay key.
	_, got, body := f.fetch(seedKey(1), 1, agentmsg.FetchRequest{Limit: 10})
	if len(got.Messages) != 1 {
		t.Fatalf("fetch: %s", body)
	}
	m := got.Messages[0].Message
	if !m.Envelope.Sealed || m.Envelope.From != 0 || bytes.Contains(m.Payload, []byte("tide")) {
		t.Fatalf("relayed envelope %+v", m.Envelope)
	}
	plain, err := m.Open(msgChain, agentmsg.DecryptionKey(seedKey(1)))
	if err != nil {
		t.Fatal(err)
	}
	req, err := agentmsg.ParseBody(plain)
	if err != nil || req.Text() != "what is the tide?" || req.Skill != "echo" || req.Message.TaskID != taskID {
		t.Fatalf("body %+v %v", req, err)
	}
	answer := agentmsg.Body{State: a2a.StateCompleted, Message: &a2a.Message{MessageID: "a1", Role: a2a.RoleAgent,
		Parts: []a2a.Part{a2a.TextPart("high at noon")}}}
	ans := f.make(seedKey(1), agentmsg.Draft{From: 1, ReplyTo: m.Envelope.ID(msgChain)}, answer.Encode())
	if status, body := f.do("POST", "/v1/agents/1/answers", ans); status != 204 {
		t.Fatalf("answer: %d %s", status, body)
	}
	status, body = f.do("POST", "/agents/1/a2a", json.RawMessage(`{"jsonrpc":"2.0","id":2,"method":"GetTask","params":{"id":"`+taskID+`"}}`))
	var task struct {
		Result struct {
			Status struct {
				State   string `json:"state"`
				Message struct {
					Role  string `json:"role"`
					Parts []struct {
						Text string `json:"text"`
					} `json:"parts"`
				} `json:"message"`
			} `json:"status"`
			History []json.RawMessage `json:"history"`
		} `json:"result"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &task) != nil || task.Result.Status.State != "TASK_STATE_COMPLETED" ||
		task.Result.Status.Message.Role != "ROLE_AGENT" || task.Result.Status.Message.Parts[0].Text != "high at noon" || len(task.Result.History) != 2 {
		t.Fatalf("GetTask: %d %s", status, body)
	}
	// Another agent's path does not show the task.
	status, body = f.do("POST", "/agents/2/a2a", json.RawMessage(`{"jsonrpc":"2.0","id":3,"method":"GetTask","params":{"id":"`+taskID+`"}}`))
	if !strings.Contains(body, fmt.Sprint(a2a.CodeTaskNotFound)) && status != 502 {
		t.Fatalf("task through another agent: %d %s", status, body)
	}
	if status, body := f.do("POST", "/agents/7/a2a", json.RawMessage(`{}`)); status != 404 {
		t.Fatalf("unknown agent: %d %s", status, body)
	}
}
