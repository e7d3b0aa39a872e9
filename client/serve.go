package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/inference"
)

// serveRequest sends a provider's signed serve request.
func (c *Client) serveRequest(ctx context.Context, key ed25519.PrivateKey, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return nil, err
	}
	api.SignServe(req.Header, key, http.MethodPost, path, time.Now().Add(2*time.Minute))
	// No client timeout: a poll lasts up to 30 s and an answer as long as
	// generation does; ctx bounds both.
	resp, err := streamClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the node at %s: %w", c.base, unwrapURL(err))
	}
	return resp, nil
}

// streamClient keeps enough idle connections for every poll and answer of
// a provider's slots: with Go's default of two per host, answers would
// dial a new connection each time.
var streamClient = &http.Client{Transport: &http.Transport{
	Proxy: http.ProxyFromEnvironment, MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
	ForceAttemptHTTP2: true,
}}

// decodeError turns an error response into an *Error.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var eb api.ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		return &Error{Status: resp.StatusCode, ErrorDetail: eb.Error}
	}
	return &Error{Status: resp.StatusCode, ErrorDetail: api.ErrorDetail{Code: "http", Message: resp.Status}}
}

// Pull is a provider's long poll for inference work: it announces the
// models it serves and waits up to wait for a task (nil when none came).
// publicURL, if not empty, is where the node may post tasks straight to
// the provider (POST publicURL/v1/serve/run) instead of through a poll.
func (c *Client) Pull(ctx context.Context, key ed25519.PrivateKey, models []inference.ModelInfo, publicURL string, wait time.Duration) (*inference.Task, error) {
	body, err := json.Marshal(api.PullRequest{Models: models, PublicURL: publicURL, WaitSeconds: int(wait / time.Second)})
	if err != nil {
		return nil, err
	}
	resp, err := c.poll(ctx, key, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil, nil
	case http.StatusOK:
		var t inference.Task
		if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
			return nil, fmt.Errorf("pull: %w", err)
		}
		return &t, nil
	}
	return nil, fmt.Errorf("pull: %w", decodeError(resp))
}

// tokenRequest sends a provider's serve request that a token the node
// gave authenticates, in header.
func (c *Client) tokenRequest(ctx context.Context, path, header, token string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set(header, token)
	resp, err := streamClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the node at %s: %w", c.base, unwrapURL(err))
	}
	return resp, nil
}

// poll sends a poll with the key's poll token, or signed when there is
// none or the node no longer knows it; and keeps the token the node
// gives.
func (c *Client) poll(ctx context.Context, key ed25519.PrivateKey, body []byte) (*http.Response, error) {
	id := string(key.Public().(ed25519.PublicKey))
	c.mu.Lock()
	token := c.pollTokens[id]
	c.mu.Unlock()
	var resp *http.Response
	if token != "" {
		var err error
		if resp, err = c.tokenRequest(ctx, "/v1/serve/pull", api.HeaderPollToken, token, bytes.NewReader(body)); err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			resp.Body.Close()
			resp = nil // expired, or the node restarted: sign
		}
	}
	if resp == nil {
		var err error
		if resp, err = c.serveRequest(ctx, key, "/v1/serve/pull", bytes.NewReader(body)); err != nil {
			return nil, err
		}
	}
	if t := resp.Header.Get(api.HeaderPollToken); t != "" && t != token {
		c.mu.Lock()
		if c.pollTokens == nil {
			c.pollTokens = map[string]string{}
		}
		c.pollTokens[id] = t
		c.mu.Unlock()
	}
	return resp, nil
}

// Answer streams a task's events (newline-delimited JSON read from
// events) to the node, with the task's token (or, from a node that gave
// none, signed with key).
func (c *Client) Answer(ctx context.Context, key ed25519.PrivateKey, t *inference.Task, events io.Reader) error {
	taskID := t.ID
	var resp *http.Response
	var err error
	if t.Token != "" {
		if resp, err = c.tokenRequest(ctx, "/v1/serve/tasks/"+taskID, inference.HeaderTaskToken, t.Token, events); err != nil {
			return err
		}
	} else if resp, err = c.serveRequest(ctx, key, "/v1/serve/tasks/"+taskID, events); err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answer task %s: %w", taskID, decodeError(resp))
	}
	return nil
}
