package agent

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	registry "github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/types"
)

// Call is a request to another agent.
type Call struct {
	// Skill names the skill asked for; empty for the agent's default.
	Skill string
	// Text is the request's text; or Message, if set, is the whole
	// message.
	Text    string
	Message *a2a.Message
	// Session groups calls of one conversation; a new one when empty.
	Session string
	// Pay, if not zero, is what the call pays the agent's owner, with a
	// voucher of Channel (a channel from this agent's payer wallet to the
	// owner) on a lane of the callee's own.
	Pay     types.Amount
	Channel uint64
	// TTL is the request's lifetime (default agentmsg.DefaultTTL); the
	// call waits for the answer at most that long.
	TTL time.Duration
}

// Call sends agent `to` a signed request, sealed to the key in its card,
// straight to its host if it has one, else through the mailbox of the
// node its card names, and returns its verified and opened answer. A
// request the callee refuses (unpaid, unknown skill) is an Answer with a
// rejected state; see Answer.Err.
func (a *Agent) Call(ctx context.Context, to uint64, c Call) (*Answer, error) {
	ttl := c.TTL
	if ttl <= 0 {
		ttl = agentmsg.DefaultTTL
	}
	ctx, cancel := context.WithTimeout(ctx, ttl)
	defer cancel()
	p, err := a.Send(ctx, to, c)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// Pending is a request sent, whose answer is still to come (or, from an
// agent's own host, came with the delivery).
type Pending struct {
	// ID is the request envelope's id.
	ID agentmsg.ID
	// Request is the signed request as sent.
	Request agentmsg.Message
	// Mailbox is the node the request was left at; empty when it went
	// straight to the agent's host.
	Mailbox string

	a       *Agent
	to      uint64
	key     [32]byte
	chainID string
	dec     *ecdh.PrivateKey
	node    *client.Client
	answer  *agentmsg.Message
}

// Wait returns the verified, opened answer.
func (p *Pending) Wait(ctx context.Context) (*Answer, error) {
	ans := p.answer
	if ans == nil {
		m, err := p.node.WaitAgentAnswer(ctx, p.to, p.ID)
		if err != nil {
			return nil, fmt.Errorf("agent %d's answer: %w", p.to, err)
		}
		ans = &m
	}
	return p.a.openAnswer(ctx, p.chainID, p.to, p.key, p.ID, *ans, p.dec)
}

// Send delivers a request like Call does and returns without waiting for
// an answer that goes through a mailbox.
func (a *Agent) Send(ctx context.Context, to uint64, c Call) (*Pending, error) {
	chainID, err := a.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	target, err := a.dir.info(ctx, to, false)
	if err != nil {
		return nil, fmt.Errorf("agent %d: %w", to, err)
	}
	if target.Status != registry.Active {
		return nil, fmt.Errorf("agent %d is %s: it takes no requests", to, target.Status)
	}
	_, info, err := a.dir.card(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("agent %d: %w", to, err)
	}
	msg := a2a.Message{MessageID: newID(), Role: a2a.RoleUser, Parts: []a2a.Part{a2a.TextPart(c.Text)}}
	if c.Message != nil {
		msg = *c.Message
		msg.Role = a2a.RoleUser
		if msg.MessageID == "" {
			msg.MessageID = newID()
		}
	}
	if c.Session == "" {
		c.Session = newID()
	}
	msg.ContextID = c.Session
	// Answers come sealed: to this agent's own key, or for a caller that
	// is not registered, to a key made for this call.
	from := a.ID()
	dec := a.dec
	var reply agentmsg.EncryptionKey
	if from == 0 {
		dec, reply = agentmsg.NewReplyKey()
	} else {
		reply = agentmsg.PublicOf(dec)
	}
	body := agentmsg.Body{Skill: c.Skill, Message: &msg, ReplyKey: &reply}
	if c.Pay > 0 {
		if a.cfg.Payer == nil {
			return nil, errors.New("agent: paying needs a payer wallet (Config.Payer)")
		}
		v, err := a.cfg.Payer.Pay(c.Channel, fmt.Sprintf("agent-%d", to), c.Pay)
		if err != nil {
			return nil, fmt.Errorf("pay agent %d: %w", to, err)
		}
		body.Voucher = v.String()
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = agentmsg.DefaultTTL
	}
	m, err := agentmsg.Make(chainID, a.cfg.Key, agentmsg.Draft{From: from, To: to, Session: c.Session, TTL: ttl,
		SealTo: &info.EncryptionKey}, body.Encode(), a.cfg.Now())
	if err != nil {
		return nil, err
	}
	p := &Pending{ID: m.Envelope.ID(chainID), Request: m, a: a, to: to, key: [32]byte(target.SigningKey), chainID: chainID, dec: dec}
	if target.Endpoint != "" {
		url := info.EnvelopeURL
		if url == "" {
			url = strings.TrimRight(target.Endpoint, "/") + EnvelopePath
		}
		ans, err := postEnvelope(ctx, url, m)
		if err != nil {
			return nil, fmt.Errorf("call agent %d: %w", to, err)
		}
		p.answer = &ans
		return p, nil
	}
	p.node = a.cfg.Node
	if len(info.Mailboxes) > 0 && strings.TrimRight(info.Mailboxes[0], "/") != strings.TrimRight(p.node.URL(), "/") {
		p.node = client.New(info.Mailboxes[0])
	}
	p.Mailbox = p.node.URL()
	if _, err := p.node.PostMailbox(ctx, m); err != nil {
		return nil, fmt.Errorf("call agent %d: %w", to, err)
	}
	return p, nil
}

// openAnswer verifies an answer: signed by the callee's registered key,
// for this request, in time; and opens it.
func (a *Agent) openAnswer(ctx context.Context, chainID string, to uint64, key [32]byte, reqID agentmsg.ID, ans agentmsg.Message, dec *ecdh.PrivateKey) (*Answer, error) {
	e := &ans.Envelope
	if err := ans.Check(chainID, agentmsg.MaxPayload); err != nil {
		return nil, fmt.Errorf("agent %d's answer: %w", to, err)
	}
	switch {
	case e.From != to:
		return nil, fmt.Errorf("%w: the answer is from agent %d, not %d", agentmsg.ErrWrongKey, e.From, to)
	case e.ReplyTo != reqID:
		return nil, fmt.Errorf("%w: the answer is to %s, not to this request %s", agentmsg.ErrMalformed, e.ReplyTo, reqID)
	case e.Key != key:
		// The key may have changed (a transfer) since the lookup.
		info, err := a.dir.info(ctx, to, true)
		if err != nil || [32]byte(info.SigningKey) != e.Key {
			return nil, fmt.Errorf("%w: agent %d's answer is not signed by its registered key", agentmsg.ErrWrongKey, to)
		}
	}
	if err := e.CheckTime(a.cfg.Now()); err != nil {
		return nil, fmt.Errorf("agent %d's answer: %w", to, err)
	}
	plain, err := ans.Open(chainID, dec)
	if err != nil {
		return nil, fmt.Errorf("agent %d's answer: %w", to, err)
	}
	body, err := agentmsg.ParseBody(plain)
	if err != nil {
		return nil, fmt.Errorf("agent %d's answer: %w", to, err)
	}
	return &Answer{State: body.State, Message: body.Message, Artifacts: body.Artifacts, Error: body.Error, Request: reqID, Envelope: *e}, nil
}

// postEnvelope posts a request to an agent's own host and returns the
// answer it gives in the same exchange.
func postEnvelope(ctx context.Context, url string, m agentmsg.Message) (agentmsg.Message, error) {
	var out agentmsg.Message
	b, err := json.Marshal(m)
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, agentmsg.MaxPayload*4/3+4096))
	if err != nil {
		return out, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code, Message string
			} `json:"error"`
		}
		if json.Unmarshal(rb, &e) == nil && e.Error.Message != "" {
			return out, fmt.Errorf("%s: %s (%s)", url, e.Error.Message, e.Error.Code)
		}
		return out, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return out, json.Unmarshal(rb, &out)
}
