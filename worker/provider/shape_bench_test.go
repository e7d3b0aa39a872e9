package provider_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/internal/apitest"
	"github.com/mycelnet/mycel/types"
	"github.com/mycelnet/mycel/worker/provider"
)

// spinEngine "generates" 32 tokens with work of busy cores (yielding as
// the runtime's thread pool does) and signs nothing itself: the provider
// signs the receipt as for the runtime.
type spinEngine struct{ work time.Duration }

func (spinEngine) Models() []inference.ModelInfo {
	return []inference.ModelInfo{{ID: "spin", Hash: types.Hash{1}, Context: 64, Engine: "mycel-rt/1", Deterministic: true}}
}

func (e spinEngine) Run(ctx context.Context, req inference.Request, emit func(inference.Event) error) (inference.Final, error) {
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			last := time.Now()
			for start := last; time.Since(start) < e.work; {
				if time.Since(last) > 20*time.Microsecond {
					runtime.Gosched()
					last = time.Now()
				}
			}
		})
	}
	wg.Wait()
	text := strings.Repeat("w ", 32)
	for range 32 {
		if err := emit(inference.Event{Text: "w "}); err != nil {
			return inference.Final{}, err
		}
	}
	return inference.Final{PromptTokens: 4, CompletionTokens: 32, Finish: "length",
		Receipt: inference.Receipt{Runtime: "mycel-rt/1", Deterministic: true, Model: req.Model, Request: req.Hash(),
			Output: inference.OutputHash(text), Seed: req.Seed}}, nil
}

// BenchmarkGatewaySpin is the gateway itself (node handler, hub, a
// provider's long poll, the answer, the receipt signed and checked, the
// OpenAI response) around an engine that only keeps the cores busy for
// 15 ms: read beside BenchmarkGatewayShape (api), the bare program of
// the same shape, it says what the gateway's own work adds, apart from
// the model's. added-µs is the median time beyond the work.
func BenchmarkGatewaySpin(b *testing.B) {
	const work = 15 * time.Millisecond
	_, key, _ := ed25519.GenerateKey(nil)
	be := apitest.OneProvider{Addr: types.AddressFromPubKey(key.Public().(ed25519.PublicKey))}
	srv := httptest.NewServer(api.Handler(api.Config{Backend: be, Hub: api.NewHub()}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var serving sync.WaitGroup
	serving.Go(func() {
		provider.Serve(ctx, client.New(srv.URL), key, spinEngine{work}, nil, 2, "", slog.New(slog.DiscardHandler))
	})
	defer serving.Wait()
	defer cancel()
	body := []byte(`{"model":"spin","prompt":"p","max_tokens":32,"temperature":0}`)
	send := func() (int, error) {
		resp, err := http.Post(srv.URL+"/v1/completions", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		var c inference.Completion
		if err := json.Unmarshal(b, &c); err != nil {
			return resp.StatusCode, err
		}
		return resp.StatusCode, nil
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if status, err := send(); err == nil && status == http.StatusOK {
			break
		} else if time.Now().After(deadline) {
			b.Fatalf("the gateway did not answer: %d %v", status, err)
		}
	}
	var added []time.Duration
	for b.Loop() {
		start := time.Now()
		if status, err := send(); err != nil || status != http.StatusOK {
			b.Fatalf("%d %v", status, err)
		}
		added = append(added, time.Since(start)-work)
	}
	sort.Slice(added, func(i, j int) bool { return added[i] < added[j] })
	b.ReportMetric(float64(added[len(added)/2].Microseconds()), "added-µs")
}
