package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	registry "github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/types"
)

// Message metadata keys an A2A client sets to pick a skill or pay (the
// node's relay reads the same ones).
const (
	MetaSkill   = "mycel/skill"
	MetaVoucher = "mycel/voucher"
)

// MaxPayload is the largest request payload the agent takes.
const MaxPayload = agentmsg.MaxPayload

// checkEnvelope verifies a request envelope for this agent: fields,
// signature, payload, time, the sender's registered key, and the replay
// window. It returns the payload in the clear.
func (a *Agent) checkEnvelope(ctx context.Context, m agentmsg.Message) (agentmsg.Body, error) {
	chainID, err := a.ChainID(ctx)
	if err != nil {
		return agentmsg.Body{}, err
	}
	e := &m.Envelope
	if err := m.Check(chainID, MaxPayload); err != nil {
		return agentmsg.Body{}, err
	}
	if id := a.ID(); e.To != id {
		return agentmsg.Body{}, fmt.Errorf("%w: the envelope is for agent %d, this is agent %d", agentmsg.ErrMalformed, e.To, id)
	}
	if !e.ReplyTo.IsZero() {
		return agentmsg.Body{}, fmt.Errorf("%w: an answer (reply_to %s) sent as a request", agentmsg.ErrMalformed, e.ReplyTo)
	}
	if err := e.CheckTime(a.cfg.Now()); err != nil {
		return agentmsg.Body{}, err
	}
	if e.From != 0 {
		info, err := a.dir.info(ctx, e.From, false)
		if err == nil && [32]byte(info.SigningKey) != e.Key {
			// The key may have changed since it was cached.
			info, err = a.dir.info(ctx, e.From, true)
		}
		if err != nil {
			return agentmsg.Body{}, fmt.Errorf("%w: sender agent %d: %v", agentmsg.ErrWrongKey, e.From, err)
		}
		if [32]byte(info.SigningKey) != e.Key {
			return agentmsg.Body{}, fmt.Errorf("%w: signed by %x, agent %d's signing key is %x", agentmsg.ErrWrongKey, e.Key[:8], e.From, info.SigningKey[:8])
		}
		if info.Status != registry.Active {
			return agentmsg.Body{}, fmt.Errorf("%w: sender agent %d is %s", agentmsg.ErrWrongKey, e.From, info.Status)
		}
	}
	if err := a.window.Admit(e, a.cfg.Now()); err != nil {
		return agentmsg.Body{}, err
	}
	plain, err := m.Open(chainID, a.dec)
	if err != nil {
		return agentmsg.Body{}, err
	}
	body, err := agentmsg.ParseBody(plain)
	if err != nil {
		return body, err
	}
	if body.Message == nil {
		return body, fmt.Errorf("%w: a request carries a message", agentmsg.ErrMalformed)
	}
	return body, nil
}

// run answers a request body: payment first, then the skill's handler.
func (a *Agent) run(ctx context.Context, req *Request, voucher string) agentmsg.Body {
	sk := a.skill(req.Skill)
	if sk == nil {
		return agentmsg.Body{State: a2a.StateRejected, Error: fmt.Sprintf("no skill %q here; this agent has %v", req.Skill, skillIDs(a.Skills()))}
	}
	req.Skill = sk.card.ID
	if sk.price > 0 {
		paid, v, err := a.charge(ctx, voucher, sk.price)
		if err != nil {
			return agentmsg.Body{State: a2a.StateRejected, Error: fmt.Sprintf("payment: skill %q costs %s a request: %v", sk.card.ID, sk.price, err)}
		}
		req.Paid, req.Voucher = paid, &v
	}
	hctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	rep, err := sk.handler(hctx, req)
	if err != nil {
		return agentmsg.Body{State: a2a.StateFailed, Error: err.Error()}
	}
	if rep == nil {
		rep = &Reply{}
	}
	out := agentmsg.Body{State: rep.State, Message: rep.Message, Artifacts: rep.Artifacts}
	if out.State == "" {
		out.State = a2a.StateCompleted
	}
	if out.Message != nil {
		m := *out.Message
		m.Role = a2a.RoleAgent
		m.ContextID, m.TaskID = req.Message.ContextID, req.Message.TaskID
		if m.MessageID == "" {
			m.MessageID = newID()
		}
		out.Message = &m
	}
	return out
}

func skillIDs(ss []a2a.Skill) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

// charge checks a voucher with the payee wallet and keeps it: it must pay
// at least price over the lane's best voucher.
func (a *Agent) charge(ctx context.Context, voucher string, price types.Amount) (types.Amount, paych.Voucher, error) {
	if a.cfg.Payee == nil {
		return 0, paych.Voucher{}, errors.New("this agent takes no payment (it has no payee wallet)")
	}
	if voucher == "" {
		return 0, paych.Voucher{}, fmt.Errorf("attach a voucher of a payment channel to %s (metadata %q)", a.cfg.Payee.Address(), MetaVoucher)
	}
	v, err := paych.ParseVoucher(voucher)
	if err != nil {
		return 0, v, err
	}
	if _, ok := a.cfg.Payee.Channel(v.Channel); !ok {
		if err := a.trackChannel(ctx, v.Channel); err != nil {
			return 0, v, err
		}
	}
	paid, err := a.cfg.Payee.Accept(v, price)
	if errors.Is(err, paych.ErrExceedsDeposit) {
		// The payer may have topped up since the wallet last looked.
		if a.trackChannel(ctx, v.Channel) == nil {
			paid, err = a.cfg.Payee.Accept(v, price)
		}
	}
	return paid, v, err
}

func (a *Agent) trackChannel(ctx context.Context, id uint64) error {
	ch, err := a.cfg.Node.Channel(ctx, id)
	if err != nil {
		return fmt.Errorf("channel %d: %w", id, err)
	}
	if st, err := a.cfg.Node.Status(ctx); err == nil {
		a.cfg.Payee.SetHeight(st.Height)
	}
	return a.cfg.Payee.Track(*ch)
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// answerEnvelope signs an answer to request e, sealed to the request's
// reply key if it gave one.
func (a *Agent) answerEnvelope(ctx context.Context, e *agentmsg.Envelope, replyKey *agentmsg.EncryptionKey, body agentmsg.Body) (agentmsg.Message, error) {
	chainID, err := a.ChainID(ctx)
	if err != nil {
		return agentmsg.Message{}, err
	}
	return agentmsg.Make(chainID, a.cfg.Key, agentmsg.Draft{From: a.ID(), To: e.From, Session: e.Session,
		ReplyTo: e.ID(chainID), SealTo: replyKey}, body.Encode(), a.cfg.Now())
}

// serveEnvelope checks and answers one request envelope. A request that
// fails its checks gets no answer: the error says why.
func (a *Agent) serveEnvelope(ctx context.Context, m agentmsg.Message) (agentmsg.Message, error) {
	body, err := a.checkEnvelope(ctx, m)
	if err != nil {
		return agentmsg.Message{}, err
	}
	chainID, _ := a.ChainID(ctx)
	e := &m.Envelope
	req := &Request{From: e.From, Sender: e.SenderAddress(), Session: e.Session, Skill: body.Skill, Message: *body.Message,
		ID: e.ID(chainID)}
	out := a.run(ctx, req, body.Voucher)
	a.logf("agent %d: %s request from agent %d (%s): %s", a.ID(), req.Skill, e.From, e.SenderAddress(), out.State)
	return a.answerEnvelope(ctx, e, body.ReplyKey, out)
}

// Handler serves the agent's own host: its card at
// /.well-known/agent-card.json, A2A JSON-RPC at /a2a, and signed
// envelopes at /mycel/envelope (POST a Message, get the signed answer).
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+a2a.WellKnownPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(a.CardJSON())
	})
	mux.Handle("POST /a2a", a2a.Handler(&hostService{a: a}))
	mux.HandleFunc("POST "+EnvelopePath, a.serveEnvelopeHTTP)
	return mux
}

func (a *Agent) serveEnvelopeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code string, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": err.Error()}})
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload*4/3+4096))
	if err != nil {
		fail(http.StatusBadRequest, "bad_request", err)
		return
	}
	var m agentmsg.Message
	if err := json.Unmarshal(body, &m); err != nil {
		fail(http.StatusBadRequest, "malformed_envelope", err)
		return
	}
	ans, err := a.serveEnvelope(r.Context(), m)
	if err != nil {
		status, code := envelopeStatus(err)
		fail(status, code, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// envelopeStatus maps a refused envelope to an HTTP status, as nodes do.
func envelopeStatus(err error) (int, string) {
	switch {
	case errors.Is(err, agentmsg.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "payload_too_large"
	case errors.Is(err, agentmsg.ErrBadSignature):
		return http.StatusUnauthorized, "bad_signature"
	case errors.Is(err, agentmsg.ErrWrongKey):
		return http.StatusForbidden, "wrong_key"
	case errors.Is(err, agentmsg.ErrReplayed):
		return http.StatusConflict, "replayed"
	case errors.Is(err, agentmsg.ErrBusy):
		return http.StatusTooManyRequests, "busy"
	case errors.Is(err, agentmsg.ErrExpired), errors.Is(err, agentmsg.ErrTooFar):
		return http.StatusBadRequest, "envelope_expired"
	case errors.Is(err, agentmsg.ErrSeal):
		return http.StatusBadRequest, "unreadable_payload"
	case errors.Is(err, agentmsg.ErrMalformed), errors.Is(err, agentmsg.ErrPayloadMismatch):
		return http.StatusBadRequest, "malformed_envelope"
	}
	return http.StatusInternalServerError, "internal"
}

// hostService answers A2A JSON-RPC calls on the agent's own host. A2A
// clients are anonymous (From 0); they pick a skill and pay through the
// message's metadata.
type hostService struct{ a *Agent }

const maxHostTasks = 1024

func (h *hostService) SendMessage(ctx context.Context, r a2a.SendRequest) (a2a.SendResult, error) {
	a := h.a
	msg := r.Message
	if msg.TaskID != "" {
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeUnsupportedOperation, "message for task %q: every message starts a task of its own here", msg.TaskID)
	}
	msg.TaskID = newID()
	if msg.ContextID == "" {
		msg.ContextID = newID()
	}
	meta := func(k string) string {
		for _, m := range []map[string]any{msg.Metadata, r.Metadata} {
			if v, ok := m[k].(string); ok {
				return v
			}
		}
		return ""
	}
	req := &Request{Session: msg.ContextID, Skill: meta(MetaSkill), Message: msg}
	out := a.run(ctx, req, meta(MetaVoucher))
	st := a2a.Status{State: out.State, Message: out.Message, Timestamp: a.cfg.Now()}
	if st.Message == nil && out.Error != "" {
		st.Message = &a2a.Message{MessageID: newID(), Role: a2a.RoleAgent, ContextID: msg.ContextID, TaskID: msg.TaskID,
			Parts: []a2a.Part{a2a.TextPart(out.Error)}}
	}
	t := a2a.Task{ID: msg.TaskID, ContextID: msg.ContextID, Status: st, Artifacts: out.Artifacts, History: []a2a.Message{msg}}
	if st.Message != nil {
		t.History = append(t.History, *st.Message)
	}
	a.mu.Lock()
	a.tasks[t.ID] = t
	a.order = append(a.order, t.ID)
	if len(a.order) > maxHostTasks {
		delete(a.tasks, a.order[0])
		a.order = a.order[1:]
	}
	a.mu.Unlock()
	return a2a.SendResult{Task: &t}, nil
}

func (h *hostService) GetTask(_ context.Context, id string, _ int) (a2a.Task, error) {
	h.a.mu.Lock()
	defer h.a.mu.Unlock()
	t, ok := h.a.tasks[id]
	if !ok {
		return t, a2a.TaskNotFound(id)
	}
	return t, nil
}

// ServeMailbox polls the node's mailbox until ctx ends: it fetches with a
// long poll, answers each request (several at once), posts the signed
// answers back to the node, and acknowledges the batch in its next fetch.
// A request that fails its checks is dropped, and logged.
func (a *Agent) ServeMailbox(ctx context.Context) error {
	id := a.ID()
	if id == 0 {
		return errors.New("agent: register the agent (or SetID) before serving its mailbox")
	}
	node := a.cfg.Node
	var after uint64
	challenge := ""
	backoff := time.Second
	for ctx.Err() == nil {
		res, err := node.FetchMailbox(ctx, a.cfg.Key, agentmsg.FetchRequest{Agent: id, Challenge: challenge, After: after, Ack: after,
			Limit: 16, WaitSeconds: 20})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			a.logf("agent %d: mailbox at %s: %v; retrying in %v", id, node.URL(), err, backoff)
			challenge = ""
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		challenge = res.Next.Challenge
		var wg sync.WaitGroup
		for _, st := range res.Messages {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ans, err := a.serveEnvelope(ctx, st.Message)
				if err != nil {
					a.logf("agent %d: mailbox message %d dropped: %v", id, st.Seq, err)
					return
				}
				if err := node.PostAnswer(ctx, ans); err != nil {
					a.logf("agent %d: answer to message %d: %v", id, st.Seq, err)
				}
			}()
			after = max(after, st.Seq)
		}
		wg.Wait()
	}
	return ctx.Err()
}
