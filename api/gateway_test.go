package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

// gatewayBackend knows one registered provider; the embedded Backend
// (nil) is never called by the gateway's routes.
type gatewayBackend struct {
	Backend
	provider types.Address
	jailed   bool
}

func (b *gatewayBackend) Provider(_ context.Context, a types.Address) (app.ProviderInfo, error) {
	if a != b.provider {
		return app.ProviderInfo{}, fmt.Errorf("%w: %s is not a registered provider", ErrNotFound, a)
	}
	return app.ProviderInfo{Jailed: b.jailed}, nil
}

func (b *gatewayBackend) RegistryModel(context.Context, types.Hash) (*model.Model, error) {
	return nil, ErrNotFound
}

// The gateway's refusals: each bad request gets its status and an error
// body in OpenAI's shape (or the API's, on the providers' routes), and
// nothing reaches a provider.
func TestGatewayRefusals(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	_, stranger, _ := ed25519.GenerateKey(nil)
	be := &gatewayBackend{provider: types.AddressFromPubKey(key.Public().(ed25519.PublicKey))}
	hub := NewHub()
	srv := httptest.NewServer(Handler(Config{Backend: be, Hub: hub}))
	defer srv.Close()
	// A live provider of "kjv", polling in the background.
	go hub.wait(context.Background(), be.provider, []inference.ModelInfo{{ID: "kjv", Hash: types.Hash{1}, Context: 64, Engine: "mycel-rt/1"}}, "", time.Minute)
	for len(hub.Models()) == 0 {
		time.Sleep(time.Millisecond)
	}

	post := func(path, body string, sign ed25519.PrivateKey) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		if sign != nil {
			SignServe(req.Header, sign, http.MethodPost, path, time.Now().Add(time.Minute))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	for _, c := range []struct {
		name, path, body string
		sign             ed25519.PrivateKey
		status           int
		code             string
	}{
		{"garbled JSON", "/v1/chat/completions", `{"model":`, nil, 400, ""},
		{"no model", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, nil, 400, ""},
		{"unknown model", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`, nil, 404, "model_not_found"},
		{"bad role", "/v1/chat/completions", `{"model":"kjv","messages":[{"role":"robot","content":"hi"}]}`, nil, 400, ""},
		{"n", "/v1/completions", `{"model":"kjv","prompt":"p","n":3}`, nil, 400, ""},
		{"over the context", "/v1/completions", `{"model":"kjv","prompt":"p","max_tokens":65}`, nil, 400, "context_length_exceeded"},
		{"huge body", "/v1/completions", `{"model":"kjv","prompt":"` + strings.Repeat("a", maxRequestBody) + `"}`, nil, 413, ""},
		{"unsigned poll", "/v1/serve/pull", `{"models":[]}`, nil, 401, "unauthorized"},
		{"stranger's poll", "/v1/serve/pull", `{"models":[{"id":"x","context_length":8}]}`, stranger, 403, "forbidden"},
		{"poll without models", "/v1/serve/pull", `{"models":[]}`, key, 400, "bad_request"},
		{"bad public URL", "/v1/serve/pull", `{"models":[{"id":"x","context_length":8}],"public_url":"ftp://x"}`, key, 400, "bad_request"},
		{"answer to no task", "/v1/serve/tasks/0123", "{}\n", key, 404, "not_found"},
	} {
		status, body := post(c.path, c.body, c.sign)
		e, _ := body["error"].(map[string]any)
		if status != c.status || e == nil || e["message"] == "" || (c.code != "" && e["code"] != c.code) {
			t.Errorf("%s: %d %v, want %d %q", c.name, status, body, c.status, c.code)
		}
	}
	// A signature for another path does not open this one.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/serve/pull", bytes.NewReader([]byte(`{}`)))
	SignServe(req.Header, key, http.MethodPost, "/v1/serve/tasks/x", time.Now().Add(time.Minute))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("a signature over another path: %v %v", resp.Status, err)
	}
	// An answer with a task token that is not the task's opens nothing.
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/v1/serve/tasks/0123", strings.NewReader("{}\n"))
	req.Header.Set(inference.HeaderTaskToken, "00112233445566778899aabbccddeeff")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("an answer with a wrong token: %v %v", resp.Status, err)
	}
	// A jailed provider may not poll.
	be.jailed = true
	if status, _ := post("/v1/serve/pull", `{"models":[{"id":"x","context_length":8}]}`, key); status != 403 {
		t.Fatalf("jailed provider's poll: %d", status)
	}
}

// A signed poll gets a poll token; later polls present it instead of a
// signature, until it expires or the provider is jailed; a token the node
// did not give, or one past its life, is refused as unauthorized.
func TestPollToken(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	be := &gatewayBackend{provider: types.AddressFromPubKey(key.Public().(ed25519.PublicKey))}
	hub := NewHub()
	now := time.Now()
	var clock sync.Mutex
	hub.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	srv := httptest.NewServer(Handler(Config{Backend: be, Hub: hub, Now: time.Now}))
	defer srv.Close()
	const body = `{"models":[{"id":"x","context_length":8}],"wait_seconds":1}`
	poll := func(sign bool, token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/serve/pull", strings.NewReader(body))
		if sign {
			SignServe(req.Header, key, http.MethodPost, "/v1/serve/pull", time.Now().Add(time.Minute))
		}
		if token != "" {
			req.Header.Set(HeaderPollToken, token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	signed := poll(true, "")
	token := signed.Header.Get(HeaderPollToken)
	if signed.StatusCode != http.StatusNoContent || len(token) != 32 {
		t.Fatalf("signed poll: %s, token %q", signed.Status, token)
	}
	if resp := poll(false, token); resp.StatusCode != http.StatusNoContent || resp.Header.Get(HeaderPollToken) != "" {
		t.Fatalf("poll with the token: %s", resp.Status)
	}
	if resp := poll(false, "00112233445566778899aabbccddeeff"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("poll with a token the node did not give: %s", resp.Status)
	}
	// Signed again while the token is young: the same token.
	if again := poll(true, "").Header.Get(HeaderPollToken); again != token {
		t.Fatalf("a second signed poll got %q, not %q", again, token)
	}
	be.jailed = true
	if resp := poll(false, token); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a jailed provider's token: %s", resp.Status)
	}
	be.jailed = false
	clock.Lock()
	now = now.Add(pollTokenLife)
	clock.Unlock()
	if resp := poll(false, token); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an expired token: %s", resp.Status)
	}
	if fresh := poll(true, "").Header.Get(HeaderPollToken); fresh == "" || fresh == token {
		t.Fatalf("after expiry a signed poll got %q", fresh)
	}
}
