package api

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

// The OpenAI-compatible gateway: GET /v1/models, POST /v1/chat/completions
// and POST /v1/completions, answered by providers through the Hub; and
// the two routes providers serve through: POST /v1/serve/pull and POST
// /v1/serve/tasks/{id}.

// Limits of the gateway.
const (
	maxRequestBody = 2 << 20
	maxPullWait    = 30 * time.Second
	// dispatchWait is how long a request waits for a busy model's
	// provider before it gets 503.
	dispatchWait = 60 * time.Second
)

// serveDomain prefixes what a provider signs to poll or answer.
const serveDomain = "mycel/serve/v1\x00"

// ServeSignBytes are the bytes a provider signs for a serve request: the
// method, the path and the expiry (unix seconds).
func ServeSignBytes(method, path string, expires int64) []byte {
	b := []byte(serveDomain + method + " " + path + "\x00")
	return binary.BigEndian.AppendUint64(b, uint64(expires))
}

// SignServe sets the headers that authenticate a serve request.
func SignServe(h http.Header, key ed25519.PrivateKey, method, path string, expires time.Time) {
	pub := key.Public().(ed25519.PublicKey)
	h.Set(HeaderPubKey, hex.EncodeToString(pub))
	h.Set(HeaderExpires, strconv.FormatInt(expires.Unix(), 10))
	h.Set(HeaderSignature, hex.EncodeToString(ed25519.Sign(key, ServeSignBytes(method, path, expires.Unix()))))
}

// HeaderPollToken carries a provider's poll token: the node gives one with
// its answer to a signed poll, and the provider's later polls present it
// instead of a signature, for pollTokenLife. Like a signed request (which
// may be replayed until it expires), it is a bearer credential: what it
// opens is a poll for that provider's work, whose answers are bound to
// the provider by their signed receipts.
const HeaderPollToken = "X-Mycel-Poll-Token"

// pollTokenLife is how long a poll token stands in for a signature.
const pollTokenLife = 10 * time.Minute

// PullRequest is the body of POST /v1/serve/pull.
type PullRequest struct {
	Models []inference.ModelInfo `json:"models"`
	// PublicURL, if set, is where the provider serves POST
	// {PublicURL}/v1/serve/run: the node then posts tasks straight there.
	PublicURL string `json:"public_url,omitempty"`
	// WaitSeconds is how long to hold the poll open (at most 30).
	WaitSeconds int `json:"wait_seconds"`
}

func openAIError(w http.ResponseWriter, e *inference.Error) {
	writeJSON(w, e.Status, inference.ErrorResponse{Error: e, Payment: e.Payment})
}

// serveAuth checks a provider's signed serve request and that the key is
// a registered provider that is not jailed.
func (s *server) serveAuth(r *http.Request) (types.Address, error) {
	pub, err := hex.DecodeString(r.Header.Get(HeaderPubKey))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return types.Address{}, fmt.Errorf("%w: header %s must hold the provider's ed25519 public key in hex", errUnauthorized, HeaderPubKey)
	}
	sig, err := hex.DecodeString(r.Header.Get(HeaderSignature))
	if err != nil {
		return types.Address{}, fmt.Errorf("%w: header %s must be hex", errUnauthorized, HeaderSignature)
	}
	exp, err := strconv.ParseInt(r.Header.Get(HeaderExpires), 10, 64)
	if err != nil {
		return types.Address{}, fmt.Errorf("%w: header %s must be unix seconds", errUnauthorized, HeaderExpires)
	}
	now := s.Now()
	if exp < now.Unix() || exp > now.Add(5*time.Minute).Unix() {
		return types.Address{}, fmt.Errorf("%w: the signature expires at %d; sign for the next few minutes (clock skew?)", errUnauthorized, exp)
	}
	if !types.VerifySignature(pub, ServeSignBytes(r.Method, r.URL.Path, exp), sig) {
		return types.Address{}, fmt.Errorf("%w: the signature does not match %s %s", errUnauthorized, r.Method, r.URL.Path)
	}
	addr := types.AddressFromPubKey(pub)
	return addr, s.checkProvider(r.Context(), addr)
}

// checkProvider checks that addr is a registered provider that is not
// jailed.
func (s *server) checkProvider(ctx context.Context, addr types.Address) error {
	info, err := s.Backend.Provider(ctx, addr)
	if err != nil {
		return fmt.Errorf("%w: %s is not a registered provider: register with mycel provider register (%v)", errForbidden, addr, err)
	}
	if info.Retired || info.Jailed {
		return fmt.Errorf("%w: provider %s is deregistered or jailed", errForbidden, addr)
	}
	return nil
}

// pollAuth authenticates a poll by its poll token, or by its signature,
// and then gives it a token for its next polls.
func (s *server) pollAuth(w http.ResponseWriter, r *http.Request) (types.Address, error) {
	if token := r.Header.Get(HeaderPollToken); token != "" {
		addr, ok := s.Hub.pollTokenAddr(token)
		if !ok {
			return addr, fmt.Errorf("%w: the poll token is unknown or expired; sign the poll (%s) for a new one", errUnauthorized, HeaderSignature)
		}
		return addr, s.checkProvider(r.Context(), addr)
	}
	addr, err := s.serveAuth(r)
	if err != nil {
		return addr, err
	}
	w.Header().Set(HeaderPollToken, s.Hub.issuePollToken(addr, pollTokenLife))
	return addr, nil
}

var (
	errUnauthorized = errors.New("unauthorized")
	errForbidden    = errors.New("forbidden")
)

// pull is POST /v1/serve/pull: a provider's long poll for work.
func (s *server) pull(w http.ResponseWriter, r *http.Request) error {
	addr, err := s.pollAuth(w, r)
	if err != nil {
		return err
	}
	var req PullRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return badRequest("pull body: %v", err)
	}
	if len(req.Models) == 0 || len(req.Models) > 64 {
		return badRequest("announce 1 to 64 models, not %d", len(req.Models))
	}
	for _, m := range req.Models {
		if m.ID == "" || len(m.ID) > 128 || m.Context <= 0 {
			return badRequest("model %q: an id of 1 to 128 bytes and a positive context length", m.ID)
		}
	}
	if req.PublicURL != "" {
		u, err := url.Parse(req.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return badRequest("public_url %q: an http(s) URL such as https://provider.example:8845", req.PublicURL)
		}
	}
	wait := min(time.Duration(max(req.WaitSeconds, 1))*time.Second, maxPullWait)
	t := s.Hub.wait(r.Context(), addr, req.Models, strings.TrimRight(req.PublicURL, "/"), wait)
	if t == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, t.Task)
	return nil
}

// answer is POST /v1/serve/tasks/{id}: the provider streams a task's
// events as newline-delimited JSON. It presents the task's token, or
// signs like a poll (providers from before tokens).
func (s *server) answer(w http.ResponseWriter, r *http.Request) error {
	var t *task
	if token := r.Header.Get(inference.HeaderTaskToken); token != "" {
		var ok bool
		if t, ok = s.Hub.claimByToken(r.PathValue("id"), token); !ok {
			return fmt.Errorf("%w: no task %s waits for an answer with this token", ErrNotFound, r.PathValue("id"))
		}
	} else {
		addr, err := s.serveAuth(r)
		if err != nil {
			return err
		}
		var ok bool
		if t, ok = s.Hub.claim(r.PathValue("id"), addr); !ok {
			return fmt.Errorf("%w: no task %s waits for an answer from %s", ErrNotFound, r.PathValue("id"), addr)
		}
	}
	send := func(ev inference.Event) error {
		select {
		case t.events <- ev:
			return nil
		case <-t.ctx.Done():
			return fmt.Errorf("%w: the client went away", ErrConflict)
		}
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var ev inference.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			_ = send(inference.Event{Error: &inference.Error{Status: 502, Type: inference.TypeServer, Message: "the provider sent a malformed event"}})
			return badRequest("event: %v", err)
		}
		if err := send(ev); err != nil {
			return err
		}
		if ev.Final != nil || ev.Error != nil {
			// The client's handler, just woken by the last event, relays
			// it first: this goroutine's own reply to the provider can
			// wait (0.05 ms sooner to the client on this machine).
			runtime.Gosched()
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	_ = send(inference.Event{Error: &inference.Error{Status: 502, Type: inference.TypeServer, Message: "the provider ended its answer early"}})
	if err := sc.Err(); err != nil {
		return badRequest("answer stream: %v", err)
	}
	return badRequest("the answer ended without a final event")
}

// models is GET /v1/models.
func (s *server) models(w http.ResponseWriter, r *http.Request) {
	list := inference.ModelList{Object: "list", Data: []inference.ModelObject{}}
	for _, m := range s.Hub.Models() {
		list.Data = append(list.Data, s.modelObject(r.Context(), m))
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *server) modelObject(ctx context.Context, m ServedModel) inference.ModelObject {
	o := inference.ModelObject{ID: m.ID, Object: "model", Created: m.Since.Unix(), OwnedBy: "mycel", Mycel: inference.ModelDetail{
		Hash: m.Hash.String(), Context: m.Context, Engine: m.Engine, Deterministic: m.Deterministic, Providers: m.Providers,
		PricePerToken: m.PricePerToken, Offers: m.Offers}}
	if reg, err := s.Backend.RegistryModel(ctx, m.Hash); err == nil && reg != nil {
		o.OwnedBy, o.Mycel.Registered, o.Mycel.License = reg.Owner.String(), true, reg.License
	}
	return o
}

// model is GET /v1/models/{model}.
func (s *server) model(w http.ResponseWriter, r *http.Request) {
	m, err := s.Hub.resolve(r.PathValue("model"))
	if err != nil {
		openAIError(w, modelError(r.PathValue("model"), err))
		return
	}
	writeJSON(w, http.StatusOK, s.modelObject(r.Context(), m))
}

func modelError(name string, err error) *inference.Error {
	if errors.Is(err, errAmbiguous) {
		return &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Param: "model", Code: "model_ambiguous",
			Message: fmt.Sprintf("model %q: %v; GET /v1/models lists them", name, err)}
	}
	return &inference.Error{Status: 404, Type: inference.TypeInvalidRequest, Param: "model", Code: "model_not_found",
		Message: fmt.Sprintf("the model %q does not exist or no provider serves it now; GET /v1/models lists those served", name)}
}

func drawSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) >> 1 // fits OpenAI's int64 seed
}

// decodeOpenAI reads a JSON request body into v.
func decodeOpenAI(r *http.Request, v any) *inference.Error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Message: "reading the body: " + err.Error()}
	}
	if len(body) > maxRequestBody {
		return &inference.Error{Status: 413, Type: inference.TypeInvalidRequest, Message: fmt.Sprintf("the request is over %d bytes", maxRequestBody)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Message: "the body is not a valid request: " + err.Error()}
	}
	return nil
}

// exchange is one request through the hub: the task, the first event and
// a way to read the rest.
type exchange struct {
	hub   *Hub
	t     *task
	model ServedModel
	req   inference.Request
}

// start resolves the model, normalizes the request, routes it by its
// payment headers (r's) and dispatches it, and waits for its first event
// so an error can still be an HTTP status.
func (s *server) start(ctx context.Context, r *http.Request, name string, stream bool, normalize func(types.Hash) (inference.Request, *inference.Error)) (*exchange, inference.Event, *inference.Error) {
	if name == "" {
		return nil, inference.Event{}, &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Param: "model", Message: "model is required; GET /v1/models lists them"}
	}
	m, err := s.Hub.resolve(name)
	if err != nil {
		return nil, inference.Event{}, modelError(name, err)
	}
	req, e := normalize(m.Hash)
	if e != nil {
		return nil, inference.Event{}, e
	}
	if req.MaxTokens > m.Context {
		return nil, inference.Event{}, &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Param: "max_tokens", Code: "context_length_exceeded",
			Message: fmt.Sprintf("max_tokens %d is over the model's context length of %d", req.MaxTokens, m.Context)}
	}
	rt, e := s.payRoute(ctx, m, &req, r.Header.Get(inference.HeaderVoucher), r.Header.Get(inference.HeaderChannel))
	if e != nil {
		return nil, inference.Event{}, e
	}
	t, err := s.Hub.dispatch(ctx, req, stream, dispatchWait, rt)
	if err != nil {
		if errors.Is(err, errNoProvider) {
			return nil, inference.Event{}, modelError(name, err)
		}
		return nil, inference.Event{}, &inference.Error{Status: 503, Type: inference.TypeUnavailable, Message: err.Error() + "; try again"}
	}
	x := &exchange{hub: s.Hub, t: t, model: m, req: req}
	ev, e := x.next(ctx)
	if e != nil {
		x.close()
		return nil, ev, e
	}
	return x, ev, nil
}

// next returns the next event, an error event as an error.
func (x *exchange) next(ctx context.Context) (inference.Event, *inference.Error) {
	select {
	case ev := <-x.t.events:
		if ev.Error != nil {
			if ev.Error.Status < 400 || ev.Error.Status > 599 {
				ev.Error.Status = 502
			}
			if ev.Error.Status == http.StatusPaymentRequired {
				ev.Error.Payment = ev.Payment
			}
			return ev, ev.Error
		}
		return ev, nil
	case <-ctx.Done():
		return inference.Event{}, &inference.Error{Status: 499, Type: inference.TypeServer, Message: "the request was cancelled"}
	case <-time.After(5 * time.Minute):
		return inference.Event{}, &inference.Error{Status: 504, Type: inference.TypeServer, Message: "the provider stopped answering"}
	}
}

func (x *exchange) close() { x.hub.finish(x.t.ID) }

// check verifies the provider's final event against what the gateway
// saw: a receipt signed by the provider it chose, over this request, this
// model and exactly this output.
func (x *exchange) check(f *inference.Final, text string) *inference.Error {
	r := &f.Receipt
	bad := func(what string) *inference.Error {
		return &inference.Error{Status: 502, Type: inference.TypeServer, Code: "bad_receipt",
			Message: fmt.Sprintf("provider %s returned a receipt that does not hold: %s", x.t.provider, what)}
	}
	switch {
	case r.Verify() != nil:
		return bad(r.Verify().Error())
	case r.Provider != x.t.provider:
		return bad("signed by another provider")
	case r.Model != x.req.Model:
		return bad("another model")
	case r.Request != x.req.Hash():
		return bad("another request")
	case r.Output != inference.OutputHash(text):
		return bad("another output")
	case r.Seed != x.req.Seed:
		return bad("another seed")
	}
	return nil
}

// collected is a whole answer.
type collected struct {
	text   string
	tokens []inference.TokenProb
	final  *inference.Final
}

// collect reads events to the end, starting with first.
func (x *exchange) collect(ctx context.Context, first inference.Event) (collected, *inference.Error) {
	var c collected
	var b strings.Builder
	ev := first
	for {
		b.WriteString(ev.Text)
		c.tokens = append(c.tokens, ev.Tokens...)
		if ev.Final != nil {
			c.text, c.final = b.String(), ev.Final
			return c, x.check(ev.Final, c.text)
		}
		var e *inference.Error
		if ev, e = x.next(ctx); e != nil {
			return c, e
		}
	}
}

func fingerprint(f *inference.Final) string { return f.Receipt.Runtime }

func usageOf(f *inference.Final) inference.Usage {
	return inference.Usage{PromptTokens: f.PromptTokens, CompletionTokens: f.CompletionTokens, TotalTokens: f.PromptTokens + f.CompletionTokens}
}

// openAIRequest is a chat or completion request.
type openAIRequest interface {
	Target() (model string, stream bool)
	Normalize(model types.Hash, draw func() uint64) (inference.Request, *inference.Error)
}

// begin decodes req from the body and starts it; when it cannot, it has
// written the error and returns false.
func (s *server) begin(w http.ResponseWriter, r *http.Request, req openAIRequest) (*exchange, inference.Event, bool) {
	if e := decodeOpenAI(r, req); e != nil {
		openAIError(w, e)
		return nil, inference.Event{}, false
	}
	model, stream := req.Target()
	x, first, e := s.start(r.Context(), r, model, stream, func(h types.Hash) (inference.Request, *inference.Error) { return req.Normalize(h, drawSeed) })
	if e != nil {
		openAIError(w, e)
		return nil, inference.Event{}, false
	}
	return x, first, true
}

// chat is POST /v1/chat/completions.
func (s *server) chat(w http.ResponseWriter, r *http.Request) {
	var req inference.ChatRequest
	x, first, ok := s.begin(w, r, &req)
	if !ok {
		return
	}
	defer x.close()
	id, created := "chatcmpl-"+x.t.ID, s.Now().Unix()
	if !req.Stream {
		c, e := x.collect(r.Context(), first)
		if e != nil {
			openAIError(w, e)
			return
		}
		content := c.text
		finish := c.final.Finish
		choice := inference.ChatChoice{Message: &inference.AnswerMsg{Role: "assistant", Content: &content}, FinishReason: &finish}
		if x.req.Logprobs {
			choice.Logprobs = chatLogprobs(c.tokens)
		}
		w.Header().Set(inference.HeaderReceipt, c.final.Receipt.Header())
		writeJSON(w, http.StatusOK, inference.ChatCompletion{ID: id, Object: "chat.completion", Created: created, Model: req.Model,
			Choices: []inference.ChatChoice{choice}, Usage: usageOf(c.final), SystemFingerprint: fingerprint(c.final),
			Receipt: &c.final.Receipt, Request: &x.req, Payment: c.final.Payment})
		return
	}
	sse := newSSE(w)
	chunk := func(choices []inference.ChatChoice) inference.ChatChunk {
		return inference.ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model, Choices: choices, SystemFingerprint: x.model.Engine}
	}
	empty := ""
	sse.send(chunk([]inference.ChatChoice{{Delta: &inference.AnswerMsg{Role: "assistant", Content: &empty}}}))
	s.stream(r.Context(), x, first, sse, func(ev inference.Event) any {
		text := ev.Text
		c := inference.ChatChoice{Delta: &inference.AnswerMsg{Content: &text}}
		if x.req.Logprobs {
			c.Logprobs = chatLogprobs(ev.Tokens)
		}
		return chunk([]inference.ChatChoice{c})
	}, func(f *inference.Final) []any {
		finish := f.Finish
		last := chunk([]inference.ChatChoice{{Delta: &inference.AnswerMsg{}, FinishReason: &finish}})
		last.Receipt, last.Request, last.Payment = &f.Receipt, &x.req, f.Payment
		out := []any{last}
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			u := usageOf(f)
			uc := chunk([]inference.ChatChoice{})
			uc.Usage = &u
			out = append(out, uc)
		}
		return out
	})
}

// completion is POST /v1/completions.
func (s *server) completion(w http.ResponseWriter, r *http.Request) {
	var req inference.CompletionRequest
	x, first, ok := s.begin(w, r, &req)
	if !ok {
		return
	}
	defer x.close()
	id, created := "cmpl-"+x.t.ID, s.Now().Unix()
	if !req.Stream {
		c, e := x.collect(r.Context(), first)
		if e != nil {
			openAIError(w, e)
			return
		}
		finish := c.final.Finish
		choice := inference.CompletionChoice{Text: c.text, FinishReason: &finish}
		if x.req.Logprobs {
			choice.Logprobs = completionLogprobs(c.tokens, 0)
		}
		u := usageOf(c.final)
		w.Header().Set(inference.HeaderReceipt, c.final.Receipt.Header())
		writeJSON(w, http.StatusOK, inference.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
			Choices: []inference.CompletionChoice{choice}, Usage: &u, SystemFingerprint: fingerprint(c.final),
			Receipt: &c.final.Receipt, Request: &x.req, Payment: c.final.Payment})
		return
	}
	sse := newSSE(w)
	offset := 0
	chunk := func(c inference.CompletionChoice) inference.Completion {
		return inference.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
			Choices: []inference.CompletionChoice{c}, SystemFingerprint: x.model.Engine}
	}
	s.stream(r.Context(), x, first, sse, func(ev inference.Event) any {
		c := inference.CompletionChoice{Text: ev.Text}
		if x.req.Logprobs {
			c.Logprobs = completionLogprobs(ev.Tokens, offset)
		}
		offset += len(ev.Text)
		return chunk(c)
	}, func(f *inference.Final) []any {
		finish := f.Finish
		last := chunk(inference.CompletionChoice{FinishReason: &finish})
		last.Receipt, last.Request, last.Payment = &f.Receipt, &x.req, f.Payment
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			u := usageOf(f)
			last.Usage = &u
		}
		return []any{last}
	})
}

// stream relays events as server-sent events, then the final chunks and
// [DONE]. An error after the stream began can no longer be a status: it
// goes out as an error event, as OpenAI's API does.
func (s *server) stream(ctx context.Context, x *exchange, first inference.Event, sse *sseWriter, piece func(inference.Event) any, final func(*inference.Final) []any) {
	var b strings.Builder
	ev := first
	for {
		if ev.Text != "" || len(ev.Tokens) > 0 {
			b.WriteString(ev.Text)
			sse.send(piece(ev))
		}
		if ev.Final != nil {
			if e := x.check(ev.Final, b.String()); e != nil {
				sse.send(inference.ErrorResponse{Error: e})
				return
			}
			for _, c := range final(ev.Final) {
				sse.send(c)
			}
			sse.done()
			return
		}
		var e *inference.Error
		if ev, e = x.next(ctx); e != nil {
			sse.send(inference.ErrorResponse{Error: e})
			return
		}
	}
}

type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &sseWriter{w: w, f: f}
}

func (s *sseWriter) send(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	if s.f != nil {
		s.f.Flush()
	}
}

func (s *sseWriter) done() {
	io.WriteString(s.w, "data: [DONE]\n\n")
	if s.f != nil {
		s.f.Flush()
	}
}

func chatLogprobs(tokens []inference.TokenProb) *inference.ChatLogprobs {
	lp := &inference.ChatLogprobs{Content: []inference.ChatTokenLogprob{}}
	for _, t := range tokens {
		bs := make([]int, len(t.Bytes))
		for i, c := range t.Bytes {
			bs[i] = int(c)
		}
		lp.Content = append(lp.Content, inference.ChatTokenLogprob{Token: string(t.Bytes), Logprob: t.Logprob, Bytes: bs, TopLogprobs: []inference.ChatTokenLogprob{}})
	}
	return lp
}

func completionLogprobs(tokens []inference.TokenProb, offset int) *inference.CompletionLogprobs {
	// top_logprobs stays null: the runtime reports the sampled token's
	// log probability, not the most likely alternatives.
	lp := &inference.CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []float32{}, TextOffset: []int{}}
	for _, t := range tokens {
		lp.Tokens = append(lp.Tokens, string(t.Bytes))
		lp.TokenLogprobs = append(lp.TokenLogprobs, t.Logprob)
		lp.TextOffset = append(lp.TextOffset, offset)
		offset += len(t.Bytes)
	}
	return lp
}
