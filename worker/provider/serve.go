package provider

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
)

// Engine answers inference requests for the models it announces: the
// built-in runtime (executor/runtime) or an external OpenAI-compatible
// engine.
type Engine interface {
	Models() []inference.ModelInfo
	// Run answers req, calling emit with each piece of output. The
	// receipt in the Final is unsigned; errors that are the request's
	// fault are *inference.Error.
	Run(ctx context.Context, req inference.Request, emit func(inference.Event) error) (inference.Final, error)
}

// Engines serves the models of several engines, each request on the
// engine that announced its model.
type Engines []Engine

// Models lists every engine's models.
func (es Engines) Models() []inference.ModelInfo {
	var out []inference.ModelInfo
	for _, e := range es {
		out = append(out, e.Models()...)
	}
	return out
}

// Run answers req on the engine that serves its model.
func (es Engines) Run(ctx context.Context, req inference.Request, emit func(inference.Event) error) (inference.Final, error) {
	for _, e := range es {
		for _, m := range e.Models() {
			if m.Hash == req.Model {
				return e.Run(ctx, req, emit)
			}
		}
	}
	return inference.Final{}, &inference.Error{Status: 404, Type: inference.TypeInvalidRequest, Code: "model_not_found",
		Message: fmt.Sprintf("this provider does not serve model %s", req.Model)}
}

// Serve holds slots long polls open to the node and answers the
// inference requests they bring with engine, signing each receipt with
// key, until ctx ends.
// publicURL, if set, is announced so the node posts tasks straight to the
// provider's DirectHandler there.
func Serve(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, slots int, publicURL string, log *slog.Logger) {
	var wg sync.WaitGroup
	for range max(slots, 1) {
		wg.Go(func() { serveLoop(ctx, c, key, engine, publicURL, log) })
	}
	wg.Wait()
}

func serveLoop(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, publicURL string, log *slog.Logger) {
	backoff := time.Second
	for ctx.Err() == nil {
		t, err := c.Pull(ctx, key, engine.Models(), publicURL, 25*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("inference poll failed; retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		if t == nil {
			continue
		}
		start := time.Now()
		if err := answer(ctx, c, key, engine, t); err != nil && ctx.Err() == nil {
			log.Warn("inference answer failed", "task", t.ID, "err", err)
			continue
		}
		log.Debug("inference answered", "task", t.ID, "model", t.Request.Model, "took", time.Since(start))
	}
}

// answer runs one task and streams its events to the node as
// newline-delimited JSON.
func answer(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, t *inference.Task) error {
	pr, pw := io.Pipe()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { pw.CloseWithError(runTask(runCtx, key, engine, t, pw, nil)) }()
	err := c.Answer(ctx, key, t.ID, pr)
	// If the node stopped reading (the client went away), stop generating.
	cancel()
	pr.CloseWithError(io.ErrClosedPipe)
	return err
}

// runTask runs t on engine and writes its events to w as
// newline-delimited JSON, the last one final (with the signed receipt) or
// an error. A streamed task's events go out one by one (flush, if set,
// after each); otherwise they are buffered into one write.
func runTask(ctx context.Context, key ed25519.PrivateKey, engine Engine, t *inference.Task, w io.Writer, flush func()) error {
	out := w
	var bw *bufio.Writer
	if !t.Stream {
		bw = bufio.NewWriterSize(w, 64<<10)
		out = bw
	}
	enc := json.NewEncoder(out)
	// A task nobody streams gets its text in one event: fewer lines for the
	// node to parse and relay.
	var whole inference.Event
	var text strings.Builder
	final, err := engine.Run(ctx, t.Request, func(ev inference.Event) error {
		if !t.Stream {
			text.WriteString(ev.Text)
			whole.Tokens = append(whole.Tokens, ev.Tokens...)
			return nil
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
		if flush != nil {
			flush()
		}
		return nil
	})
	if whole.Text = text.String(); whole.Text != "" || len(whole.Tokens) > 0 {
		if err := enc.Encode(whole); err != nil {
			return err
		}
	}
	var last inference.Event
	if err != nil {
		var ie *inference.Error
		if !errors.As(err, &ie) {
			ie = &inference.Error{Status: 500, Type: inference.TypeServer, Message: err.Error()}
		}
		last.Error = ie
	} else {
		final.Receipt.Sign(key)
		last.Final = &final
	}
	if err := enc.Encode(last); err != nil {
		return err
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	if flush != nil {
		flush()
	}
	return nil
}

// DirectHandler serves POST /v1/serve/run on a provider with a public
// address: a node posts a task (inference.Task as JSON) and reads the
// answer's events as newline-delimited JSON, with no long poll between.
// Any node may call it: what it costs the provider is what the same task
// through a poll would.
func DirectHandler(key ed25519.PrivateKey, engine Engine) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/serve/run", func(w http.ResponseWriter, r *http.Request) {
		var t inference.Task
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&t); err != nil {
			http.Error(w, "a task as JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		f, _ := w.(http.Flusher)
		flush := func() {
			if f != nil {
				f.Flush()
			}
		}
		_ = runTask(r.Context(), key, engine, &t, w, flush)
	})
	return mux
}
