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
func Serve(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, slots int, log *slog.Logger) {
	var wg sync.WaitGroup
	for range max(slots, 1) {
		wg.Go(func() { serveLoop(ctx, c, key, engine, log) })
	}
	wg.Wait()
}

func serveLoop(ctx context.Context, c *client.Client, key ed25519.PrivateKey, engine Engine, log *slog.Logger) {
	backoff := time.Second
	for ctx.Err() == nil {
		t, err := c.Pull(ctx, key, engine.Models(), 25*time.Second)
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
	go func() {
		var w io.Writer = pw
		if !t.Stream {
			bw := bufio.NewWriterSize(pw, 64<<10)
			defer bw.Flush()
			w = bw
		}
		enc := json.NewEncoder(w)
		final, err := engine.Run(runCtx, t.Request, func(ev inference.Event) error { return enc.Encode(ev) })
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
		err = enc.Encode(last)
		if bw, ok := w.(*bufio.Writer); ok && err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	err := c.Answer(ctx, key, t.ID, pr)
	// If the node stopped reading (the client went away), stop generating.
	cancel()
	pr.CloseWithError(io.ErrClosedPipe)
	return err
}
