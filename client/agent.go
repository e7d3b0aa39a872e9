package client

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/discovery"
	"github.com/mycelnet/mycel/types"
)

// FindAgents asks the node's discovery index: the listed agents ranked
// for the query (skill, tag, free text), a page at a time; pass the
// page's Next as q.After for the next one.
func (c *Client) FindAgents(ctx context.Context, q discovery.Query) (discovery.Page, error) {
	v := url.Values{}
	for k, s := range map[string]string{"skill": q.Skill, "tag": q.Tag, "q": q.Text} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.After != 0 {
		v.Set("after", strconv.FormatUint(q.After, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var p discovery.Page
	err := c.do(ctx, http.MethodGet, "/v1/agents?"+v.Encode(), nil, nil, &p)
	return p, err
}

// ListAgents lists the registry in id order, any status: f.Owner's agents
// or those for sale (f.ForSale). Pass the page's Next as f.After.
func (c *Client) ListAgents(ctx context.Context, f agent.Filter) (discovery.Page, error) {
	v := url.Values{}
	switch {
	case f.Owner != nil:
		v.Set("owner", f.Owner.String())
	case f.ForSale:
		v.Set("for_sale", "true")
	default:
		return discovery.Page{}, fmt.Errorf("ListAgents needs an owner or for sale; use FindAgents to search")
	}
	if f.After != 0 {
		v.Set("after", strconv.FormatUint(f.After, 10))
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	var p discovery.Page
	err := c.do(ctx, http.MethodGet, "/v1/agents?"+v.Encode(), nil, nil, &p)
	return p, err
}

// Agent reads an agent: its record (owner, signing key, endpoint, card
// hash, deposit, status, ...) with its reputation; IsNotFound(err) when
// there is no agent of that id.
func (c *Client) Agent(ctx context.Context, id uint64) (agent.Info, error) {
	var a agent.Info
	err := c.do(ctx, http.MethodGet, "/v1/agents/"+strconv.FormatUint(id, 10), nil, nil, &a)
	return a, err
}

// AgentCard fetches an agent's A2A Agent Card from the node's
// /agents/{id}/.well-known/agent-card.json and checks it against the
// card hash the chain holds, so a lying node cannot swap it.
func (c *Client) AgentCard(ctx context.Context, id uint64) ([]byte, error) {
	a, err := c.Agent(ctx, id)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/agents/"+strconv.FormatUint(id, 10)+"/.well-known/agent-card.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the node at %s: %w", c.base, unwrapURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var eb api.ErrorBody
		_ = json.Unmarshal(b, &eb)
		if eb.Error.Message == "" {
			eb.Error.Message = resp.Status
		}
		return nil, &Error{Status: resp.StatusCode, ErrorDetail: eb.Error}
	}
	if types.SumHash(b) != a.CardHash {
		return nil, fmt.Errorf("agent %d's card: the node sent content that does not hash to the registered %s", id, a.CardHash)
	}
	return b, nil
}

// Collective reads a collective.
func (c *Client) Collective(ctx context.Context, id uint64) (*agent.Collective, error) {
	var col agent.Collective
	if err := c.do(ctx, http.MethodGet, "/v1/collectives/"+strconv.FormatUint(id, 10), nil, nil, &col); err != nil {
		return nil, err
	}
	return &col, nil
}

// AgentCollectives lists the open collectives an agent manages, belongs
// to or is invited to.
func (c *Client) AgentCollectives(ctx context.Context, id uint64) ([]*agent.Collective, error) {
	var cs []*agent.Collective
	err := c.do(ctx, http.MethodGet, "/v1/agents/"+strconv.FormatUint(id, 10)+"/collectives", nil, nil, &cs)
	return cs, err
}

// AgentReports lists the reports made against an agent.
func (c *Client) AgentReports(ctx context.Context, id uint64) ([]*agent.Report, error) {
	var rs []*agent.Report
	err := c.do(ctx, http.MethodGet, "/v1/agents/"+strconv.FormatUint(id, 10)+"/reports", nil, nil, &rs)
	return rs, err
}

// AgentTx signs and submits one agent registry message (one of the
// chain/agent Msg types, with its Kind).
func (c *Client) AgentTx(ctx context.Context, key ed25519.PrivateKey, kind uint16, body []byte, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: kind, Body: body}}, o)
}

// RegisterAgent signs and submits a registration owned by key. Upload the
// card first (PutBlob); the new agent's id is in the agent_registered
// event of the committed transaction (Event(r, "agent_registered", "id")).
func (c *Client) RegisterAgent(ctx context.Context, key ed25519.PrivateKey, m agent.MsgRegister, o TxOptions) (api.SubmitResult, error) {
	return c.AgentTx(ctx, key, agent.KindRegister, m.Encode(), o)
}

// RenewAgent signs and submits a renewal of an agent key owns, adding
// addDeposit (which may be 0) to its deposit.
func (c *Client) RenewAgent(ctx context.Context, key ed25519.PrivateKey, id uint64, addDeposit types.Amount, o TxOptions) (api.SubmitResult, error) {
	return c.AgentTx(ctx, key, agent.KindRenew, agent.MsgRenew{Agent: id, AddDeposit: addDeposit}.Encode(), o)
}

// SetAgentKey signs and submits a new signing key for an agent key owns.
func (c *Client) SetAgentKey(ctx context.Context, key ed25519.PrivateKey, id uint64, signing ed25519.PublicKey, o TxOptions) (api.SubmitResult, error) {
	m := agent.MsgSetKey{Agent: id}
	copy(m.Key[:], signing)
	return c.AgentTx(ctx, key, agent.KindSetKey, m.Encode(), o)
}
