package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// PayingTransport is an http.RoundTripper that pays for inference
// through a node's OpenAI-compatible gateway with vouchers of one payment
// channel, so that any OpenAI client pays unchanged:
//
//	t := client.NewPayingTransport(payer, channel)
//	oc := openai.NewClient(option.WithBaseURL(node+"/v1"), option.WithHTTPClient(&http.Client{Transport: t}))
//
// To each POST to .../chat/completions or .../completions for a model the
// channel's payee sells, it adds a voucher (inference.HeaderVoucher) of a
// lane of its own, whose cumulative amount covers what the lane has used
// so far plus the request's maximum: max_tokens (or the model's context)
// times the payee's price per token, read from the node's /v1/models.
// From each answer's mycel_payment it learns what the request used, so
// the unused part counts toward the lane's next request and no token is
// paid twice; a request whose answer it never sees counts at its maximum.
// Each request in flight holds a lane of its own (labelled Task-N in the
// payer's wallet), so vouchers of one lane never race.
type PayingTransport struct {
	// Base sends the requests (default http.DefaultTransport).
	Base    http.RoundTripper
	Payer   *paywallet.Payer
	Channel uint64
	// Task prefixes the labels of the lanes the transport uses (default
	// "openai"): transports of one payer that share a channel need
	// different tasks.
	Task string
	// Node, if set, is asked for the channel again when a voucher would
	// pass its deposit as the wallet last saw it (after a top-up).
	Node *Client

	mu     sync.Mutex
	free   []*payLane
	n      int // lanes allocated
	models map[string]modelsPage
}

var _ http.RoundTripper = (*PayingTransport)(nil)

// NewPayingTransport pays with vouchers of channel, which the payer's
// wallet must track.
func NewPayingTransport(payer *paywallet.Payer, channel uint64) *PayingTransport {
	return &PayingTransport{Payer: payer, Channel: channel}
}

// payLane is one of the transport's lanes: what its requests have used,
// as far as the transport knows.
type payLane struct {
	lane  uint64
	spent types.Amount
}

// modelsPage is a node's /v1/models, as last read.
type modelsPage struct {
	at     time.Time
	models []inference.ModelObject
}

// modelsTTL bounds how long prices are trusted before they are read again.
const modelsTTL = time.Minute

func (t *PayingTransport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *PayingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint, ok := strings.CutSuffix(req.URL.Path, "/chat/completions")
	if !ok {
		endpoint, ok = strings.CutSuffix(req.URL.Path, "/completions")
	}
	if req.Method != http.MethodPost || !ok || req.Body == nil {
		return t.base().RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	var r struct {
		Model               string `json:"model"`
		MaxTokens           *int   `json:"max_tokens"`
		MaxCompletionTokens *int   `json:"max_completion_tokens"`
	}
	if json.Unmarshal(body, &r) != nil || r.Model == "" {
		return t.base().RoundTrip(withBody(req, body, nil)) // the gateway says what is wrong
	}
	ch, ok := t.Payer.Channel(t.Channel)
	if !ok {
		return nil, fmt.Errorf("pay for %s: channel %d is not in the payer's wallet (track it: mycel channel show %d)", r.Model, t.Channel, t.Channel)
	}
	modelsURL := *req.URL
	modelsURL.Path, modelsURL.RawQuery = endpoint+"/models", ""
	m, err := t.model(req.Context(), modelsURL.String(), r.Model)
	if err != nil {
		return nil, fmt.Errorf("pay for %s: %w", r.Model, err)
	}
	var price types.Amount
	offered := false
	for _, o := range m.Mycel.Offers {
		if o.Provider == ch.Payee {
			price, offered = o.PricePerToken, true
		}
	}
	if !offered || price == 0 {
		// Free at the payee, or not served by it: name the channel, and let
		// the gateway route the request or say why not.
		return t.base().RoundTrip(withBody(req, body, http.Header{inference.HeaderChannel: {strconv.FormatUint(t.Channel, 10)}}))
	}
	maxTokens := m.Mycel.Context
	if r.MaxCompletionTokens != nil {
		maxTokens = *r.MaxCompletionTokens
	} else if r.MaxTokens != nil {
		maxTokens = *r.MaxTokens
	}
	cost, err := inference.MaxCost(maxTokens, price)
	if err != nil {
		return nil, fmt.Errorf("pay for %s: %w", r.Model, err)
	}
	lane, err := t.acquire()
	if err != nil {
		return nil, err
	}
	resp, err := t.pay(req, body, lane, cost)
	if err != nil || resp.StatusCode/100 != 2 {
		t.release(lane)
		return resp, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// The lane is the stream's until it is read or closed.
		resp.Body = &payStream{rc: resp.Body, r: bufio.NewReader(resp.Body), done: func(p *inference.Payment) {
			t.settle(lane, p, cost)
			t.release(lane)
		}}
		return resp, nil
	}
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	var answer struct {
		Payment *inference.Payment `json:"mycel_payment"`
	}
	if rerr == nil && json.Unmarshal(b, &answer) == nil {
		t.settle(lane, answer.Payment, cost)
	} else {
		t.settle(lane, nil, cost)
	}
	t.release(lane)
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// pay sends a request with a voucher of lane covering cost more than the
// lane has used. Vouchers are deferred (paywallet.VoucherRequest): their
// fsync is off the request's path, and a payer that crashed before it
// may make a voucher below what the payee holds; the payee's 402 then
// shows its best voucher of the lane, which the wallet adopts. A 402
// whose payee counts more used on the lane than the transport does (a
// payee that lost the return of an unused part in a crash, say) is paid
// once more, as long as what the payee claims is within the lane's
// earlier vouchers.
func (t *PayingTransport) pay(req *http.Request, body []byte, lane *payLane, cost types.Amount) (*http.Response, error) {
	for try := 0; ; try++ {
		last, _ := t.Payer.Last(t.Channel, lane.lane)
		amount, err := lane.spent.Add(cost)
		if err != nil {
			return nil, err
		}
		v, err := t.voucher(req.Context(), lane.lane, max(amount, last.Amount))
		if err != nil {
			return nil, err
		}
		resp, err := t.base().RoundTrip(withBody(req, body, http.Header{inference.HeaderVoucher: {v.String()}}))
		if err != nil {
			// The payee may have served it: count it at its maximum.
			t.settle(lane, nil, cost)
			return nil, err
		}
		if resp.StatusCode != http.StatusPaymentRequired || try > 0 {
			return resp, nil
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		var e inference.ErrorResponse
		if json.Unmarshal(b, &e) != nil || e.Error == nil || e.Payment == nil || e.Payment.Channel != t.Channel || e.Payment.Lane != lane.lane ||
			(e.Error.Code != inference.CodeUnderpaid && e.Error.Code != inference.CodeStaleNonce) {
			return resp, nil
		}
		adopted := false
		if e.Payment.Voucher != "" {
			// The payee holds more of this lane than the wallet remembers.
			if best, err := paych.ParseVoucher(e.Payment.Voucher); err == nil && best.Channel == t.Channel && best.Lane == lane.lane {
				if _, err := t.Payer.Adopt(best); err != nil {
					return resp, nil
				}
				last, _ = t.Payer.Last(t.Channel, lane.lane)
				adopted = true
			}
		}
		if (e.Error.Code == inference.CodeStaleNonce && !adopted) || e.Payment.Required < cost || e.Payment.Required-cost > last.Amount {
			return resp, nil
		}
		t.mu.Lock()
		lane.spent = max(lane.spent, e.Payment.Required-cost)
		t.mu.Unlock()
	}
}

// voucher makes the lane's next voucher for amount in all, reading the
// channel again once if the wallet's view of its deposit is too small.
func (t *PayingTransport) voucher(ctx context.Context, lane uint64, amount types.Amount) (v paych.Voucher, err error) {
	for try := 0; ; try++ {
		v, err = t.Payer.Make(paywallet.VoucherRequest{Channel: t.Channel, Lane: lane, Amount: amount, Deferred: true})
		if err == nil || !errors.Is(err, paywallet.ErrOverDeposit) || t.Node == nil || try > 0 {
			return v, err
		}
		c, cerr := t.Node.Channel(ctx, t.Channel)
		if cerr != nil {
			return v, err
		}
		if terr := t.Payer.Track(*c); terr != nil {
			return v, err
		}
	}
}

// settle records what a request used of its lane: the answer's charge,
// or its maximum when there is none. A payee that counts less used on the
// lane than the transport (a request the transport counted at its
// maximum) is taken at its word.
func (t *PayingTransport) settle(lane *payLane, p *inference.Payment, cost types.Amount) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p == nil || p.Channel != t.Channel || p.Lane != lane.lane {
		lane.spent, _ = lane.spent.Add(cost)
		return
	}
	own, _ := lane.spent.Add(min(p.Charged, cost))
	lane.spent = min(own, p.Spent)
}

// acquire takes a free lane, or a new one.
func (t *PayingTransport) acquire() (*payLane, error) {
	t.mu.Lock()
	if n := len(t.free); n > 0 {
		l := t.free[n-1]
		t.free = t.free[:n-1]
		t.mu.Unlock()
		return l, nil
	}
	n := t.n
	t.n++
	task := t.Task
	if task == "" {
		task = "openai"
	}
	t.mu.Unlock()
	lane, err := t.Payer.Lane(t.Channel, task+"-"+strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	// A lane used before this transport: count all it promised as used,
	// until the payee's first answer says otherwise.
	last, _ := t.Payer.Last(t.Channel, lane)
	return &payLane{lane: lane, spent: last.Amount}, nil
}

func (t *PayingTransport) release(l *payLane) {
	t.mu.Lock()
	t.free = append(t.free, l)
	t.mu.Unlock()
}

// model returns a model's entry in a node's /v1/models, read again when
// older than modelsTTL or when it lacks the model.
func (t *PayingTransport) model(ctx context.Context, url, name string) (inference.ModelObject, error) {
	find := func(p modelsPage) (inference.ModelObject, bool) {
		for _, m := range p.models {
			if m.ID == name || m.Mycel.Hash == name {
				return m, true
			}
		}
		return inference.ModelObject{}, false
	}
	t.mu.Lock()
	page, ok := t.models[url]
	t.mu.Unlock()
	if ok && time.Since(page.at) < modelsTTL {
		if m, ok := find(page); ok {
			return m, nil
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return inference.ModelObject{}, err
	}
	resp, err := t.base().RoundTrip(req)
	if err != nil {
		return inference.ModelObject{}, err
	}
	defer resp.Body.Close()
	var list inference.ModelList
	if resp.StatusCode != http.StatusOK {
		return inference.ModelObject{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&list); err != nil {
		return inference.ModelObject{}, fmt.Errorf("GET %s: %w", url, err)
	}
	page = modelsPage{at: time.Now(), models: list.Data}
	t.mu.Lock()
	if t.models == nil {
		t.models = map[string]modelsPage{}
	}
	t.models[url] = page
	t.mu.Unlock()
	if m, ok := find(page); ok {
		return m, nil
	}
	return inference.ModelObject{}, fmt.Errorf("no provider serves model %q at %s", name, url)
}

// withBody clones req with body and extra headers.
func withBody(req *http.Request, body []byte, extra http.Header) *http.Request {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	for k, v := range extra {
		r.Header[k] = v
	}
	return r
}

// payStream reads a paid stream through, watching its events for the
// one that carries mycel_payment, and reports it (nil if none came) once
// the stream ends or is closed.
type payStream struct {
	rc   io.ReadCloser
	r    *bufio.Reader
	line []byte
	pay  *inference.Payment
	once sync.Once
	done func(*inference.Payment)
}

func (s *payStream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.scan(p[:n])
	if err != nil {
		s.finish()
	}
	return n, err
}

// scan collects lines and parses the data lines that name a payment.
func (s *payStream) scan(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(s.line) < 1<<20 {
				s.line = append(s.line, b...)
			}
			return
		}
		s.line = append(s.line, b[:i]...)
		b = b[i+1:]
		if data, ok := bytes.CutPrefix(s.line, []byte("data: ")); ok && bytes.Contains(data, []byte(`"mycel_payment"`)) {
			var ev struct {
				Payment *inference.Payment `json:"mycel_payment"`
			}
			if json.Unmarshal(data, &ev) == nil && ev.Payment != nil {
				s.pay = ev.Payment
			}
		}
		s.line = s.line[:0]
	}
}

func (s *payStream) finish() { s.once.Do(func() { s.done(s.pay) }) }

func (s *payStream) Close() error {
	err := s.rc.Close()
	s.finish()
	return err
}
