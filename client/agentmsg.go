package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/api"
)

// PostMailbox stores a signed envelope in its target agent's mailbox on
// the node.
func (c *Client) PostMailbox(ctx context.Context, m agentmsg.Message) (api.MailboxPut, error) {
	var out api.MailboxPut
	b, err := json.Marshal(m)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodPost, "/v1/agents/"+strconv.FormatUint(m.Envelope.To, 10)+"/mailbox", bytes.NewReader(b),
		http.Header{"Content-Type": {"application/json"}}, &out)
	return out, err
}

// MailboxChallenge asks the node for a challenge to sign for agent's
// mailbox.
func (c *Client) MailboxChallenge(ctx context.Context, agent uint64) (api.Challenge, error) {
	var out api.Challenge
	err := c.do(ctx, http.MethodGet, "/v1/agents/"+strconv.FormatUint(agent, 10)+"/mailbox/challenge", nil, nil, &out)
	return out, err
}

// FetchMailbox signs r with the agent's signing key and fetches: it
// acknowledges the messages up to r.Ack, then returns those after r.After
// (waiting up to r.WaitSeconds for one). r.Challenge may be the Next of
// the previous fetch; when empty a new one is asked for.
func (c *Client) FetchMailbox(ctx context.Context, key ed25519.PrivateKey, r agentmsg.FetchRequest) (api.MailboxFetch, error) {
	var out api.MailboxFetch
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return out, err
	}
	if r.Challenge == "" {
		ch, err := c.MailboxChallenge(ctx, r.Agent)
		if err != nil {
			return out, err
		}
		r.Challenge = ch.Challenge
	}
	if err := r.Sign(chainID, key); err != nil {
		return out, err
	}
	b, _ := json.Marshal(r)
	err = c.do(ctx, http.MethodPost, "/v1/agents/"+strconv.FormatUint(r.Agent, 10)+"/mailbox/fetch", bytes.NewReader(b),
		http.Header{"Content-Type": {"application/json"}}, &out)
	return out, err
}

// PostAnswer gives the node an agent's signed answer to an envelope the
// node stored for it.
func (c *Client) PostAnswer(ctx context.Context, m agentmsg.Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/v1/agents/"+strconv.FormatUint(m.Envelope.From, 10)+"/answers", bytes.NewReader(b),
		http.Header{"Content-Type": {"application/json"}}, nil)
}

// AgentAnswer returns agent's answer to an envelope stored on the node,
// waiting up to wait (at most a minute a call) for it; IsNotFound(err)
// while there is none.
func (c *Client) AgentAnswer(ctx context.Context, agent uint64, id agentmsg.ID, wait time.Duration) (agentmsg.Message, error) {
	var out agentmsg.Message
	q := url.Values{}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/agents/%d/answers/%s?%s", agent, id, q.Encode()), nil, nil, &out)
	return out, err
}

// WaitAgentAnswer polls AgentAnswer until the answer comes or ctx ends.
func (c *Client) WaitAgentAnswer(ctx context.Context, agent uint64, id agentmsg.ID) (agentmsg.Message, error) {
	for {
		wait := 30 * time.Second
		if d, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(d))
		}
		if wait <= 0 {
			return agentmsg.Message{}, fmt.Errorf("agent %d did not answer %s in time", agent, id)
		}
		m, err := c.AgentAnswer(ctx, agent, id, wait)
		if err == nil {
			return m, nil
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != "not_answered" || ctx.Err() != nil {
			return m, err
		}
	}
}
