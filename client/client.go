// Package client is the typed Go client of a mycel node's HTTP API. The
// CLI uses it, and so can any Go program: build and sign transactions,
// submit them and wait for their outcome, read accounts with proofs,
// upload and fetch blobs.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// Client talks to one node.
type Client struct {
	base string
	http *http.Client

	mu      sync.Mutex
	chainID string
	// pollTokens are the node's poll tokens for the provider keys that
	// poll through this client (api.HeaderPollToken), by public key.
	pollTokens map[string]string
}

// New returns a client of the node whose API is at baseURL, such as
// http://127.0.0.1:8844.
func New(baseURL string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 60 * time.Second}}
}

// URL returns the node's base URL.
func (c *Client) URL() string { return c.base }

// Error is an error response of the API.
type Error struct {
	Status int
	api.ErrorDetail
}

func (e *Error) Error() string {
	if e.Codespace != "" {
		return fmt.Sprintf("%s (%s code %d)", e.Message, e.Codespace, e.ABCICode)
	}
	return e.Message
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, hdr http.Header, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the node at %s: %w (is it running? start one with `mycel devnet`, or pass --node URL)", c.base, unwrapURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb api.ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
			return &Error{Status: resp.StatusCode, ErrorDetail: eb.Error}
		}
		return &Error{Status: resp.StatusCode, ErrorDetail: api.ErrorDetail{Code: "http", Message: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var s api.Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, nil, &s)
	if err == nil {
		c.mu.Lock()
		c.chainID = s.ChainID
		c.mu.Unlock()
	}
	return s, err
}

// ChainID returns the network's chain id, asking the node once.
func (c *Client) ChainID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.chainID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	s, err := c.Status(ctx)
	return s.ChainID, err
}

// Account reads an account; with prove, with proofs of its balance and
// account records against the app hash of its height.
func (c *Client) Account(ctx context.Context, a types.Address, prove bool) (app.AccountState, error) {
	var st app.AccountState
	err := c.do(ctx, http.MethodGet, "/v1/accounts/"+a.String()+"?prove="+strconv.FormatBool(prove), nil, nil, &st)
	return st, err
}

// Params returns the chain's rules.
func (c *Client) Params(ctx context.Context) (app.Params, error) {
	var p app.Params
	err := c.do(ctx, http.MethodGet, "/v1/params", nil, nil, &p)
	return p, err
}

// Validators returns the active validator set.
func (c *Client) Validators(ctx context.Context) ([]stake.ActiveValidator, error) {
	var v []stake.ActiveValidator
	err := c.do(ctx, http.MethodGet, "/v1/validators", nil, nil, &v)
	return v, err
}

// Supply returns the token supply.
func (c *Client) Supply(ctx context.Context) (app.Supply, error) {
	var s app.Supply
	err := c.do(ctx, http.MethodGet, "/v1/supply", nil, nil, &s)
	return s, err
}

// SubmitTx submits an encoded transaction and returns the mempool's check
// result; a refusal is an *Error carrying the ABCI code and log.
func (c *Client) SubmitTx(ctx context.Context, raw []byte) (api.SubmitResult, error) {
	var r api.SubmitResult
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	err := c.do(ctx, http.MethodPost, "/v1/txs", bytes.NewReader(raw), hdr, &r)
	return r, err
}

// Tx looks up a committed transaction.
func (c *Client) Tx(ctx context.Context, h types.Hash) (api.TxResult, error) {
	var r api.TxResult
	err := c.do(ctx, http.MethodGet, "/v1/txs/"+h.String(), nil, nil, &r)
	return r, err
}

// WaitTx polls until a transaction is in a committed block or ctx ends.
func (c *Client) WaitTx(ctx context.Context, h types.Hash) (api.TxResult, error) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := c.Tx(ctx, h)
		if err == nil {
			return r, nil
		}
		if !IsNotFound(err) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("transaction %s was not committed in time; look it up later with `mycel query tx %s`", h, h)
		case <-t.C:
		}
	}
}

// Block returns a committed block's header fields.
func (c *Client) Block(ctx context.Context, height int64) (api.Block, error) {
	var b api.Block
	err := c.do(ctx, http.MethodGet, "/v1/blocks/"+strconv.FormatInt(height, 10), nil, nil, &b)
	return b, err
}

// WaitBlock polls until a block is committed or ctx ends.
func (c *Client) WaitBlock(ctx context.Context, height int64) (api.Block, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		b, err := c.Block(ctx, height)
		if err == nil || !IsNotFound(err) {
			return b, err
		}
		select {
		case <-ctx.Done():
			return b, fmt.Errorf("block %d was not committed in time", height)
		case <-t.C:
		}
	}
}

// TxOptions adjust a transaction the client builds.
type TxOptions struct {
	// Fee overrides the fee computed from the schedule.
	Fee *types.Amount
	// Sequence overrides the account's next sequence.
	Sequence *uint64
	Memo     string
	// Expiry is the last height the transaction may be included at.
	Expiry int64
}

// BuildTx signs a transaction of msgs with key: the chain id from the
// node, the next sequence of the account (counting its transactions in the
// node's mempool), and the least fee the published schedule asks.
func (c *Client) BuildTx(ctx context.Context, key ed25519.PrivateKey, msgs []tx.Msg, o TxOptions) (*tx.Tx, []byte, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, nil, err
	}
	t := &tx.Tx{ChainID: chainID, Msgs: msgs, Memo: o.Memo, Expiry: o.Expiry}
	if o.Sequence != nil {
		t.Sequence = *o.Sequence
	} else {
		acc, err := c.Account(ctx, types.AddressFromPubKey(key.Public().(ed25519.PublicKey)), false)
		if err != nil {
			return nil, nil, err
		}
		t.Sequence = acc.NextSequence
	}
	if o.Fee != nil {
		t.Fee = *o.Fee
	} else {
		p, err := c.Params(ctx)
		if err != nil {
			return nil, nil, err
		}
		kinds := make([]uint16, len(msgs))
		for i, m := range msgs {
			kinds[i] = m.Kind
		}
		// The fee's own length counts toward the per-byte fee: iterate
		// until it covers itself.
		for i := 0; i < 4; i++ {
			t.Sign(key)
			need, err := p.Auth.RequiredFee(kinds, len(t.Encode()))
			if err != nil {
				return nil, nil, err
			}
			if t.Fee >= need {
				break
			}
			t.Fee = need
		}
	}
	t.Sign(key)
	return t, t.Encode(), nil
}

// Broadcast builds, signs and submits a transaction. It returns the
// transaction's hash and the mempool's verdict.
func (c *Client) Broadcast(ctx context.Context, key ed25519.PrivateKey, msgs []tx.Msg, o TxOptions) (api.SubmitResult, error) {
	_, raw, err := c.BuildTx(ctx, key, msgs, o)
	if err != nil {
		return api.SubmitResult{}, err
	}
	return c.SubmitTx(ctx, raw)
}

// PutBlob uploads a blob, signed by key.
func (c *Client) PutBlob(ctx context.Context, data []byte, key ed25519.PrivateKey) (api.BlobResult, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return api.BlobResult{}, err
	}
	sum := types.SumHash(data)
	exp := time.Now().Add(10 * time.Minute).Unix()
	sig := ed25519.Sign(key, types.BlobUploadSignBytes(chainID, sum, int64(len(data)), exp))
	hdr := http.Header{
		"Content-Type":      {"application/octet-stream"},
		api.HeaderPubKey:    {hex.EncodeToString(key.Public().(ed25519.PublicKey))},
		api.HeaderExpires:   {strconv.FormatInt(exp, 10)},
		api.HeaderSignature: {hex.EncodeToString(sig)},
	}
	var r api.BlobResult
	err = c.do(ctx, http.MethodPut, "/v1/blobs", bytes.NewReader(data), hdr, &r)
	return r, err
}

// GetBlob fetches a blob and checks that its content matches its hash.
func (c *Client) GetBlob(ctx context.Context, h types.Hash) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/blobs/"+h.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the node at %s: %w", c.base, unwrapURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb api.ErrorBody
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &eb)
		return nil, &Error{Status: resp.StatusCode, ErrorDetail: eb.Error}
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if types.SumHash(b) != h {
		return nil, fmt.Errorf("blob %s: the node sent content with another hash", h)
	}
	return b, nil
}

// Providers lists registered providers.
func (c *Client) Providers(ctx context.Context, after *types.Address, limit int) ([]app.ProviderInfo, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after != nil {
		q.Set("after", after.String())
	}
	var ps []app.ProviderInfo
	err := c.do(ctx, http.MethodGet, "/v1/providers?"+q.Encode(), nil, nil, &ps)
	return ps, err
}

// Provider reads one provider.
func (c *Client) Provider(ctx context.Context, a types.Address) (app.ProviderInfo, error) {
	var p app.ProviderInfo
	err := c.do(ctx, http.MethodGet, "/v1/providers/"+a.String(), nil, nil, &p)
	return p, err
}

// Work waits (up to wait) for a block after afterHeight and returns the
// provider's open jobs.
func (c *Client) Work(ctx context.Context, a types.Address, afterHeight int64, wait time.Duration) (api.Work, error) {
	q := url.Values{"after_height": {strconv.FormatInt(afterHeight, 10)}, "wait": {wait.String()}}
	var w api.Work
	err := c.do(ctx, http.MethodGet, "/v1/providers/"+a.String()+"/work?"+q.Encode(), nil, nil, &w)
	return w, err
}

// JobQuery narrows a job listing.
type JobQuery struct {
	Client, Provider *types.Address
	State            string
	After            uint64
	Limit            int
}

// Jobs lists jobs.
func (c *Client) Jobs(ctx context.Context, q JobQuery) ([]*compute.Job, error) {
	v := url.Values{}
	if q.Client != nil {
		v.Set("client", q.Client.String())
	}
	if q.Provider != nil {
		v.Set("provider", q.Provider.String())
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatUint(q.After, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var js []*compute.Job
	err := c.do(ctx, http.MethodGet, "/v1/jobs?"+v.Encode(), nil, nil, &js)
	return js, err
}

// Job reads one job.
func (c *Client) Job(ctx context.Context, id uint64) (*compute.Job, error) {
	var j compute.Job
	err := c.do(ctx, http.MethodGet, "/v1/jobs/"+strconv.FormatUint(id, 10), nil, nil, &j)
	return &j, err
}

// Verification returns a verified job's group: its runs, referees,
// claims and verdict. Any run's id names it.
func (c *Client) Verification(ctx context.Context, id uint64) (*compute.Group, error) {
	var g compute.Group
	err := c.do(ctx, http.MethodGet, "/v1/jobs/"+strconv.FormatUint(id, 10)+"/verification", nil, nil, &g)
	return &g, err
}

// Event returns the value of the first attribute key of the first event
// of type typ in a transaction's result.
func Event(r api.TxResult, typ, key string) (string, bool) {
	for _, e := range r.Events {
		if e.Type == typ {
			if v, ok := e.Get(key); ok {
				return v, true
			}
		}
	}
	return "", false
}
