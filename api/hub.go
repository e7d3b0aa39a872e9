package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

// Hub matches inference requests with the providers that serve their
// model. A provider holds long polls open to the node (POST
// /v1/serve/pull), each announcing the models it serves; a request is
// handed to a waiting poll and the provider streams the answer back (POST
// /v1/serve/tasks/{id}). Providers behind NAT serve this way, since they
// only connect out.
type Hub struct {
	mu        sync.Mutex
	providers map[types.Address]*served
	tasks     map[string]*task
	// arrived is closed (and replaced) whenever a poll starts waiting, to
	// wake requests that found every provider busy.
	arrived chan struct{}
	next    int // round-robin position
	now     func() time.Time
	client  *http.Client // for providers' public endpoints
	// firstSeen is when a model file was first announced: its "created"
	// in GET /v1/models.
	firstSeen map[types.Hash]time.Time
	chain     string // the chain's id, once read (vouchers are signed for it)
	// pollTokens are the providers' poll tokens (HeaderPollToken), one
	// per provider: pollTokenOf finds a provider's.
	pollTokens  map[string]pollToken
	pollTokenOf map[types.Address]string
}

type pollToken struct {
	addr    types.Address
	expires time.Time
}

// issuePollToken returns a provider's poll token, good for at least half
// of life: the one it has, or a new one for life (which replaces it).
func (h *Hub) issuePollToken(addr types.Address, life time.Duration) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if t, ok := h.pollTokenOf[addr]; ok {
		if now.Add(life / 2).Before(h.pollTokens[t].expires) {
			return t
		}
		delete(h.pollTokens, t)
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand's Read does not fail
	token := hex.EncodeToString(b[:])
	if h.pollTokens == nil {
		h.pollTokens, h.pollTokenOf = map[string]pollToken{}, map[types.Address]string{}
	}
	h.pollTokens[token] = pollToken{addr: addr, expires: now.Add(life)}
	h.pollTokenOf[addr] = token
	return token
}

// pollTokenAddr returns the provider a poll token was given to, if it has
// not expired.
func (h *Hub) pollTokenAddr(token string) (types.Address, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.pollTokens[token]
	if !ok || !h.now().Before(p.expires) {
		return types.Address{}, false
	}
	return p.addr, true
}

// served is one provider's announcement and its waiting polls.
type served struct {
	addr      types.Address
	publicURL string // where tasks go straight to the provider, if set
	models    []inference.ModelInfo
	idle      int // polls waiting
	ch        chan *task
	lastSeen  time.Time
}

// task is a request in flight.
type task struct {
	inference.Task
	provider types.Address
	events   chan inference.Event
	ctx      context.Context
	claimed  bool // a provider is streaming its answer
}

// Liveness is how long after its last poll a provider's models stay
// listed.
const Liveness = 60 * time.Second

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{providers: map[types.Address]*served{}, tasks: map[string]*task{}, arrived: make(chan struct{}), now: time.Now,
		client:    &http.Client{},
		firstSeen: map[types.Hash]time.Time{}}
}

// Errors the hub returns.
var (
	errNoProvider = errors.New("no provider serves this model")
	errBusy       = errors.New("every provider of this model is busy")
	errPayeeGone  = errors.New("the channel's payee no longer serves this model")
)

// wait is a provider's poll: it announces models and waits up to d for a
// task. It returns nil when none came.
func (h *Hub) wait(ctx context.Context, addr types.Address, models []inference.ModelInfo, publicURL string, d time.Duration) *task {
	h.mu.Lock()
	p := h.providers[addr]
	if p == nil {
		p = &served{addr: addr, ch: make(chan *task)}
		h.providers[addr] = p
	}
	p.models, p.lastSeen, p.publicURL = models, h.now(), publicURL
	for _, m := range models {
		if _, ok := h.firstSeen[m.Hash]; !ok {
			h.firstSeen[m.Hash] = p.lastSeen
		}
	}
	p.idle++
	close(h.arrived)
	h.arrived = make(chan struct{})
	h.mu.Unlock()

	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case t := <-p.ch:
		return t
	case <-ctx.Done():
	case <-timer.C:
	}
	h.mu.Lock()
	p.lastSeen = h.now()
	if p.idle > 0 {
		p.idle--
		h.mu.Unlock()
		return nil
	}
	// A request claimed this poll's slot just now and is sending: take it.
	h.mu.Unlock()
	t := <-p.ch
	if ctx.Err() != nil {
		// The provider is gone: the task goes back to its requester as a
		// failure to retry.
		t.events <- inference.Event{Error: &inference.Error{Status: 503, Type: inference.TypeUnavailable, Message: "the provider disconnected; try again"}}
		h.finish(t.ID)
		return nil
	}
	return t
}

// candidates returns the live providers of model a request may go to,
// in a stable order: the route's payee, or those that serve it free.
func (h *Hub) candidates(model types.Hash, rt route) []*served {
	var out []*served
	cutoff := h.now().Add(-Liveness)
	for _, p := range h.providers {
		if p.idle == 0 && p.lastSeen.Before(cutoff) {
			continue
		}
		if rt.payee != nil && p.addr != *rt.payee {
			continue
		}
		for _, m := range p.models {
			if m.Hash == model && (rt.payee != nil || m.PricePerToken == 0) {
				out = append(out, p)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b *served) int { return compareAddr(a.addr, b.addr) })
	return out
}

func compareAddr(a, b types.Address) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// dispatch hands req to a provider of its model that rt allows, waiting
// up to maxWait while all are busy, and returns the task whose events
// carry the answer. ctx is the client's request: its end tells the
// provider to stop.
func (h *Hub) dispatch(ctx context.Context, req inference.Request, stream bool, maxWait time.Duration, rt route) (*task, error) {
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	var id [32]byte // the task's id and its token
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	t := &task{Task: inference.Task{ID: hex.EncodeToString(id[:16]), Token: hex.EncodeToString(id[16:]), Request: req, Stream: stream, Voucher: rt.voucher},
		events: make(chan inference.Event, 64), ctx: ctx}
	for {
		h.mu.Lock()
		cands := h.candidates(req.Model, rt)
		if len(cands) == 0 {
			h.mu.Unlock()
			if rt.payee != nil {
				return nil, fmt.Errorf("%w: %s", errPayeeGone, *rt.payee)
			}
			return nil, errNoProvider
		}
		for i := range cands {
			p := cands[(h.next+i)%len(cands)]
			if p.publicURL != "" {
				// Straight to the provider's own endpoint: no poll needed.
				h.next++
				t.provider, t.claimed = p.addr, true
				h.tasks[t.ID] = t
				h.mu.Unlock()
				go h.direct(t, p.publicURL)
				return t, nil
			}
			if p.idle == 0 {
				continue
			}
			h.next++
			p.idle--
			t.provider = p.addr
			h.tasks[t.ID] = t
			h.mu.Unlock()
			p.ch <- t // the poll is waiting, or takes it on its way out
			return t, nil
		}
		arrived := h.arrived
		h.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return nil, errBusy
		}
	}
}

// claim returns the task a provider streams its answer for, once.
func (h *Hub) claim(id string, provider types.Address) (*task, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.tasks[id]
	if t == nil || t.claimed || t.provider != provider {
		return nil, false
	}
	t.claimed = true
	return t, true
}

// claimByToken is claim for an answer that presents the task's token.
func (h *Hub) claimByToken(id, token string) (*task, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.tasks[id]
	if t == nil || t.claimed || subtle.ConstantTimeCompare([]byte(t.Token), []byte(token)) != 1 {
		return nil, false
	}
	t.claimed = true
	return t, true
}

// finish forgets a task.
func (h *Hub) finish(id string) {
	h.mu.Lock()
	delete(h.tasks, id)
	h.mu.Unlock()
}

// Models lists the models live providers serve: one entry per file, with
// the number of providers serving it.
func (h *Hub) Models() []ServedModel {
	h.mu.Lock()
	defer h.mu.Unlock()
	byHash := map[types.Hash]*ServedModel{}
	cutoff := h.now().Add(-Liveness)
	for _, p := range h.providers {
		if p.idle == 0 && p.lastSeen.Before(cutoff) {
			continue
		}
		for _, m := range p.models {
			s := byHash[m.Hash]
			if s == nil {
				s = &ServedModel{ModelInfo: m, Since: h.firstSeen[m.Hash]}
				byHash[m.Hash] = s
			}
			s.Providers++
			s.Offers = append(s.Offers, inference.Offer{Provider: p.addr, PricePerToken: m.PricePerToken})
		}
	}
	out := make([]ServedModel, 0, len(byHash))
	for _, s := range byHash {
		// Cheapest first; among equals, by address.
		slices.SortFunc(s.Offers, func(a, b inference.Offer) int {
			if a.PricePerToken != b.PricePerToken {
				if a.PricePerToken < b.PricePerToken {
					return -1
				}
				return 1
			}
			return compareAddr(a.Provider, b.Provider)
		})
		s.PricePerToken = s.Offers[0].PricePerToken
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ServedModel) int {
		if a.ID != b.ID {
			if a.ID < b.ID {
				return -1
			}
			return 1
		}
		return slices.Compare(a.Hash[:], b.Hash[:])
	})
	return out
}

// ServedModel is a model and how many live providers serve it. Its
// PricePerToken is the lowest of Offers, one per provider, cheapest
// first.
type ServedModel struct {
	inference.ModelInfo
	Providers int
	Offers    []inference.Offer
	Since     time.Time // first announced to this node
}

// offer returns a provider's offer of the model.
func (m ServedModel) offer(a types.Address) (inference.Offer, bool) {
	for _, o := range m.Offers {
		if o.Provider == a {
			return o, true
		}
	}
	return inference.Offer{}, false
}

// resolve finds the file a request's model names: a name clients use, or
// the file's sha256 in hex.
func (h *Hub) resolve(name string) (ServedModel, error) {
	models := h.Models()
	var found []ServedModel
	for _, m := range models {
		if m.ID == name || m.Hash.String() == name {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return ServedModel{}, errNoProvider
	case 1:
		return found[0], nil
	}
	return ServedModel{}, errAmbiguous
}

var errAmbiguous = errors.New("several model files have this name: name one by its sha256")

// direct posts a task to a provider's public endpoint and relays the
// events it streams back, as the answer route does for polled tasks.
func (h *Hub) direct(t *task, publicURL string) {
	fail := func(msg string) {
		select {
		case t.events <- inference.Event{Error: &inference.Error{Status: 502, Type: inference.TypeServer,
			Message: fmt.Sprintf("provider %s at %s: %s", t.provider, publicURL, msg)}}:
		case <-t.ctx.Done():
		}
	}
	body, _ := json.Marshal(t.Task)
	req, err := http.NewRequestWithContext(t.ctx, http.MethodPost, publicURL+"/v1/serve/run", bytes.NewReader(body))
	if err != nil {
		fail(err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		fail("unreachable: " + err.Error())
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail("answered " + resp.Status)
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var ev inference.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			fail("a malformed event")
			return
		}
		select {
		case t.events <- ev:
		case <-t.ctx.Done():
			return
		}
		if ev.Final != nil || ev.Error != nil {
			return
		}
	}
	fail("the answer ended early")
}
