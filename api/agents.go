package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/blobstore"
	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/discovery"
	"github.com/mycelnet/mycel/types"
)

// AgentRegistry is what the registry's routes need from a node: the
// chain's agent registry and the node's discovery index.
type AgentRegistry interface {
	// AgentSearch ranks the listed agents for a query (discovery.Index);
	// a bad cursor is an error wrapping discovery.ErrBadCursor.
	AgentSearch(ctx context.Context, q discovery.Query) (discovery.Page, error)
	// AgentList lists agents of any status in id order: all, an owner's,
	// or those for sale.
	AgentList(ctx context.Context, f agent.Filter) ([]agent.Info, error)
	// AgentInfo reads one agent (ErrNotFound if there is none).
	AgentInfo(ctx context.Context, id uint64) (agent.Info, error)
	// AgentCollective reads a collective (ErrNotFound if there is none);
	// AgentCollectives lists the open ones an agent is in.
	AgentCollective(ctx context.Context, id uint64) (*agent.Collective, error)
	AgentCollectives(ctx context.Context, id uint64) ([]*agent.Collective, error)
	// AgentReports lists the reports against an agent.
	AgentReports(ctx context.Context, id uint64) ([]*agent.Report, error)
}

// ErrBadCard is a registered card that is not a valid A2A Agent Card.
var ErrBadCard = errors.New("invalid agent card")

// registryRoutes are the agent registry's routes.
func (s *server) registryRoutes(mux *http.ServeMux) {
	s.route(mux, "GET /v1/agents", s.agents)
	s.route(mux, "GET /v1/agents/{id}", s.agent)
	s.route(mux, "GET /v1/agents/{id}/collectives", s.agentCollectives)
	s.route(mux, "GET /v1/agents/{id}/reports", s.agentReports)
	s.route(mux, "GET /v1/collectives/{id}", s.collective)
	s.route(mux, "GET /agents/{id}/.well-known/agent-card.json", s.agentCard)
	// A2A before 0.3 served the card as agent.json.
	s.route(mux, "GET /agents/{id}/.well-known/agent.json", s.agentCard)
}

// registryRouteList are the lines GET / lists.
var registryRouteList = []string{
	"GET  /v1/agents?skill=&tag=&q=&limit=&after= (ranked discovery)", "GET  /v1/agents?owner=|for_sale=true&after=&limit=",
	"GET  /v1/agents/{id}", "GET  /v1/agents/{id}/collectives", "GET  /v1/agents/{id}/reports", "GET  /v1/collectives/{id}",
	"GET  /agents/{id}/.well-known/agent-card.json",
}

func pathID(r *http.Request, what string) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("%s id %q: want a number from 1", what, r.PathValue("id"))
	}
	return id, nil
}

// agents is GET /v1/agents. With skill, tag or q (or none of the chain
// listing's parameters) it is discovery: the listed agents ranked for the
// query, a page at a time (after is the previous page's next). With owner
// or for_sale it is the chain's listing in id order, any status (after is
// the last id of the previous page). Both answer a discovery.Page.
func (s *server) agents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", discovery.DefaultLimit)
	if err != nil {
		return err
	}
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return err
	}
	owner, err := queryAddr(r, "owner")
	if err != nil {
		return err
	}
	forSale := false
	if v := q.Get("for_sale"); v != "" {
		if forSale, err = strconv.ParseBool(v); err != nil {
			return badRequest("for_sale=%q: want true or false", v)
		}
	}
	if owner != nil || forSale {
		if q.Get("skill") != "" || q.Get("tag") != "" || q.Get("q") != "" {
			return badRequest("owner and for_sale list the registry by id; skill, tag and q search it: use one or the other")
		}
		f := agent.Filter{Owner: owner, ForSale: forSale, After: uint64(after), Limit: int(min(max(limit, 1), discovery.MaxLimit))}
		as, err := s.Backend.AgentList(r.Context(), f)
		if err != nil {
			return err
		}
		page := discovery.Page{Agents: make([]discovery.Result, 0, len(as)), Matched: len(as)}
		for _, a := range as {
			page.Agents = append(page.Agents, discovery.Result{Info: a})
		}
		if len(as) == f.Limit {
			page.Next = as[len(as)-1].ID
		}
		writeJSON(w, http.StatusOK, page)
		return nil
	}
	dq := discovery.Query{Skill: q.Get("skill"), Tag: q.Get("tag"), Text: q.Get("q"), After: uint64(after),
		Limit: int(min(max(limit, 1), discovery.MaxLimit))}
	if len(dq.Skill) > agent.MaxSkillIDLen || len(dq.Tag) > agent.MaxTagLen || len(dq.Text) > 1024 {
		return badRequest("skill, tag or q too long (at most %d, %d and 1024 bytes)", agent.MaxSkillIDLen, agent.MaxTagLen)
	}
	page, err := s.Backend.AgentSearch(r.Context(), dq)
	if errors.Is(err, discovery.ErrBadCursor) || errors.Is(err, discovery.ErrBadQuery) {
		return badRequest("%v", err)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// agent is GET /v1/agents/{id}: the agent's record with its reputation.
func (s *server) agent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "agent")
	if err != nil {
		return err
	}
	a, err := s.Backend.AgentInfo(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *server) agentCollectives(w http.ResponseWriter, r *http.Request) error {
	return agentList(s, w, r, s.Backend.AgentCollectives)
}

func (s *server) agentReports(w http.ResponseWriter, r *http.Request) error {
	return agentList(s, w, r, s.Backend.AgentReports)
}

// agentList writes what list returns for the agent in the path, as a JSON
// array (empty, not null); an agent that does not exist is a 404.
func agentList[T any](s *server, w http.ResponseWriter, r *http.Request, list func(context.Context, uint64) ([]T, error)) error {
	id, err := pathID(r, "agent")
	if err != nil {
		return err
	}
	if _, err := s.Backend.AgentInfo(r.Context(), id); err != nil {
		return err
	}
	out, err := list(r.Context(), id)
	if err != nil {
		return err
	}
	if out == nil {
		out = []T{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) collective(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "collective")
	if err != nil {
		return err
	}
	c, err := s.Backend.AgentCollective(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// agentCard is GET /agents/{id}/.well-known/agent-card.json: the agent's
// registered A2A Agent Card, the bytes whose sha256 the chain holds,
// fetched from the peers' blob stores if this node lacks them, checked as
// an Agent Card before it is served.
func (s *server) agentCard(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "agent")
	if err != nil {
		return err
	}
	a, err := s.Backend.AgentInfo(r.Context(), id)
	if err != nil {
		return err
	}
	if a.Status == agent.Closed {
		return fmt.Errorf("%w: agent %d was deregistered", ErrNotFound, id)
	}
	b, err := s.cardBytes(r.Context(), a.CardHash)
	if err != nil {
		return err
	}
	if _, err := a2a.ValidateCard(b); err != nil {
		return fmt.Errorf("%w: agent %d's registered card %s: %v", ErrBadCard, id, a.CardHash, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", `"`+a.CardHash.String()+`"`)
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// cardBytes reads a card from the blob store, fetching it from the peers
// when this node lacks it.
func (s *server) cardBytes(ctx context.Context, h types.Hash) ([]byte, error) {
	if s.Blobs == nil {
		return nil, fmt.Errorf("%w: this node keeps no blobs", ErrUnavailable)
	}
	f, _, err := s.Blobs.Open(h)
	if errors.Is(err, blobstore.ErrNotFound) {
		if ferr := s.Backend.FetchBlob(ctx, h); ferr == nil {
			f, _, err = s.Blobs.Open(h)
		}
	}
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, fmt.Errorf("%w: card %s is in no blob store this node reaches; its owner uploads it again (PUT /v1/blobs)", ErrNotFound, h)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, a2a.MaxCardBytes+1))
	if err != nil {
		return nil, err
	}
	if types.SumHash(b) != h {
		return nil, fmt.Errorf("%w: blob %s does not hash to its name", ErrBadCard, h)
	}
	return b, nil
}
