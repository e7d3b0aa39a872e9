package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
)

// The A2A relay: POST /agents/{id}/a2a takes A2A JSON-RPC calls for a
// registered agent. For an agent behind a mailbox the node is the A2A
// server: SendMessage (1.0) or message/send (0.3) seals the message to the
// key in the agent's card, stores it in the agent's mailbox here under an
// envelope the node signs with its relay key, and holds the task; the
// agent's signed answer (POST /v1/agents/{id}/answers) completes it, and
// GetTask or tasks/get returns it. A blocking call waits up to
// relayBlockWait for the answer, then returns the task as it stands. For
// an agent with its own host the node forwards the call to the JSON-RPC
// URL in the agent's card.

// Message metadata keys a client may set on a relayed message.
const (
	// MetaSkill names the skill the message asks for.
	MetaSkill = "mycel/skill"
	// MetaVoucher carries a payment channel voucher (its compact text)
	// paying the agent's owner for the task.
	MetaVoucher = "mycel/voucher"
)

// relayBlockWait bounds how long a blocking SendMessage waits.
const relayBlockWait = 60 * time.Second

// HeaderRelayed marks a call a node forwards, so that two nodes never
// forward one call back and forth.
const HeaderRelayed = "X-Mycel-Relayed"

type relayTask struct {
	task    a2a.Task
	agent   uint64
	expires time.Time
	// settled is closed when the task reaches a terminal or interrupted
	// state.
	settled chan struct{}
}

// complete applies an agent's answer to the task.
func (t *relayTask) complete(a agentmsg.Message, chainID string, now time.Time) {
	st := a2a.Status{State: a2a.StateCompleted, Timestamp: now}
	var body agentmsg.Body
	var err error
	if a.Envelope.Sealed {
		err = fmt.Errorf("the answer is sealed; the node cannot read it")
	} else {
		body, err = agentmsg.ParseBody(a.Payload)
	}
	switch {
	case err != nil:
		st.State = a2a.StateFailed
		st.Message = agentMessage(t, "the agent's answer is unreadable: "+err.Error())
	default:
		if body.State != "" {
			st.State = body.State
		}
		if body.Message != nil {
			msg := *body.Message
			msg.Role, msg.TaskID, msg.ContextID = a2a.RoleAgent, t.task.ID, t.task.ContextID
			if msg.MessageID == "" {
				msg.MessageID = randomID()
			}
			st.Message = &msg
		} else if body.Error != "" {
			st.Message = agentMessage(t, body.Error)
		}
		t.task.Artifacts = body.Artifacts
	}
	if st.Message != nil {
		t.task.History = append(t.task.History, *st.Message)
	}
	t.task.Status = st
	if st.State.Terminal() || st.State.Interrupted() {
		select {
		case <-t.settled:
		default:
			close(t.settled)
		}
	}
}

func agentMessage(t *relayTask, text string) *a2a.Message {
	return &a2a.Message{MessageID: randomID(), Role: a2a.RoleAgent, TaskID: t.task.ID, ContextID: t.task.ContextID,
		Parts: []a2a.Part{a2a.TextPart(text)}}
}

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// a2aRelay is POST /agents/{id}/a2a.
func (s *server) a2aRelay(w http.ResponseWriter, r *http.Request) error {
	if s.msg == nil {
		return errNoMessaging
	}
	id, err := pathAgent(r)
	if err != nil {
		return err
	}
	rec, err := s.target(r.Context(), id)
	if err != nil {
		return err
	}
	if rec.Endpoint != "" {
		return s.forwardA2A(w, r, rec)
	}
	if s.msg.Mailbox == nil || s.msg.RelayKey == nil {
		return errNoMessaging
	}
	a2a.Handler(&relayService{s: s, agent: id}).ServeHTTP(w, r)
	return nil
}

// forwardA2A passes a call to the JSON-RPC URL of an agent's own host.
func (s *server) forwardA2A(w http.ResponseWriter, r *http.Request, rec AgentRecord) error {
	if r.Header.Get(HeaderRelayed) != "" {
		return fmt.Errorf("%w: agent %d's A2A URL leads back to a node's relay", ErrConflict, rec.ID)
	}
	target := strings.TrimRight(rec.Endpoint, "/") + "/a2a"
	if b, err := s.msg.Agents.AgentCard(r.Context(), rec.ID); err == nil {
		if c, err := a2a.ParseCard(b); err == nil && c.JSONRPCURL() != "" {
			target = c.JSONRPCURL()
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, a2a.MaxRequestBytes+1))
	if err != nil {
		return badRequest("read body: %v", err)
	}
	if len(body) > a2a.MaxRequestBytes {
		return fmt.Errorf("%w: A2A requests are at most %d bytes", agentmsg.ErrTooLarge, a2a.MaxRequestBytes)
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: agent %d's A2A URL %q: %v", ErrUnavailable, rec.ID, target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderRelayed, "1")
	for _, h := range []string{"A2A-Version", "X-A2A-Protocol-Version", "A2A-Extensions"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := s.msg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: agent %d at %s: %v", ErrUnavailable, rec.ID, target, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 4*a2a.MaxRequestBytes))
	if err != nil {
		return fmt.Errorf("%w: agent %d at %s: %v", ErrUnavailable, rec.ID, target, err)
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
	return nil
}

// relayService answers the JSON-RPC calls for one agent behind a
// mailbox.
type relayService struct {
	s     *server
	agent uint64
}

func metaString(ms []map[string]any, key string) string {
	for _, m := range ms {
		if v, ok := m[key].(string); ok {
			return v
		}
	}
	return ""
}

func (rs *relayService) SendMessage(ctx context.Context, req a2a.SendRequest) (a2a.SendResult, error) {
	m := rs.s.msg
	msg := req.Message
	if msg.TaskID != "" {
		// Follow-ups to a task waiting for input are not relayed: every
		// message starts a task of its own.
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeUnsupportedOperation,
			"message for task %q: tasks relayed through a mailbox take one message; send without a taskId to start a new one", msg.TaskID)
	}
	raw, err := m.Agents.AgentCard(ctx, rs.agent)
	if err != nil {
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeInternal, "agent %d's card: %v", rs.agent, err)
	}
	card, err := a2a.ParseCard(raw)
	if err != nil {
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeInternal, "agent %d: %v", rs.agent, err)
	}
	info, err := agentmsg.CardInfoOf(card)
	if err != nil {
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeInternal, "%v", err)
	}
	now := rs.s.Now()
	t := &relayTask{agent: rs.agent, expires: now.Add(relayTTL), settled: make(chan struct{})}
	t.task.ID = randomID()
	t.task.ContextID = msg.ContextID
	if t.task.ContextID == "" || len(t.task.ContextID) > agentmsg.MaxSession {
		t.task.ContextID = randomID()
	}
	msg.TaskID, msg.ContextID = t.task.ID, t.task.ContextID
	t.task.Status = a2a.Status{State: a2a.StateSubmitted, Timestamp: now}
	t.task.History = []a2a.Message{msg}
	body := agentmsg.Body{Message: &msg, Skill: metaString([]map[string]any{msg.Metadata, req.Metadata}, MetaSkill),
		Voucher: metaString([]map[string]any{msg.Metadata, req.Metadata}, MetaVoucher)}
	env, err := agentmsg.Make(m.ChainID, m.RelayKey, agentmsg.Draft{To: rs.agent, Session: t.task.ContextID, TTL: agentmsg.DefaultTTL,
		SealTo: &info.EncryptionKey}, body.Encode(), now)
	if err != nil {
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeInvalidParams, "%v", err)
	}
	reqID := env.Envelope.ID(m.ChainID)
	if err := m.addTask(t); err != nil {
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeInternal, "%v", err)
	}
	if err := m.track(reqID, rs.agent, time.Unix(env.Envelope.Expires, 0), t.task.ID); err != nil {
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeInternal, "%v", err)
	}
	if _, err := m.Mailbox.Put(rs.agent, env, now); err != nil {
		m.untrack(reqID)
		return a2a.SendResult{}, a2a.Errorf(a2a.CodeInternal, "agent %d's mailbox: %v", rs.agent, err)
	}
	if req.Blocking {
		timer := time.NewTimer(relayBlockWait)
		select {
		case <-t.settled:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	task := m.snapshot(t)
	return a2a.SendResult{Task: &task}, nil
}

func (rs *relayService) GetTask(_ context.Context, id string, _ int) (a2a.Task, error) {
	m := rs.s.msg
	m.mu.Lock()
	t := m.tasks[id]
	m.mu.Unlock()
	if t == nil || t.agent != rs.agent {
		return a2a.Task{}, a2a.TaskNotFound(id)
	}
	return m.snapshot(t), nil
}

func (m *messenger) addTask(t *relayTask) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.tasks) >= maxRelayTasks {
		m.sweepLocked()
		if len(m.tasks) >= maxRelayTasks {
			return fmt.Errorf("%w: %d relayed tasks open here; retry later", errMsgBusy, len(m.tasks))
		}
	}
	m.tasks[t.task.ID] = t
	m.taskOrder = append(m.taskOrder, t.task.ID)
	return nil
}

// snapshot copies a task under the lock.
func (m *messenger) snapshot(t *relayTask) a2a.Task {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := t.task
	out.History = append([]a2a.Message(nil), t.task.History...)
	out.Artifacts = append([]a2a.Artifact(nil), t.task.Artifacts...)
	return out
}
