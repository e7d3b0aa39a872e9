package api

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/blobstore"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/types"
)

// Backend is what the API needs from a node.
type Backend interface {
	Status(ctx context.Context) (Status, error)
	Account(ctx context.Context, addr types.Address, prove bool) (app.AccountState, error)
	SubmitTx(ctx context.Context, raw []byte) (SubmitResult, error)
	Tx(ctx context.Context, hash types.Hash) (TxResult, error)
	Params(ctx context.Context) (app.Params, error)
	Validators(ctx context.Context) ([]stake.ActiveValidator, error)
	Supply(ctx context.Context) (app.Supply, error)
	Block(ctx context.Context, height int64) (Block, error)
	Providers(ctx context.Context, after types.Address, limit int) ([]app.ProviderInfo, error)
	Provider(ctx context.Context, addr types.Address) (app.ProviderInfo, error)
	Jobs(ctx context.Context, f compute.JobFilter) ([]*compute.Job, error)
	Job(ctx context.Context, id uint64) (*compute.Job, error)
	// Group returns a verified job's group: its runs, referees, claims
	// and verdict.
	Group(ctx context.Context, id uint64) (*compute.Group, error)
	// Work waits until the chain is past afterHeight (or wait passes) and
	// returns the provider's open jobs.
	Work(ctx context.Context, provider types.Address, afterHeight int64, wait time.Duration) (Work, error)
	// FetchBlob brings a blob this node lacks from its peers.
	FetchBlob(ctx context.Context, h types.Hash) error
	// AccountExists says whether an address has an account on chain.
	AccountExists(addr types.Address) bool
	// RegistryModel reads a registered model (ErrNotFound if none);
	// RegistryModels lists them.
	RegistryModel(ctx context.Context, h types.Hash) (*model.Model, error)
	RegistryModels(ctx context.Context, f model.Filter) ([]*model.Model, error)
	// Channel reads a payment channel with its lanes (ErrNotFound if
	// none); Channels lists them.
	Channel(ctx context.Context, id uint64) (*paych.Channel, error)
	Channels(ctx context.Context, f paych.Filter) ([]*paych.Channel, error)
	// AgentRegistry serves the agent registry and discovery (agents.go).
	AgentRegistry
}

// BlobStore is what the API needs from the blob store.
type BlobStore interface {
	Put(r io.Reader, up blobstore.Upload, now time.Time, exists func(types.Address) bool) (types.Hash, int64, error)
	Open(h types.Hash) (*os.File, int64, error)
	Options() blobstore.Options
}

// Headers of a signed blob upload.
const (
	HeaderPubKey    = "X-Mycel-Pubkey"
	HeaderExpires   = "X-Mycel-Expires"
	HeaderSignature = "X-Mycel-Signature"
)

// Config configures the handler.
type Config struct {
	Backend  Backend
	Blobs    BlobStore
	Gatherer prometheus.Gatherer
	// Registerer receives the API's own request metrics; nil for none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
	// Hub connects the OpenAI-compatible routes with the providers that
	// serve models; nil makes a hub of the handler's own.
	Hub *Hub
	// Messaging serves the agents' mailboxes and the A2A relay
	// (agentmsg.go); nil for none.
	Messaging *Messaging
}

type server struct {
	Config
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	msg      *messenger
}

// Handler returns the API's HTTP handler.
func Handler(c Config) http.Handler {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Hub == nil {
		c.Hub = NewHub()
	}
	s := &server{Config: c,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mycel_api_requests_total",
			Help: "API requests by route and status."}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mycel_api_request_seconds",
			Help: "API request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
	}
	if c.Registerer != nil {
		c.Registerer.MustRegister(s.requests, s.latency)
	}
	mux := http.NewServeMux()
	s.route(mux, "GET /v1/status", s.status)
	s.route(mux, "GET /v1/accounts/{addr}", s.account)
	s.route(mux, "POST /v1/txs", s.submitTx)
	s.route(mux, "GET /v1/txs/{hash}", s.getTx)
	s.route(mux, "GET /v1/params", s.params)
	s.route(mux, "GET /v1/validators", s.validators)
	s.route(mux, "GET /v1/supply", s.supply)
	s.route(mux, "GET /v1/blocks/{height}", s.block)
	s.route(mux, "GET /v1/providers", s.providers)
	s.route(mux, "GET /v1/providers/{addr}", s.provider)
	s.route(mux, "GET /v1/providers/{addr}/work", s.work)
	s.route(mux, "GET /v1/jobs", s.jobs)
	s.route(mux, "GET /v1/jobs/{id}", s.job)
	s.route(mux, "GET /v1/jobs/{id}/verification", s.verification)
	s.route(mux, "PUT /v1/blobs", s.putBlob)
	s.route(mux, "GET /v1/blobs/{hash}", s.getBlob)
	s.route(mux, "HEAD /v1/blobs/{hash}", s.getBlob)
	s.route(mux, "GET /v1/registry/models", s.registryModels)
	s.route(mux, "GET /v1/registry/models/{hash}", s.registryModel)
	s.route(mux, "GET /v1/channels", s.channels)
	s.route(mux, "GET /v1/channels/{id}", s.channel)
	s.routeOpenAI(mux, "GET /v1/models", s.models)
	s.routeOpenAI(mux, "GET /v1/models/{model}", s.model)
	s.routeOpenAI(mux, "POST /v1/chat/completions", s.chat)
	s.routeOpenAI(mux, "POST /v1/completions", s.completion)
	s.route(mux, "POST /v1/serve/pull", s.pull)
	s.route(mux, "POST /v1/serve/tasks/{id}", s.answer)
	if c.Messaging != nil {
		s.msg = newMessenger(*c.Messaging, c.Now)
	}
	s.agentRoutes(mux)
	s.registryRoutes(mux)
	if c.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(c.Gatherer, promhttp.HandlerOpts{}))
	}
	s.route(mux, "GET /{$}", s.index)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no route %s %s; see GET / for the list", ErrNotFound, r.Method, r.URL.Path))
	})
	return mux
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *server) route(mux *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		if err := h(rec, r); err != nil {
			writeError(rec, err)
		}
		s.requests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
		s.latency.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
	})
}

// routeOpenAI registers an OpenAI-compatible handler, which writes its
// own errors in OpenAI's shape.
func (s *server) routeOpenAI(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	s.route(mux, pattern, func(w http.ResponseWriter, r *http.Request) error {
		h(w, r)
		return nil
	})
}

var routes = []string{
	"GET  /v1/status", "GET  /v1/accounts/{address}?prove=true", "POST /v1/txs", "GET  /v1/txs/{hash}",
	"GET  /v1/params", "GET  /v1/validators", "GET  /v1/supply", "GET  /v1/blocks/{height}",
	"GET  /v1/providers", "GET  /v1/providers/{address}", "GET  /v1/providers/{address}/work?after_height=H&wait=30s",
	"GET  /v1/jobs?client=&provider=&state=&after=&limit=", "GET  /v1/jobs/{id}", "GET  /v1/jobs/{id}/verification", "PUT  /v1/blobs", "GET  /v1/blobs/{sha256}", "GET  /metrics",
	"GET  /v1/registry/models?name=&owner=&after=&limit=", "GET  /v1/registry/models/{sha256}",
	"GET  /v1/channels?payer=&payee=&after=&limit=", "GET  /v1/channels/{id}",
	"GET  /v1/models", "GET  /v1/models/{model}", "POST /v1/chat/completions", "POST /v1/completions",
	"POST /v1/serve/pull (providers)", "POST /v1/serve/tasks/{id} (providers)",
}

func (s *server) index(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"service": "mycel", "routes": append(append(routes[:len(routes):len(routes)], registryRouteList...), messagingRoutes...)})
	return nil
}

func (s *server) status(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Backend.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) account(w http.ResponseWriter, r *http.Request) error {
	a, err := types.ParseAddress(r.PathValue("addr"))
	if err != nil {
		return badRequest("%v", err)
	}
	prove, _ := strconv.ParseBool(r.URL.Query().Get("prove"))
	st, err := s.Backend.Account(r.Context(), a, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// submitTx takes the raw transaction as the body (application/octet-stream)
// or JSON {"tx": base64}.
func (s *server) submitTx(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		return badRequest("read body: %v", err)
	}
	raw := body
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req struct {
			Tx string `json:"tx"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return badRequest("want {\"tx\": base64}: %v", err)
		}
		if raw, err = base64.StdEncoding.DecodeString(req.Tx); err != nil {
			return badRequest("tx is not base64: %v", err)
		}
	}
	if len(raw) == 0 {
		return badRequest("empty transaction")
	}
	res, err := s.Backend.SubmitTx(r.Context(), raw)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *server) getTx(w http.ResponseWriter, r *http.Request) error {
	h, err := types.ParseHash(strings.ToLower(r.PathValue("hash")))
	if err != nil {
		return badRequest("%v", err)
	}
	res, err := s.Backend.Tx(r.Context(), h)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *server) params(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Backend.Params(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *server) validators(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Backend.Validators(r.Context())
	if err != nil {
		return err
	}
	if v == nil {
		v = []stake.ActiveValidator{}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) supply(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Backend.Supply(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) block(w http.ResponseWriter, r *http.Request) error {
	h, err := strconv.ParseInt(r.PathValue("height"), 10, 64)
	if err != nil || h < 1 {
		return badRequest("height %q: want a positive integer", r.PathValue("height"))
	}
	b, err := s.Backend.Block(r.Context(), h)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func queryInt(r *http.Request, key string, def int64) (int64, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("%s=%q: want a non-negative integer", key, v)
	}
	return n, nil
}

func queryAddr(r *http.Request, key string) (*types.Address, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return nil, nil
	}
	a, err := types.ParseAddress(v)
	if err != nil {
		return nil, badRequest("%s: %v", key, err)
	}
	return &a, nil
}

func (s *server) providers(w http.ResponseWriter, r *http.Request) error {
	after, err := queryAddr(r, "after")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	var a types.Address
	if after != nil {
		a = *after
	}
	ps, err := s.Backend.Providers(r.Context(), a, int(min(limit, 1000)))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

func (s *server) provider(w http.ResponseWriter, r *http.Request) error {
	a, err := types.ParseAddress(r.PathValue("addr"))
	if err != nil {
		return badRequest("%v", err)
	}
	p, err := s.Backend.Provider(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *server) work(w http.ResponseWriter, r *http.Request) error {
	a, err := types.ParseAddress(r.PathValue("addr"))
	if err != nil {
		return badRequest("%v", err)
	}
	after, err := queryInt(r, "after_height", 0)
	if err != nil {
		return err
	}
	wait := time.Duration(0)
	if v := r.URL.Query().Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 {
			return badRequest("wait=%q: want a duration such as 30s", v)
		}
	}
	work, err := s.Backend.Work(r.Context(), a, after, min(wait, 60*time.Second))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, work)
	return nil
}

func (s *server) jobs(w http.ResponseWriter, r *http.Request) error {
	var f compute.JobFilter
	var err error
	if f.Client, err = queryAddr(r, "client"); err != nil {
		return err
	}
	if f.Provider, err = queryAddr(r, "provider"); err != nil {
		return err
	}
	if v := r.URL.Query().Get("state"); v != "" {
		if f.State, err = compute.ParseState(v); err != nil {
			return badRequest("%v", err)
		}
	}
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	f.After, f.Limit = uint64(after), int(min(max(limit, 1), 1000))
	js, err := s.Backend.Jobs(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, js)
	return nil
}

func (s *server) job(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return badRequest("job id %q: want a number", r.PathValue("id"))
	}
	j, err := s.Backend.Job(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *server) verification(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return badRequest("job id %q: want a number", r.PathValue("id"))
	}
	// A dispute's id names its group and no job; any run's id names the
	// run's group.
	g, err := s.Backend.Group(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		j, jerr := s.Backend.Job(r.Context(), id)
		if jerr != nil {
			return jerr
		}
		if j.Group == 0 {
			return fmt.Errorf("%w: job %d was submitted without verification", ErrNotFound, id)
		}
		g, err = s.Backend.Group(r.Context(), j.Group)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (s *server) putBlob(w http.ResponseWriter, r *http.Request) error {
	if s.Blobs == nil {
		return fmt.Errorf("%w: this node keeps no blobs", ErrUnavailable)
	}
	max := s.Blobs.Options().MaxBlobBytes
	if r.ContentLength > max {
		return fmt.Errorf("%w: %d bytes declared, the limit is %d", blobstore.ErrTooLarge, r.ContentLength, max)
	}
	pub, err := hex.DecodeString(r.Header.Get(HeaderPubKey))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: header %s must hold the uploader's ed25519 public key in hex", blobstore.ErrBadSignature, HeaderPubKey)
	}
	sig, err := hex.DecodeString(r.Header.Get(HeaderSignature))
	if err != nil {
		return fmt.Errorf("%w: header %s must be hex", blobstore.ErrBadSignature, HeaderSignature)
	}
	exp, err := strconv.ParseInt(r.Header.Get(HeaderExpires), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: header %s must be unix seconds", blobstore.ErrBadSignature, HeaderExpires)
	}
	h, n, err := s.Blobs.Put(r.Body, blobstore.Upload{PubKey: pub, Expires: exp, Signature: sig}, s.Now(), s.Backend.AccountExists)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, BlobResult{SHA256: h, Size: n})
	return nil
}

func (s *server) getBlob(w http.ResponseWriter, r *http.Request) error {
	if s.Blobs == nil {
		return fmt.Errorf("%w: this node keeps no blobs", ErrUnavailable)
	}
	h, err := types.ParseHash(strings.ToLower(r.PathValue("hash")))
	if err != nil {
		return badRequest("%v", err)
	}
	f, _, err := s.Blobs.Open(h)
	if errors.Is(err, blobstore.ErrNotFound) && r.URL.Query().Get("local") == "" {
		// Fetch through from the peers; ?local=1 (what peers ask each
		// other) never fetches, so requests cannot loop.
		if ferr := s.Backend.FetchBlob(r.Context(), h); ferr == nil {
			f, _, err = s.Blobs.Open(h)
		}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+h.String()+`"`)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}
