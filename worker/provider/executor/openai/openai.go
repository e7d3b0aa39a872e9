// Package openai is the provider's executor for external inference
// engines that speak the OpenAI API (vLLM, llama.cpp's server, Ollama,
// another mycel node's gateway): it forwards each request, streamed, and
// relays the answer. Such engines are not bit-exact, so their receipts say
// deterministic: false, and a wrong answer is a matter for disputes, not
// re-execution.
package openai

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

// Model is one model of the engine that the provider serves.
type Model struct {
	// Upstream is the engine's name for it; ID the name mycel's clients
	// use (default Upstream).
	Upstream, ID string
	// Context is its context length (0: what the engine's /v1/models
	// says, as vLLM's max_model_len or mycel's context_length, else 8192).
	Context int
}

// Engine forwards to one OpenAI-compatible server.
type Engine struct {
	base, apiKey string
	name         string // "openai:HOST"
	models       []inference.ModelInfo
	upstream     map[types.Hash]string
	http         *http.Client
}

// ModelHash identifies a model of an external engine, which has no file
// mycel can hash: the sha256 of "mycel/openai-model", a zero byte and the
// engine's name for it.
func ModelHash(upstream string) types.Hash {
	return sha256.Sum256([]byte("mycel/openai-model\x00" + upstream))
}

// New connects to the server at baseURL (such as
// http://127.0.0.1:8000/v1), reads its model list, and serves models.
func New(ctx context.Context, baseURL, apiKey string, models []Model) (*Engine, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("engine URL %q: give the API's base, such as http://127.0.0.1:8000/v1", baseURL)
	}
	e := &Engine{base: strings.TrimRight(baseURL, "/"), apiKey: apiKey, name: "openai:" + u.Host,
		upstream: map[types.Hash]string{}, http: &http.Client{}}
	listed, err := e.list(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range models {
		ctxLen, ok := listed[m.Upstream]
		if !ok {
			return nil, fmt.Errorf("the engine at %s does not list model %q (GET /models)", baseURL, m.Upstream)
		}
		if m.Context > 0 {
			ctxLen = m.Context
		}
		if m.ID == "" {
			m.ID = m.Upstream
		}
		h := ModelHash(m.Upstream)
		e.models = append(e.models, inference.ModelInfo{ID: m.ID, Hash: h, Context: ctxLen, Engine: e.name})
		e.upstream[h] = m.Upstream
	}
	return e, nil
}

// list reads the engine's models and their context lengths.
func (e *Engine) list(ctx context.Context) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/models", nil)
	if err != nil {
		return nil, err
	}
	e.auth(req)
	resp, err := e.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("engine at %s: %w", e.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("engine at %s: GET /models answered %s", e.base, resp.Status)
	}
	var list struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
			Mycel       struct {
				Context int `json:"context_length"`
			} `json:"mycel"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("engine at %s: GET /models: %w", e.base, err)
	}
	out := map[string]int{}
	for _, m := range list.Data {
		out[m.ID] = max(m.MaxModelLen, m.Mycel.Context)
		if out[m.ID] == 0 {
			out[m.ID] = 8192
		}
	}
	return out, nil
}

func (e *Engine) auth(r *http.Request) {
	if e.apiKey != "" {
		r.Header.Set("Authorization", "Bearer "+e.apiKey)
	}
}

// Models lists the models served.
func (e *Engine) Models() []inference.ModelInfo { return e.models }

// Run forwards req, streamed, and relays the text as it comes. The Final
// has an unsigned receipt marked not deterministic.
func (e *Engine) Run(ctx context.Context, req inference.Request, emit func(inference.Event) error) (inference.Final, error) {
	up, ok := e.upstream[req.Model]
	if !ok {
		return inference.Final{}, &inference.Error{Status: 404, Type: inference.TypeInvalidRequest, Code: "model_not_found",
			Message: fmt.Sprintf("this provider does not serve model %s", req.Model)}
	}
	body := map[string]any{"model": up, "stream": true, "stream_options": map[string]bool{"include_usage": true},
		"temperature": req.Temperature, "top_p": req.TopP, "seed": int64(req.Seed)}
	if req.MaxTokens > 0 {
		body["max_tokens"] = req.MaxTokens
	}
	if len(req.Stop) > 0 {
		body["stop"] = req.Stop
	}
	if req.TopK > 0 {
		body["top_k"] = req.TopK
	}
	path := "/completions"
	if len(req.Messages) > 0 {
		path = "/chat/completions"
		body["messages"] = req.Messages
	} else {
		body["prompt"] = req.Prompt
	}
	b, _ := json.Marshal(body)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+path, bytes.NewReader(b))
	if err != nil {
		return inference.Final{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	e.auth(hreq)
	resp, err := e.http.Do(hreq)
	if err != nil {
		return inference.Final{}, &inference.Error{Status: 502, Type: inference.TypeServer, Message: "the provider's engine is unreachable"}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return inference.Final{}, upstreamError(resp)
	}
	var text strings.Builder
	final := inference.Final{Finish: "stop"}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			break
		}
		var chunk struct {
			Choices []struct {
				Text  string `json:"text"`
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *inference.Usage `json:"usage"`
			Error *inference.Error `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &chunk); err != nil {
			return inference.Final{}, &inference.Error{Status: 502, Type: inference.TypeServer, Message: "the provider's engine sent a malformed event"}
		}
		if chunk.Error != nil {
			chunk.Error.Status = 502
			return inference.Final{}, chunk.Error
		}
		for _, c := range chunk.Choices {
			piece := c.Text + c.Delta.Content
			if piece != "" {
				text.WriteString(piece)
				if emit != nil {
					if err := emit(inference.Event{Text: piece}); err != nil {
						return inference.Final{}, err
					}
				}
			}
			if c.FinishReason != nil && *c.FinishReason != "" {
				final.Finish = *c.FinishReason
			}
		}
		if chunk.Usage != nil {
			final.PromptTokens, final.CompletionTokens = chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens
		}
	}
	if err := sc.Err(); err != nil {
		return inference.Final{}, &inference.Error{Status: 502, Type: inference.TypeServer, Message: "the provider's engine broke off: " + err.Error()}
	}
	final.Receipt = inference.Receipt{Runtime: e.name, Deterministic: false, Model: req.Model, Request: req.Hash(),
		Output: inference.OutputHash(text.String()), Seed: req.Seed}
	return final, nil
}

// upstreamError passes a client error of the engine on, and turns any
// other into a 502.
func upstreamError(resp *http.Response) *inference.Error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var er inference.ErrorResponse
	msg := fmt.Sprintf("the provider's engine answered %s", resp.Status)
	if json.Unmarshal(b, &er) == nil && er.Error != nil && er.Error.Message != "" {
		msg += ": " + er.Error.Message
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 401 && resp.StatusCode != 403 {
		e := &inference.Error{Status: resp.StatusCode, Type: inference.TypeInvalidRequest, Message: msg}
		if er.Error != nil {
			e.Code, e.Param = er.Error.Code, er.Error.Param
		}
		return e
	}
	return &inference.Error{Status: 502, Type: inference.TypeServer, Message: msg}
}
