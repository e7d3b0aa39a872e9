package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/blobstore"
	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/discovery"
	"github.com/mycelnet/mycel/types"
)

const testCard = `{"name": "Tide Oracle", "description": "Tide tables", "version": "1.0.0",
 "supportedInterfaces": [{"url": "http://127.0.0.1:8844/agents/1/a2a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
 "capabilities": {}, "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
 "skills": [{"id": "tide-tables", "name": "Tide tables", "description": "High and low water", "tags": ["ocean"]}]}`

// agentBackend serves the registry's routes from a discovery index and a
// list; the embedded Backend (nil) is never called by them.
type agentBackend struct {
	Backend
	idx    *discovery.Index
	agents []*agent.Agent
	last   agent.Filter
}

func (b *agentBackend) AgentSearch(_ context.Context, q discovery.Query) (discovery.Page, error) {
	return b.idx.Search(q)
}

func (b *agentBackend) AgentList(_ context.Context, f agent.Filter) ([]agent.Info, error) {
	b.last = f
	var out []agent.Info
	for _, a := range b.agents {
		if f.Owner == nil || *f.Owner == a.Owner {
			out = append(out, agent.InfoOf(a, 1, agent.DefaultParams()))
		}
	}
	return out, nil
}

func (b *agentBackend) AgentInfo(_ context.Context, id uint64) (agent.Info, error) {
	for _, a := range b.agents {
		if a.ID == id {
			return agent.InfoOf(a, 1, agent.DefaultParams()), nil
		}
	}
	return agent.Info{}, fmt.Errorf("%w: no agent %d", ErrNotFound, id)
}

func (b *agentBackend) AgentCollective(_ context.Context, id uint64) (*agent.Collective, error) {
	if id == 1 {
		return &agent.Collective{ID: 1, Manager: 1, Name: "crew", Version: 1,
			Shares: []agent.Share{{Agent: 1, Bps: 10000, Accepted: true}}}, nil
	}
	return nil, fmt.Errorf("%w: no collective %d", ErrNotFound, id)
}

func (b *agentBackend) AgentCollectives(context.Context, uint64) ([]*agent.Collective, error) {
	return nil, nil
}

func (b *agentBackend) AgentReports(context.Context, uint64) ([]*agent.Report, error) {
	return nil, nil
}

func (b *agentBackend) FetchBlob(context.Context, types.Hash) error {
	return fmt.Errorf("%w: no peers", blobstore.ErrNotFound)
}

func TestAgentRoutes(t *testing.T) {
	blobs, err := blobstore.Open(t.TempDir(), "test", blobstore.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	put := func(b string) types.Hash {
		h := types.SumHash([]byte(b))
		if err := blobs.PutFetched(h, strings.NewReader(b), time.Now()); err != nil {
			t.Fatal(err)
		}
		return h
	}
	owner := types.AddressFromPubKey(make([]byte, 32))
	good := &agent.Agent{ID: 1, Owner: owner, Name: "Tide Oracle", Status: agent.Active, ExpiresAt: 100, Deposit: types.MYC(100),
		CardHash: put(testCard), Skills: []agent.Skill{{ID: "tide-tables", Tags: []string{"ocean"}}}}
	bad := &agent.Agent{ID: 2, Owner: owner, Name: "Broken", Status: agent.Active, ExpiresAt: 100, Deposit: types.MYC(10),
		CardHash: put(`{"name": "Broken", "url": "http://h"}`)}
	lost := &agent.Agent{ID: 3, Owner: owner, Name: "Lost", Status: agent.Active, ExpiresAt: 100, Deposit: types.MYC(10),
		CardHash: types.SumHash([]byte("never uploaded"))}
	closed := &agent.Agent{ID: 4, Owner: owner, Name: "Gone", Status: agent.Closed, CardHash: good.CardHash}
	idx := discovery.New()
	idx.Apply([]*agent.Agent{good, bad, lost, closed}, 2, agent.DefaultParams())
	be := &agentBackend{idx: idx, agents: []*agent.Agent{good, bad, lost, closed}}
	srv := httptest.NewServer(Handler(Config{Backend: be, Blobs: blobs}))
	defer srv.Close()
	get := func(path string) (int, string, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !json.Valid(b) {
			t.Fatalf("%s: body is not JSON: %s", path, b)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/agents?skill=tide-tables", 200, `"name": "Tide Oracle"`},
		{"/v1/agents?q=tide+oracle&limit=1", 200, `"matched": 1`},
		{"/v1/agents?q=tide", 200, `"reputation": 500000`},
		{"/v1/agents?tag=none", 200, `"agents": []`},
		{"/v1/agents?after=99", 400, `not listed`},
		{"/v1/agents?q=%21", 400, `no word`},
		{"/v1/agents?limit=x", 400, `want a non-negative integer`},
		{"/v1/agents?owner=" + owner.String(), 200, `"name": "Gone"`},
		{"/v1/agents?owner=" + owner.String() + "&skill=x", 400, `use one or the other`},
		{"/v1/agents?for_sale=maybe", 400, `want true or false`},
		{"/v1/agents/1", 200, `"mailbox": true`},
		{"/v1/agents/9", 404, `"code": "not_found"`},
		{"/v1/agents/x", 400, `want a number from 1`},
		{"/v1/collectives/1", 200, `"bps": 10000`},
		{"/v1/collectives/2", 404, `no collective 2`},
		{"/agents/2/.well-known/agent-card.json", 502, `"code": "bad_agent_card"`},
		{"/agents/3/.well-known/agent-card.json", 404, `is in no blob store this node reaches`},
		{"/agents/4/.well-known/agent-card.json", 404, `agent 4 was deregistered`},
		{"/agents/9/.well-known/agent-card.json", 404, `no agent 9`},
	} {
		status, _, body := get(tc.path)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s\nwant %d and %s", tc.path, status, body, tc.status, tc.want)
		}
	}
	for _, path := range []string{"/agents/1/.well-known/agent-card.json", "/agents/1/.well-known/agent.json"} {
		status, ct, body := get(path)
		if status != 200 || ct != "application/json" || !bytes.Equal([]byte(body), []byte(testCard)) {
			t.Errorf("%s: %d %s %s", path, status, ct, body)
		}
	}
	if be.last.Owner == nil || *be.last.Owner != owner || be.last.Limit != discovery.DefaultLimit {
		t.Errorf("owner listing filter %+v", be.last)
	}
}
