package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

func servedModel(id string, b byte) inference.ModelInfo {
	return inference.ModelInfo{ID: id, Hash: types.Hash{b}, Context: 64, Engine: "mycel-rt/1", Deterministic: true}
}

// poll runs a provider's poll in the background and returns what it got.
func poll(h *Hub, addr types.Address, ms []inference.ModelInfo, publicURL string, d time.Duration) chan *task {
	out := make(chan *task, 1)
	go func() { out <- h.wait(context.Background(), addr, ms, publicURL, d) }()
	return out
}

func waitIdle(t *testing.T, h *Hub, addr types.Address, n int) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		h.mu.Lock()
		p := h.providers[addr]
		ok := p != nil && p.idle == n
		h.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("provider %s never had %d polls waiting", addr, n)
}

func TestHubDispatch(t *testing.T) {
	h := NewHub()
	a, b := types.Address{1}, types.Address{2}
	kjv, other := servedModel("kjv", 1), servedModel("other", 2)
	ctx := context.Background()

	if _, err := h.dispatch(ctx, inference.Request{Model: kjv.Hash}, false, time.Second, route{}); !errors.Is(err, errNoProvider) {
		t.Fatalf("no provider: %v", err)
	}
	pa := poll(h, a, []inference.ModelInfo{kjv}, "", time.Minute)
	pb := poll(h, b, []inference.ModelInfo{kjv, other}, "", time.Minute)
	waitIdle(t, h, a, 1)
	waitIdle(t, h, b, 1)
	if got := h.Models(); len(got) != 2 || got[0].ID != "kjv" || got[0].Providers != 2 || got[1].Providers != 1 {
		t.Fatalf("models %+v", got)
	}
	// Two requests go to the two providers, one each.
	t1, err := h.dispatch(ctx, inference.Request{Model: kjv.Hash}, false, time.Second, route{})
	if err != nil {
		t.Fatal(err)
	}
	t2, err := h.dispatch(ctx, inference.Request{Model: kjv.Hash}, false, time.Second, route{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[types.Address]*task{}
	for _, c := range []chan *task{pa, pb} {
		tk := <-c
		got[tk.provider] = tk
	}
	if got[a] == nil || got[b] == nil || t1.provider == t2.provider {
		t.Fatalf("tasks went to %v and %v", t1.provider, t2.provider)
	}
	// Only the provider a task went to may answer it, once.
	if _, ok := h.claim(t1.ID, t2.provider); ok {
		t.Fatal("another provider claimed a task")
	}
	if _, ok := h.claim(t1.ID, t1.provider); !ok {
		t.Fatal("the provider could not claim its task")
	}
	if _, ok := h.claim(t1.ID, t1.provider); ok {
		t.Fatal("a task was claimed twice")
	}
	// Or whoever holds the task's token (the provider it was given to),
	// once; a wrong token claims nothing.
	if len(t2.Token) != 32 || t2.Token == t1.Token {
		t.Fatalf("tokens %q %q", t1.Token, t2.Token)
	}
	if _, ok := h.claimByToken(t2.ID, t1.Token); ok {
		t.Fatal("another task's token claimed a task")
	}
	if _, ok := h.claimByToken(t2.ID, ""); ok {
		t.Fatal("an empty token claimed a task")
	}
	if _, ok := h.claimByToken(t2.ID, t2.Token); !ok {
		t.Fatal("the task's token did not claim it")
	}
	if _, ok := h.claimByToken(t2.ID, t2.Token); ok {
		t.Fatal("a task was claimed twice by its token")
	}

	// Every provider busy: a request waits for the next poll.
	done := make(chan *task, 1)
	go func() {
		tk, err := h.dispatch(ctx, inference.Request{Model: other.Hash}, false, 5*time.Second, route{})
		if err != nil {
			t.Error(err)
		}
		done <- tk
	}()
	time.Sleep(20 * time.Millisecond)
	pb = poll(h, b, []inference.ModelInfo{kjv, other}, "", time.Minute)
	if tk := <-pb; tk == nil || tk.provider != b || (<-done).ID != tk.ID {
		t.Fatal("the waiting request did not reach the provider's next poll")
	}
	// And gives up with errBusy after its wait.
	if _, err := h.dispatch(ctx, inference.Request{Model: other.Hash}, false, 30*time.Millisecond, route{}); !errors.Is(err, errBusy) {
		t.Fatalf("busy: %v", err)
	}
}

func TestHubPollTimesOut(t *testing.T) {
	h := NewHub()
	a := types.Address{1}
	if tk := <-poll(h, a, []inference.ModelInfo{servedModel("kjv", 1)}, "", 20*time.Millisecond); tk != nil {
		t.Fatalf("an idle poll returned a task: %+v", tk)
	}
	h.mu.Lock()
	idle := h.providers[a].idle
	h.mu.Unlock()
	if idle != 0 {
		t.Fatalf("idle %d after the poll ended", idle)
	}
	// Still listed for a while after its last poll; gone after Liveness.
	if len(h.Models()) != 1 {
		t.Fatal("a provider that just polled is not listed")
	}
	h.now = func() time.Time { return time.Now().Add(Liveness + time.Second) }
	if len(h.Models()) != 0 {
		t.Fatal("a provider silent for longer than Liveness is still listed")
	}
}

func TestHubResolve(t *testing.T) {
	h := NewHub()
	a, b := types.Address{1}, types.Address{2}
	poll(h, a, []inference.ModelInfo{servedModel("kjv", 1)}, "", time.Minute)
	poll(h, b, []inference.ModelInfo{servedModel("kjv", 2)}, "", time.Minute)
	waitIdle(t, h, a, 1)
	waitIdle(t, h, b, 1)
	if _, err := h.resolve("kjv"); !errors.Is(err, errAmbiguous) {
		t.Fatalf("two files named kjv: %v", err)
	}
	m, err := h.resolve(types.Hash{2}.String())
	if err != nil || m.Hash != (types.Hash{2}) {
		t.Fatalf("by hash: %+v, %v", m, err)
	}
	if _, err := h.resolve("nope"); !errors.Is(err, errNoProvider) {
		t.Fatalf("unknown: %v", err)
	}
}

// A provider with a public address gets its tasks posted straight to it,
// with no poll waiting, and its streamed events reach the requester; one
// whose endpoint fails gives the requester a 502 event, not a hang.
func TestHubDirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var task inference.Task
		if r.URL.Path != "/v1/serve/run" || json.NewDecoder(r.Body).Decode(&task) != nil {
			http.Error(w, "bad", 400)
			return
		}
		enc := json.NewEncoder(w)
		enc.Encode(inference.Event{Text: "amen"})
		enc.Encode(inference.Event{Final: &inference.Final{Finish: "stop"}})
	}))
	defer srv.Close()
	h := NewHub()
	a := types.Address{7}
	poll(h, a, []inference.ModelInfo{servedModel("kjv", 1)}, srv.URL, 20*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // the poll has ended: nothing waits
	tk, err := h.dispatch(context.Background(), inference.Request{Model: types.Hash{1}}, false, time.Second, route{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-tk.events; ev.Text != "amen" || tk.provider != a {
		t.Fatalf("first event %+v from %s", ev, tk.provider)
	}
	if ev := <-tk.events; ev.Final == nil {
		t.Fatalf("second event %+v", ev)
	}

	b := types.Address{8}
	poll(h, b, []inference.ModelInfo{servedModel("other", 2)}, "http://127.0.0.1:1", 20*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	tk, err = h.dispatch(context.Background(), inference.Request{Model: types.Hash{2}}, false, time.Second, route{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-tk.events; ev.Error == nil || ev.Error.Status != 502 {
		t.Fatalf("unreachable provider: %+v", ev)
	}
}
