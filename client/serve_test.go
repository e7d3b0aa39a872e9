package client_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/internal/apitest"
	"github.com/mycelnet/mycel/types"
)

// A provider's first poll is signed and brings a poll token; the next
// ones present the token and no signature; when the node no longer knows
// the token (a restart), the poll is signed again and goes through.
func TestPullPollToken(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	be := apitest.OneProvider{Addr: types.AddressFromPubKey(key.Public().(ed25519.PublicKey))}
	var mu sync.Mutex
	handler := api.Handler(api.Config{Backend: be, Hub: api.NewHub()})
	var seen []string // how each poll authenticated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		how := "neither"
		switch {
		case r.Header.Get(api.HeaderSignature) != "":
			how = "signed"
		case r.Header.Get(api.HeaderPollToken) != "":
			how = "token"
		}
		seen = append(seen, how)
		h := handler
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	models := []inference.ModelInfo{{ID: "x", Hash: types.Hash{1}, Context: 8}}
	pull := func() {
		t.Helper()
		if task, err := c.Pull(context.Background(), key, models, "", time.Second); err != nil || task != nil {
			t.Fatalf("pull: %v %v", task, err)
		}
	}
	pull()
	pull()
	mu.Lock()
	handler = api.Handler(api.Config{Backend: be, Hub: api.NewHub()}) // a node that restarted
	mu.Unlock()
	pull()
	pull()
	mu.Lock()
	defer mu.Unlock()
	want := []string{"signed", "token", "token", "signed", "token"}
	if len(seen) != len(want) {
		t.Fatalf("polls %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("polls %v, want %v", seen, want)
		}
	}
}
