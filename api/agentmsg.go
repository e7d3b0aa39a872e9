package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/mailbox"
	"github.com/mycelnet/mycel/types"
)

// The agent messaging routes: every node keeps mailboxes for agents that
// only connect out, holds the answers to what it stored, and relays A2A
// clients' JSON-RPC calls into them (relay.go).
//
//	POST /v1/agents/{id}/mailbox              store a signed envelope for agent id
//	GET  /v1/agents/{id}/mailbox/challenge    a challenge for the agent to sign
//	POST /v1/agents/{id}/mailbox/fetch        signed: acknowledge, then fetch
//	POST /v1/agents/{id}/answers              agent id's signed answer to a stored envelope
//	GET  /v1/agents/{id}/answers/{envelope}   that answer (?wait=30s)
//	POST /agents/{id}/a2a                     A2A JSON-RPC, relayed

// AgentRecord is what messaging needs of a registered agent.
type AgentRecord struct {
	ID    uint64
	Owner types.Address
	// SigningKey signs the agent's envelopes and fetches; zero for none
	// (after a transfer, until the new owner sets one).
	SigningKey [32]byte
	// Endpoint is the agent's own host; empty behind a mailbox.
	Endpoint string
	// Listed says the registration is active and unexpired.
	Listed bool
}

// AgentDirectory is the chain's registry as messaging sees it.
type AgentDirectory interface {
	// AgentRecord returns a registered agent; an error wrapping
	// ErrNotFound if there is none.
	AgentRecord(ctx context.Context, id uint64) (AgentRecord, error)
	// AgentCard returns the bytes of the agent's registered card.
	AgentCard(ctx context.Context, id uint64) ([]byte, error)
}

// Messaging configures the agent messaging routes; without it they answer
// 503.
type Messaging struct {
	ChainID string
	Agents  AgentDirectory
	Mailbox *mailbox.Store
	// RelayKey signs the envelopes the node relays from A2A clients.
	RelayKey ed25519.PrivateKey
	// HTTPClient proxies A2A calls to agents with their own host.
	HTTPClient *http.Client
}

// Bounds of the node's in-memory messaging state.
const (
	maxChallenges   = 1 << 16
	challengeTTL    = time.Minute
	maxRequests     = 1 << 18
	maxAnswers      = 1 << 18
	maxAnswerBytes  = 64 << 20
	maxRelayTasks   = 1 << 14
	maxAnswerWait   = 60 * time.Second
	maxFetchLimit   = 256
	maxFetchWait    = 30 * time.Second
	relayTTL        = 30 * time.Minute
	maxEnvelopeBody = agentmsg.MaxPayload*4/3 + 4096
)

var (
	errNoMessaging = fmt.Errorf("%w: this node keeps no mailboxes", ErrUnavailable)
	errMsgBusy     = errors.New("busy")
	errNotAnswered = errors.New("not answered yet")
)

// messenger is the state behind the routes.
type messenger struct {
	Messaging
	now    func() time.Time
	window *agentmsg.Window

	mu          sync.Mutex
	challenges  map[[agentmsg.ChallengeSize]byte]challenge
	requests    map[agentmsg.ID]*request
	answerBytes int
	nAnswers    int
	tasks       map[string]*relayTask
	taskOrder   []string
	lastSweep   time.Time
}

// sweepEvery is how often the in-memory tables are swept of what expired,
// besides whenever one is full.
const sweepEvery = 5 * time.Second

// readGrace is how long an answer stays after it was first read.
const readGrace = time.Minute

// maybeSweepLocked sweeps if the last sweep is old.
func (m *messenger) maybeSweepLocked() {
	if now := m.now(); now.Sub(m.lastSweep) > sweepEvery {
		m.sweepLocked()
	}
}

type challenge struct {
	agent   uint64
	expires time.Time
}

// request is an envelope this node stored, which its target may answer
// here.
type request struct {
	to      uint64
	expires time.Time
	answer  *agentmsg.Message
	done    chan struct{}
	task    string // the relay task it carries, if any
}

func newMessenger(m Messaging, now func() time.Time) *messenger {
	if m.HTTPClient == nil {
		m.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	return &messenger{Messaging: m, now: now, window: agentmsg.NewWindow(0),
		challenges: map[[agentmsg.ChallengeSize]byte]challenge{}, requests: map[agentmsg.ID]*request{},
		tasks: map[string]*relayTask{}}
}

func (s *server) agentRoutes(mux *http.ServeMux) {
	s.route(mux, "POST /v1/agents/{id}/mailbox", s.mailboxPut)
	s.route(mux, "GET /v1/agents/{id}/mailbox/challenge", s.mailboxChallenge)
	s.route(mux, "POST /v1/agents/{id}/mailbox/fetch", s.mailboxFetch)
	s.route(mux, "POST /v1/agents/{id}/answers", s.answerPut)
	s.route(mux, "GET /v1/agents/{id}/answers/{envelope}", s.answerGet)
	s.route(mux, "POST /agents/{id}/a2a", s.a2aRelay)
}

// messagingRoutes are the lines GET / lists.
var messagingRoutes = []string{
	"POST /v1/agents/{id}/mailbox", "GET  /v1/agents/{id}/mailbox/challenge", "POST /v1/agents/{id}/mailbox/fetch (signed)",
	"POST /v1/agents/{id}/answers (signed)", "GET  /v1/agents/{id}/answers/{envelope_id}?wait=30s", "POST /agents/{id}/a2a (A2A JSON-RPC)",
}

// MailboxPut is POST /v1/agents/{id}/mailbox's answer.
type MailboxPut struct {
	ID  agentmsg.ID `json:"id"`
	Seq uint64      `json:"seq,string"`
}

// Challenge is GET /v1/agents/{id}/mailbox/challenge.
type Challenge struct {
	Challenge string `json:"challenge"`
	Expires   int64  `json:"expires"`
}

// MailboxFetch is POST /v1/agents/{id}/mailbox/fetch's answer: the
// messages, how many wait in all (these included, until acknowledged),
// and a fresh challenge for the next fetch.
type MailboxFetch struct {
	Messages  []mailbox.Stored `json:"messages"`
	Waiting   int              `json:"waiting"`
	Acked     int              `json:"acked"`
	Next      Challenge        `json:"next"`
	ChainTime int64            `json:"now"`
}

func pathAgent(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("agent id %q: want a number from 1", r.PathValue("id"))
	}
	return id, nil
}

// readMessage reads an envelope and its payload from a JSON body.
func readMessage(r *http.Request) (agentmsg.Message, error) {
	var m agentmsg.Message
	if r.ContentLength > maxEnvelopeBody {
		return m, fmt.Errorf("%w: a body of %d bytes; payloads are at most %d bytes", agentmsg.ErrTooLarge, r.ContentLength, agentmsg.MaxPayload)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEnvelopeBody+1))
	if err != nil {
		return m, badRequest("read body: %v", err)
	}
	if len(body) > maxEnvelopeBody {
		return m, fmt.Errorf("%w: payloads are at most %d bytes", agentmsg.ErrTooLarge, agentmsg.MaxPayload)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		if errors.Is(err, agentmsg.ErrMalformed) || errors.Is(err, agentmsg.ErrTooLarge) {
			return m, err
		}
		return m, fmt.Errorf("%w: want {\"envelope\": {...}, \"payload\": base64}: %v", agentmsg.ErrMalformed, err)
	}
	return m, nil
}

// checkSender checks that an envelope's key may speak for its sender: the
// registered signing key of agent From, or for From 0 an account that
// exists on chain (so that spamming mailboxes costs at least an account).
func (s *server) checkSender(ctx context.Context, e *agentmsg.Envelope) error {
	if e.From == 0 {
		if !s.Backend.AccountExists(e.SenderAddress()) {
			return fmt.Errorf("%w: %s has no account on chain; a sender that is no agent needs a funded account", errForbidden, e.SenderAddress())
		}
		return nil
	}
	rec, err := s.msg.Agents.AgentRecord(ctx, e.From)
	if err != nil {
		return fmt.Errorf("%w: sender agent %d: %v", agentmsg.ErrWrongKey, e.From, err)
	}
	if rec.SigningKey != e.Key {
		return fmt.Errorf("%w: the envelope is signed by %x, agent %d's signing key is %x (transferred?)", agentmsg.ErrWrongKey,
			e.Key[:8], e.From, rec.SigningKey[:8])
	}
	if !rec.Listed {
		return fmt.Errorf("%w: sender agent %d is not listed (expired or deregistered)", agentmsg.ErrWrongKey, e.From)
	}
	return nil
}

// target returns the record of a listed agent, or ErrNotFound.
func (s *server) target(ctx context.Context, id uint64) (AgentRecord, error) {
	rec, err := s.msg.Agents.AgentRecord(ctx, id)
	if err != nil {
		return rec, err
	}
	if !rec.Listed {
		return rec, fmt.Errorf("%w: agent %d is not listed (expired or deregistered)", ErrNotFound, id)
	}
	return rec, nil
}

// mailboxPut is POST /v1/agents/{id}/mailbox.
func (s *server) mailboxPut(w http.ResponseWriter, r *http.Request) error {
	if s.msg == nil || s.msg.Mailbox == nil {
		return errNoMessaging
	}
	id, err := pathAgent(r)
	if err != nil {
		return err
	}
	m, err := readMessage(r)
	if err != nil {
		return err
	}
	e := &m.Envelope
	if e.To != id {
		return badRequest("the envelope is for agent %d, posted to agent %d's mailbox", e.To, id)
	}
	if err := m.Check(s.msg.ChainID, s.msg.Mailbox.Options().MaxMessageBytes); err != nil {
		return err
	}
	now := s.Now()
	if err := e.CheckTime(now); err != nil {
		return err
	}
	if _, err := s.target(r.Context(), id); err != nil {
		return err
	}
	if err := s.checkSender(r.Context(), e); err != nil {
		return err
	}
	reqID := e.ID(s.msg.ChainID)
	if err := s.msg.track(reqID, id, time.Unix(e.Expires, 0), ""); err != nil {
		return err
	}
	if err := s.msg.window.Admit(e, now); err != nil {
		s.msg.untrack(reqID)
		return err
	}
	seq, err := s.msg.Mailbox.Put(id, m, now)
	if err != nil {
		s.msg.window.Forget(e)
		s.msg.untrack(reqID)
		return err
	}
	writeJSON(w, http.StatusCreated, MailboxPut{ID: reqID, Seq: seq})
	return nil
}

// track records a stored envelope that its target may answer here.
func (m *messenger) track(id agentmsg.ID, to uint64, expires time.Time, task string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.requests[id]; ok {
		return fmt.Errorf("%w: envelope %s is in a mailbox here already", agentmsg.ErrReplayed, id)
	}
	m.maybeSweepLocked()
	if len(m.requests) >= maxRequests {
		m.sweepLocked()
		if len(m.requests) >= maxRequests {
			return fmt.Errorf("%w: %d envelopes wait for answers here; retry later", errMsgBusy, len(m.requests))
		}
	}
	m.requests[id] = &request{to: to, expires: expires, done: make(chan struct{}), task: task}
	return nil
}

func (m *messenger) untrack(id agentmsg.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rq := m.requests[id]; rq != nil && rq.answer == nil {
		delete(m.requests, id)
	}
}

// sweepLocked forgets requests, answers, challenges and relay tasks past
// their time.
func (m *messenger) sweepLocked() {
	now := m.now()
	m.lastSweep = now
	for id, rq := range m.requests {
		if now.After(rq.expires) {
			if rq.answer != nil {
				m.nAnswers--
				m.answerBytes -= len(rq.answer.Payload)
			}
			delete(m.requests, id)
		}
	}
	for c, ch := range m.challenges {
		if now.After(ch.expires) {
			delete(m.challenges, c)
		}
	}
	kept := m.taskOrder[:0]
	for _, id := range m.taskOrder {
		if t := m.tasks[id]; t != nil && now.After(t.expires) {
			delete(m.tasks, id)
			continue
		}
		kept = append(kept, id)
	}
	m.taskOrder = kept
}

// mailboxChallenge is GET /v1/agents/{id}/mailbox/challenge.
func (s *server) mailboxChallenge(w http.ResponseWriter, r *http.Request) error {
	if s.msg == nil || s.msg.Mailbox == nil {
		return errNoMessaging
	}
	id, err := pathAgent(r)
	if err != nil {
		return err
	}
	c, err := s.msg.challenge(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (m *messenger) challenge(agent uint64) (Challenge, error) {
	var c [agentmsg.ChallengeSize]byte
	if _, err := rand.Read(c[:]); err != nil {
		return Challenge{}, err
	}
	exp := m.now().Add(challengeTTL)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.challenges) >= maxChallenges {
		m.sweepLocked()
		if len(m.challenges) >= maxChallenges {
			return Challenge{}, fmt.Errorf("%w: too many challenges outstanding; retry shortly", errMsgBusy)
		}
	}
	m.challenges[c] = challenge{agent: agent, expires: exp}
	return Challenge{Challenge: hex.EncodeToString(c[:]), Expires: exp.Unix()}, nil
}

// useChallenge consumes a challenge given to agent.
func (m *messenger) useChallenge(agent uint64, s string) error {
	var c [agentmsg.ChallengeSize]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(c) {
		return fmt.Errorf("%w: challenge: want %d hex digits from GET /v1/agents/%d/mailbox/challenge", errUnauthorized, 2*len(c), agent)
	}
	copy(c[:], b)
	m.mu.Lock()
	defer m.mu.Unlock()
	ch, ok := m.challenges[c]
	delete(m.challenges, c)
	switch {
	case !ok:
		return fmt.Errorf("%w: unknown or used challenge; get a new one from GET /v1/agents/%d/mailbox/challenge", errUnauthorized, agent)
	case ch.agent != agent:
		return fmt.Errorf("%w: the challenge was given for agent %d", errUnauthorized, ch.agent)
	case m.now().After(ch.expires):
		return fmt.Errorf("%w: the challenge expired; get a new one", errUnauthorized)
	}
	return nil
}

// mailboxFetch is POST /v1/agents/{id}/mailbox/fetch.
func (s *server) mailboxFetch(w http.ResponseWriter, r *http.Request) error {
	if s.msg == nil || s.msg.Mailbox == nil {
		return errNoMessaging
	}
	id, err := pathAgent(r)
	if err != nil {
		return err
	}
	var req agentmsg.FetchRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		return badRequest("fetch: %v", err)
	}
	if req.Agent != id {
		return badRequest("the fetch is signed for agent %d, posted for agent %d", req.Agent, id)
	}
	if err := s.msg.useChallenge(id, req.Challenge); err != nil {
		return err
	}
	rec, err := s.msg.Agents.AgentRecord(r.Context(), id)
	if err != nil {
		return err
	}
	if rec.SigningKey == ([32]byte{}) {
		return fmt.Errorf("%w: agent %d has no signing key (its owner sets one after a transfer)", errForbidden, id)
	}
	if err := req.Verify(s.msg.ChainID, rec.SigningKey); err != nil {
		return fmt.Errorf("%w: %v", errUnauthorized, err)
	}
	acked, err := s.msg.Mailbox.Ack(id, req.Ack)
	if err != nil {
		return err
	}
	limit := min(max(req.Limit, 1), maxFetchLimit)
	after := max(req.After, req.Ack)
	now := s.Now()
	msgs, err := s.msg.Mailbox.Fetch(id, after, limit, now)
	if err != nil {
		return err
	}
	if len(msgs) == 0 && req.WaitSeconds > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), min(time.Duration(req.WaitSeconds)*time.Second, maxFetchWait))
		if s.msg.Mailbox.Wait(ctx, id, after) {
			now = s.Now()
			msgs, err = s.msg.Mailbox.Fetch(id, after, limit, now)
		}
		cancel()
		if err != nil {
			return err
		}
	}
	next, err := s.msg.challenge(id)
	if err != nil {
		return err
	}
	waiting, _ := s.msg.Mailbox.Depth(id)
	if msgs == nil {
		msgs = []mailbox.Stored{}
	}
	writeJSON(w, http.StatusOK, MailboxFetch{Messages: msgs, Waiting: waiting, Acked: acked, Next: next, ChainTime: now.Unix()})
	return nil
}

// answerPut is POST /v1/agents/{id}/answers: agent id answers an envelope
// this node stored for it.
func (s *server) answerPut(w http.ResponseWriter, r *http.Request) error {
	if s.msg == nil {
		return errNoMessaging
	}
	id, err := pathAgent(r)
	if err != nil {
		return err
	}
	m, err := readMessage(r)
	if err != nil {
		return err
	}
	e := &m.Envelope
	switch {
	case e.From != id:
		return badRequest("the answer is from agent %d, posted as agent %d's", e.From, id)
	case e.ReplyTo.IsZero():
		return badRequest("an answer names the envelope it answers (reply_to)")
	}
	if err := m.Check(s.msg.ChainID, agentmsg.MaxPayload); err != nil {
		return err
	}
	if err := e.CheckTime(s.Now()); err != nil {
		return err
	}
	if err := s.checkSender(r.Context(), e); err != nil {
		return err
	}
	if err := s.msg.answer(id, m); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// answer records an agent's answer and completes the relay task it
// belongs to, if any.
func (m *messenger) answer(agent uint64, a agentmsg.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rq := m.requests[a.Envelope.ReplyTo]
	switch {
	case rq == nil:
		return fmt.Errorf("%w: envelope %s was not stored here, or its answer came too late", ErrNotFound, a.Envelope.ReplyTo)
	case rq.to != agent:
		return fmt.Errorf("%w: envelope %s is for agent %d", errForbidden, a.Envelope.ReplyTo, rq.to)
	case rq.answer != nil:
		return fmt.Errorf("%w: envelope %s is answered already", ErrConflict, a.Envelope.ReplyTo)
	}
	if m.nAnswers >= maxAnswers || m.answerBytes+len(a.Payload) > maxAnswerBytes {
		m.sweepLocked()
		if m.nAnswers >= maxAnswers || m.answerBytes+len(a.Payload) > maxAnswerBytes {
			return fmt.Errorf("%w: %d answers wait to be read here; retry later", errMsgBusy, m.nAnswers)
		}
	}
	rq.answer = &a
	m.nAnswers++
	m.answerBytes += len(a.Payload)
	// Keep the answer at least as long as the answer itself lives.
	if exp := time.Unix(a.Envelope.Expires, 0); exp.After(rq.expires) {
		rq.expires = exp
	}
	if t := m.tasks[rq.task]; rq.task != "" && t != nil {
		t.complete(a, m.ChainID, m.now())
	}
	close(rq.done)
	return nil
}

// answerGet is GET /v1/agents/{id}/answers/{envelope}?wait=30s.
func (s *server) answerGet(w http.ResponseWriter, r *http.Request) error {
	if s.msg == nil {
		return errNoMessaging
	}
	id, err := pathAgent(r)
	if err != nil {
		return err
	}
	reqID, err := agentmsg.ParseID(r.PathValue("envelope"))
	if err != nil {
		return badRequest("%v", err)
	}
	wait := time.Duration(0)
	if v := r.URL.Query().Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 {
			return badRequest("wait=%q: want a duration such as 30s", v)
		}
	}
	s.msg.mu.Lock()
	rq := s.msg.requests[reqID]
	s.msg.mu.Unlock()
	if rq == nil || rq.to != id {
		return fmt.Errorf("%w: no envelope %s for agent %d waits for an answer here", ErrNotFound, reqID, id)
	}
	if wait > 0 {
		t := time.NewTimer(min(wait, maxAnswerWait))
		select {
		case <-rq.done:
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	s.msg.mu.Lock()
	a := rq.answer
	if a != nil {
		// Read: it goes soon, so that answers do not pile up until they
		// expire; a reader that lost it has a minute to ask again.
		if grace := s.Now().Add(readGrace); grace.Before(rq.expires) {
			rq.expires = grace
		}
	}
	s.msg.mu.Unlock()
	if a == nil {
		return fmt.Errorf("%w: agent %d has not answered %s; ask again (?wait=30s waits for it)", errNotAnswered, id, reqID)
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// messagingStatus maps the messaging errors to their HTTP statuses: part
// of statusOf.
func messagingStatus(err error, d ErrorDetail) (int, ErrorDetail, bool) {
	set := func(status int, code string) (int, ErrorDetail, bool) {
		d.Code = code
		return status, d, true
	}
	switch {
	case errors.Is(err, errNotAnswered):
		return set(http.StatusNotFound, "not_answered")
	case errors.Is(err, agentmsg.ErrTooLarge), errors.Is(err, mailbox.ErrTooLarge):
		return set(http.StatusRequestEntityTooLarge, "payload_too_large")
	case errors.Is(err, mailbox.ErrFull):
		return set(http.StatusTooManyRequests, "mailbox_full")
	case errors.Is(err, mailbox.ErrStoreFull):
		return set(http.StatusTooManyRequests, "mailbox_store_full")
	case errors.Is(err, agentmsg.ErrBusy), errors.Is(err, errMsgBusy):
		return set(http.StatusTooManyRequests, "busy")
	case errors.Is(err, agentmsg.ErrBadSignature):
		return set(http.StatusUnauthorized, "bad_signature")
	case errors.Is(err, agentmsg.ErrWrongKey):
		return set(http.StatusForbidden, "wrong_key")
	case errors.Is(err, agentmsg.ErrReplayed):
		return set(http.StatusConflict, "replayed")
	case errors.Is(err, agentmsg.ErrExpired):
		return set(http.StatusBadRequest, "envelope_expired")
	case errors.Is(err, agentmsg.ErrTooFar):
		return set(http.StatusBadRequest, "envelope_too_far")
	case errors.Is(err, agentmsg.ErrPayloadMismatch):
		return set(http.StatusBadRequest, "payload_mismatch")
	case errors.Is(err, agentmsg.ErrMalformed):
		return set(http.StatusBadRequest, "malformed_envelope")
	}
	return 0, d, false
}
