package provider_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/internal/apitest"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/synth"
	"github.com/mycelnet/mycel/types"
	"github.com/mycelnet/mycel/worker/provider"
	rtexec "github.com/mycelnet/mycel/worker/provider/executor/runtime"
)

// A model whose byte tokens split UTF-8 characters (random weights over a
// mostly byte-level vocabulary) answers through the gateway, streamed and
// not: every answer's receipt holds over the text the client received,
// where the bytes outside characters arrive as U+FFFD.
func TestServeSplitCharacters(t *testing.T) {
	var file bytes.Buffer
	if err := synth.Write(&file, synth.Spec{Name: "bytes", Vocab: 300, Dim: 32, Layers: 2, FFN: 64, Heads: 4, KVHeads: 2,
		Context: 64, Type: gguf.F32, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	engine := rtexec.New(cpu.New(1))
	info, err := engine.Add(file.Bytes(), "bytes")
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	addr := types.AddressFromPubKey(key.Public().(ed25519.PublicKey))
	srv := httptest.NewServer(api.Handler(api.Config{Backend: apitest.OneProvider{Addr: addr}, Hub: api.NewHub()}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var serving sync.WaitGroup
	serving.Go(func() {
		provider.Serve(ctx, client.New(srv.URL), key, engine, nil, 1, "", slog.New(slog.DiscardHandler))
	})
	defer serving.Wait()
	defer cancel()

	// complete returns the text and the receipt of a completion.
	complete := func(seed int, stream bool) (string, *inference.Receipt, error) {
		body := fmt.Sprintf(`{"model":"bytes","prompt":"abc","max_tokens":24,"temperature":1.5,"seed":%d,"stream":%v}`, seed, stream)
		resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(body))
		if err != nil {
			return "", nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return "", nil, fmt.Errorf("%s: %s", resp.Status, b)
		}
		if !stream {
			var c inference.Completion
			if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
				return "", nil, err
			}
			return c.Choices[0].Text, c.Receipt, nil
		}
		var text strings.Builder
		var receipt *inference.Receipt
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok || data == "[DONE]" {
				continue
			}
			var c inference.Completion
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				return "", nil, fmt.Errorf("event %q: %w", data, err)
			}
			if len(c.Choices) > 0 {
				text.WriteString(c.Choices[0].Text)
			}
			if c.Receipt != nil {
				receipt = c.Receipt
			}
		}
		if receipt == nil {
			return "", nil, fmt.Errorf("no receipt in the stream: %q", text.String())
		}
		return text.String(), receipt, sc.Err()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, _, err := complete(0, false); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the gateway did not answer: %v", err)
		}
	}
	split := 0
	for seed := range 6 {
		for _, stream := range []bool{false, true} {
			text, r, err := complete(seed, stream)
			if err != nil {
				t.Fatalf("seed %d, stream %v: %v", seed, stream, err)
			}
			if r.Verify() != nil || r.Model != info.Hash || r.Output != inference.OutputHash(text) || !utf8.ValidString(text) {
				t.Fatalf("seed %d, stream %v: receipt %+v does not hold over %q", seed, stream, r, text)
			}
			if strings.ContainsRune(text, utf8.RuneError) {
				split++
			}
		}
	}
	if split == 0 {
		t.Fatal("no answer had a byte outside a UTF-8 character: the test checked nothing")
	}
}
