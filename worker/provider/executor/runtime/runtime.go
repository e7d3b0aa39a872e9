// Package runtime is the provider's executor for the built-in inference
// runtime (mycel-rt/1): it loads GGUF models and answers inference
// requests with them. The answers are deterministic, so a receipt is
// checked by running the request again.
package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/mycelnet/mycel/inference"
	rt "github.com/mycelnet/mycel/runtime"
	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/runtime/llama"
	"github.com/mycelnet/mycel/runtime/sample"
	"github.com/mycelnet/mycel/types"
)

// Engine serves the models added to it.
type Engine struct {
	be     backend.Backend
	mu     sync.RWMutex
	models map[types.Hash]*loaded
}

type loaded struct {
	info   inference.ModelInfo
	m      *llama.Model
	format string // chat format (inference.ChatFormat)
}

// New returns an engine running on be.
func New(be backend.Backend) *Engine {
	return &Engine{be: be, models: map[types.Hash]*loaded{}}
}

// AddFile loads the GGUF file at path; id names it for clients ("" means
// its general.name, or its hash when it has none).
func (e *Engine) AddFile(path, id string) (inference.ModelInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return inference.ModelInfo{}, err
	}
	info, err := e.Add(b, id)
	if err != nil {
		return info, fmt.Errorf("load %s: %w", path, err)
	}
	return info, nil
}

// Add loads a GGUF model from memory (the engine keeps data).
func (e *Engine) Add(data []byte, id string) (inference.ModelInfo, error) {
	f, err := gguf.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return inference.ModelInfo{}, err
	}
	m, err := llama.FromGGUF(f, bytes.NewReader(data), e.be)
	if err != nil {
		return inference.ModelInfo{}, err
	}
	m.Hash = sha256.Sum256(data)
	if id == "" {
		id, _ = f.String("general.name")
	}
	if id == "" {
		id = types.Hash(m.Hash).String()
	}
	tmpl, _ := f.String("tokenizer.chat_template")
	l := &loaded{m: m, format: inference.ChatFormat(tmpl), info: inference.ModelInfo{
		ID: id, Hash: m.Hash, Context: m.Context, Engine: rt.Version, Deterministic: true}}
	e.mu.Lock()
	e.models[m.Hash] = l
	e.mu.Unlock()
	return l.info, nil
}

// Models lists the models served, by id then hash.
func (e *Engine) Models() []inference.ModelInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]inference.ModelInfo, 0, len(e.models))
	for _, l := range e.models {
		out = append(out, l.info)
	}
	slices.SortFunc(out, func(a, b inference.ModelInfo) int {
		if a.ID != b.ID {
			if a.ID < b.ID {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.Hash[:], b.Hash[:])
	})
	return out
}

// Model returns a loaded model by its file's hash.
func (e *Engine) Model(h types.Hash) (*llama.Model, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	l, ok := e.models[h]
	if !ok {
		return nil, false
	}
	return l.m, true
}

// Run answers req, calling emit with each piece of text as it becomes
// final. The Final it returns has an unsigned receipt: the caller signs.
func (e *Engine) Run(ctx context.Context, req inference.Request, emit func(inference.Event) error) (inference.Final, error) {
	e.mu.RLock()
	l, ok := e.models[req.Model]
	e.mu.RUnlock()
	if !ok {
		return inference.Final{}, &inference.Error{Status: 404, Type: inference.TypeInvalidRequest, Code: "model_not_found",
			Message: fmt.Sprintf("this provider does not serve model %s", req.Model)}
	}
	if err := req.Check(); err != nil {
		return inference.Final{}, err
	}
	return Generate(ctx, l.m, l.format, req, emit)
}

// Generate runs req on m (whose chat format is format): the arithmetic
// both a provider and a receipt's verifier run.
func Generate(ctx context.Context, m *llama.Model, format string, req inference.Request, emit func(inference.Event) error) (inference.Final, error) {
	prompt := req.Prompt
	if len(req.Messages) > 0 {
		prompt = inference.Render(format, req.Messages)
	}
	ids := m.Tok.Encode(prompt, true)
	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = m.Context - len(ids)
	}
	if len(ids) == 0 || len(ids)+maxTokens > m.Context {
		return inference.Final{}, &inference.Error{Status: 400, Type: inference.TypeInvalidRequest, Param: "messages", Code: "context_length_exceeded",
			Message: fmt.Sprintf("the prompt is %d tokens and max_tokens %d: together at most the model's context length of %d", len(ids), req.MaxTokens, m.Context)}
	}
	lreq := llama.Request{Prompt: ids, MaxTokens: maxTokens, Stop: req.Stop, Logprobs: req.Logprobs,
		Sample: sample.Params{Temperature: req.Temperature, TopK: req.TopK, TopP: req.TopP, Seed: req.Seed}}
	res, err := m.Generate(ctx, lreq, func(s llama.Step) error {
		if emit == nil {
			return nil
		}
		ev := inference.Event{Text: s.Text}
		if req.Logprobs {
			ev.Tokens = []inference.TokenProb{{Bytes: m.Tok.TokenBytes(s.Token), Logprob: s.Logprob}}
		}
		if ev.Text == "" && len(ev.Tokens) == 0 {
			return nil
		}
		return emit(ev)
	})
	if err != nil {
		var ie *inference.Error
		if errors.As(err, &ie) || ctx.Err() != nil {
			return inference.Final{}, err
		}
		return inference.Final{}, &inference.Error{Status: 500, Type: inference.TypeServer, Message: err.Error()}
	}
	return inference.Final{Finish: res.Finish, PromptTokens: len(ids), CompletionTokens: len(res.Tokens),
		Receipt: inference.Receipt{Runtime: rt.Version, Deterministic: true, Model: req.Model, Request: req.Hash(),
			Output: inference.OutputHash(res.Text), Seed: req.Seed}}, nil
}
