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
	"github.com/mycelnet/mycel/paywallet"
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
// provider's DirectHandler there. pay, if not nil, makes the models paid.
func Serve(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, pay *Payments, slots int, publicURL string, log *slog.Logger) {
	var wg sync.WaitGroup
	for range max(slots, 1) {
		wg.Go(func() { serveLoop(ctx, c, key, engine, pay, publicURL, log) })
	}
	wg.Wait()
}

func serveLoop(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, pay *Payments, publicURL string, log *slog.Logger) {
	backoff := time.Second
	for ctx.Err() == nil {
		t, err := c.Pull(ctx, key, pay.announce(engine.Models()), publicURL, 25*time.Second)
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
		if err := answer(ctx, c, key, engine, pay, t); err != nil && ctx.Err() == nil {
			log.Warn("inference answer failed", "task", t.ID, "err", err)
			continue
		}
		log.Debug("inference answered", "task", t.ID, "model", t.Request.Model, "took", time.Since(start))
	}
}

// answer runs one task and streams its events to the node as
// newline-delimited JSON.
func answer(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, pay *Payments, t *inference.Task) error {
	pr, pw := io.Pipe()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The task runs on this goroutine, at once; the answer's request is
	// made beside it, while the first tokens are generated.
	sent := make(chan error, 1)
	go func() {
		err := c.Answer(ctx, key, t, pr)
		// If the node stopped reading (the client went away), stop generating.
		cancel()
		pr.CloseWithError(io.ErrClosedPipe)
		sent <- err
	}()
	pw.CloseWithError(runTask(runCtx, key, engine, pay, t, pw, nil))
	return <-sent
}

// runTask runs t on engine and writes its events to w as
// newline-delimited JSON, the last one final (with the signed receipt) or
// an error. A streamed task's events go out one by one (flush, if set,
// after each); otherwise they are buffered into one write. A paid task
// (pay) is checked and its maximum set aside before it runs, and nothing
// of its answer goes out before its voucher is durable.
func runTask(ctx context.Context, key ed25519.PrivateKey, engine Engine, pay *Payments, t *inference.Task, w io.Writer, flush func()) error {
	out := w
	var bw *bufio.Writer
	if !t.Stream {
		bw = bufio.NewWriterSize(w, 64<<10)
		out = bw
	}
	enc := json.NewEncoder(out)
	var res *paywallet.Reservation
	var payment *inference.Payment
	if m, ok := modelOf(engine, t.Request.Model); ok && pay.paid() {
		var ie *inference.Error
		if res, payment, ie = pay.reserve(ctx, t, m); ie != nil {
			return writeLast(enc, bw, flush, inference.Event{Error: ie, Payment: payment})
		}
	}
	// wait waits, once, for the voucher that pays for the task: the
	// generation starts at once, its output goes out only after.
	var durable error
	waited := res == nil
	wait := func() error {
		if !waited {
			durable, waited = res.Wait(), true
		}
		return durable
	}
	emitted := false
	// What a task nobody streams generated, for its last event.
	var text strings.Builder
	var tokens []inference.TokenProb
	final, err := engine.Run(ctx, t.Request, func(ev inference.Event) error {
		if !t.Stream {
			text.WriteString(ev.Text)
			tokens = append(tokens, ev.Tokens...)
			return nil
		}
		if err := wait(); err != nil {
			return err
		}
		emitted = true
		if err := enc.Encode(ev); err != nil {
			return err
		}
		if flush != nil {
			flush()
		}
		return nil
	})
	if werr := wait(); werr != nil {
		res.Settle(0)
		return writeLast(enc, bw, flush, inference.Event{Error: &inference.Error{Status: 503, Type: inference.TypeUnavailable,
			Message: "the provider could not record the voucher: " + werr.Error()}})
	}
	// A task nobody streams gets its text in its last event: one line for
	// the node to parse and relay.
	last := inference.Event{Text: text.String(), Tokens: tokens}
	if err != nil {
		var ie *inference.Error
		if !errors.As(err, &ie) {
			ie = &inference.Error{Status: 500, Type: inference.TypeServer, Message: err.Error()}
		}
		last.Error = ie
		if res != nil {
			// A request the client abandoned after output went out costs
			// its maximum (the client cannot know what it got); one that
			// failed costs nothing.
			if emitted && ctx.Err() != nil {
				res.Settle(res.Cost())
			} else {
				res.Settle(0)
			}
		}
	} else {
		if res != nil {
			final.Payment = pay.settle(res, payment, final.CompletionTokens)
		}
		final.Receipt.Sign(key)
		last.Final = &final
	}
	return writeLast(enc, bw, flush, last)
}

// writeLast writes a task's last event and flushes.
func writeLast(enc *json.Encoder, bw *bufio.Writer, flush func(), last inference.Event) error {
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
// through a poll would. pay, if not nil, makes the models paid.
func DirectHandler(key ed25519.PrivateKey, engine Engine, pay *Payments) http.Handler {
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
		_ = runTask(r.Context(), key, engine, pay, &t, w, flush)
	})
	return mux
}
