package inference

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mycelnet/mycel/types"
)

// The OpenAI-compatible request and response shapes, as the official
// clients send and expect them.

// ChatRequest is POST /v1/chat/completions.
type ChatRequest struct {
	Model               string         `json:"model"`
	Messages            []ChatMessage  `json:"messages"`
	MaxTokens           *int           `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int           `json:"max_completion_tokens,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
	TopP                *float64       `json:"top_p,omitempty"`
	TopK                *int           `json:"top_k,omitempty"` // an extension llama.cpp and vLLM accept too
	N                   *int           `json:"n,omitempty"`
	Stop                Stop           `json:"stop,omitempty"`
	Seed                *int64         `json:"seed,omitempty"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *StreamOptions `json:"stream_options,omitempty"`
	Logprobs            bool           `json:"logprobs,omitempty"`
	TopLogprobs         *int           `json:"top_logprobs,omitempty"`
}

// CompletionRequest is POST /v1/completions.
type CompletionRequest struct {
	Model         string         `json:"model"`
	Prompt        Prompt         `json:"prompt"`
	MaxTokens     *int           `json:"max_tokens,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	TopK          *int           `json:"top_k,omitempty"`
	N             *int           `json:"n,omitempty"`
	Stop          Stop           `json:"stop,omitempty"`
	Seed          *int64         `json:"seed,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	Logprobs      *int           `json:"logprobs,omitempty"`
	Echo          bool           `json:"echo,omitempty"`
}

// StreamOptions are a streamed request's options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is a message as clients send it: content is a string or an
// array of parts, of which mycel reads the text parts.
type ChatMessage struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
	Name    string  `json:"name,omitempty"`
}

// Content is a message's content: a string, or parts [{type, text}].
type Content string

// UnmarshalJSON implements json.Unmarshaler.
func (c *Content) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*c = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Content(s)
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("content must be a string or an array of text parts")
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return fmt.Errorf("content part of type %q: mycel's models read text only", p.Type)
		}
		sb.WriteString(p.Text)
	}
	*c = Content(sb.String())
	return nil
}

// Stop is a string or an array of strings.
type Stop []string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Stop) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Stop{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("stop must be a string or an array of strings")
	}
	*s = many
	return nil
}

// Prompt is a completion prompt: a string or an array of one string.
type Prompt string

// UnmarshalJSON implements json.Unmarshaler.
func (p *Prompt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = ""
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*p = Prompt(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil || len(many) != 1 {
		return fmt.Errorf("prompt must be a string (or an array of exactly one string; batches are not supported)")
	}
	*p = Prompt(many[0])
	return nil
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatCompletion is the answer of POST /v1/chat/completions.
type ChatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"` // "chat.completion"
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []ChatChoice `json:"choices"`
	Usage             Usage        `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Receipt           *Receipt     `json:"mycel_receipt,omitempty"`
	// Request is the request as the provider ran it, for
	// mycel model verify-receipt.
	Request *Request `json:"mycel_request,omitempty"`
	// Payment is what a paid request paid.
	Payment *Payment `json:"mycel_payment,omitempty"`
}

// ChatChoice is one answer.
type ChatChoice struct {
	Index        int           `json:"index"`
	Message      *AnswerMsg    `json:"message,omitempty"`
	Delta        *AnswerMsg    `json:"delta,omitempty"`
	FinishReason *string       `json:"finish_reason"`
	Logprobs     *ChatLogprobs `json:"logprobs"`
}

// AnswerMsg is the assistant's message (or a streamed delta of it).
type AnswerMsg struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
	Refusal *string `json:"refusal,omitempty"`
}

// ChatLogprobs are a chat answer's token log probabilities.
type ChatLogprobs struct {
	Content []ChatTokenLogprob `json:"content"`
}

// ChatTokenLogprob is one token's; mycel reports no alternatives.
type ChatTokenLogprob struct {
	Token       string             `json:"token"`
	Logprob     float32            `json:"logprob"`
	Bytes       []int              `json:"bytes"`
	TopLogprobs []ChatTokenLogprob `json:"top_logprobs"`
}

// ChatChunk is one server-sent event of a streamed chat completion.
type ChatChunk struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"` // "chat.completion.chunk"
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []ChatChoice `json:"choices"`
	Usage             *Usage       `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Receipt           *Receipt     `json:"mycel_receipt,omitempty"`
	Request           *Request     `json:"mycel_request,omitempty"`
	Payment           *Payment     `json:"mycel_payment,omitempty"`
}

// Completion is the answer of POST /v1/completions (and, with Object
// "text_completion" too, each streamed chunk of it).
type Completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"` // "text_completion"
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	Choices           []CompletionChoice `json:"choices"`
	Usage             *Usage             `json:"usage,omitempty"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Receipt           *Receipt           `json:"mycel_receipt,omitempty"`
	Request           *Request           `json:"mycel_request,omitempty"`
	Payment           *Payment           `json:"mycel_payment,omitempty"`
}

// CompletionChoice is one completion.
type CompletionChoice struct {
	Text         string              `json:"text"`
	Index        int                 `json:"index"`
	FinishReason *string             `json:"finish_reason"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`
}

// CompletionLogprobs are the legacy completion API's log probabilities.
type CompletionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float32            `json:"token_logprobs"`
	TopLogprobs   []map[string]float32 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// ModelList is GET /v1/models.
type ModelList struct {
	Object string        `json:"object"` // "list"
	Data   []ModelObject `json:"data"`
}

// ModelObject is one model in the list.
type ModelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// Mycel describes the file and who serves it.
	Mycel ModelDetail `json:"mycel"`
}

// ModelDetail is mycel's extension of a model object.
type ModelDetail struct {
	Hash          string `json:"hash"`
	Context       int    `json:"context_length"`
	Engine        string `json:"engine"`
	Deterministic bool   `json:"deterministic"`
	Providers     int    `json:"providers"`
	// Registered says the file is in the on-chain model registry (GET
	// /v1/registry/models/{hash}), with its license there.
	Registered bool   `json:"registered"`
	License    string `json:"license,omitempty"`
	// PricePerToken is the lowest price a provider asks for the model per
	// generated token (0: some provider serves it free); Offers lists
	// every live provider's.
	PricePerToken types.Amount `json:"price_per_token"`
	Offers        []Offer      `json:"offers"`
}

// Offer is one provider's price for a model.
type Offer struct {
	Provider      types.Address `json:"provider"`
	PricePerToken types.Amount  `json:"price_per_token"`
}

// ErrorResponse is OpenAI's error body; a 402 adds mycel_payment.
type ErrorResponse struct {
	Error   *Error   `json:"error"`
	Payment *Payment `json:"mycel_payment,omitempty"`
}

func badParam(param, format string, args ...any) *Error {
	return &Error{Status: 400, Type: TypeInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// sampling fills the settings common to both routes, OpenAI's defaults
// where the client left them out (temperature 1, top_p 1), and draws a
// seed when it gave none: the seed is in the receipt, so even a
// "random" answer can be re-run.
func sampling(r *Request, maxTokens *int, temp, topP *float64, topK, n *int, stop Stop, seed *int64, draw func() uint64) *Error {
	if n != nil && *n != 1 {
		return badParam("n", "n = %d: mycel answers one choice per request", *n)
	}
	if maxTokens != nil {
		if *maxTokens < 1 {
			return badParam("max_tokens", "max_tokens must be at least 1")
		}
		r.MaxTokens = *maxTokens
	}
	r.Temperature, r.TopP = 1, 1
	if temp != nil {
		r.Temperature = float32(*temp)
	}
	if topP != nil {
		r.TopP = float32(*topP)
	}
	if topK != nil {
		r.TopK = *topK
	}
	r.Stop = stop
	if seed != nil {
		r.Seed = uint64(*seed)
	} else {
		r.Seed = draw()
	}
	if err := r.Check(); err != nil {
		return err.(*Error)
	}
	return nil
}

// Target returns the model the request names and whether it streams.
func (c *ChatRequest) Target() (string, bool) { return c.Model, c.Stream }

// Target returns the model the request names and whether it streams.
func (c *CompletionRequest) Target() (string, bool) { return c.Model, c.Stream }

// Normalize turns a chat request for the model file model into the
// Request a provider runs; draw gives a seed when the client set none.
func (c *ChatRequest) Normalize(model types.Hash, draw func() uint64) (Request, *Error) {
	r := Request{Model: model, Logprobs: c.Logprobs}
	if len(c.Messages) == 0 {
		return r, badParam("messages", "messages must not be empty")
	}
	for _, m := range c.Messages {
		r.Messages = append(r.Messages, Message{Role: m.Role, Content: string(m.Content)})
	}
	if c.TopLogprobs != nil && *c.TopLogprobs > 0 {
		return r, badParam("top_logprobs", "top_logprobs = %d: mycel reports the log probability of each sampled token (logprobs: true), not alternatives", *c.TopLogprobs)
	}
	max := c.MaxCompletionTokens
	if max == nil {
		max = c.MaxTokens
	}
	return r, sampling(&r, max, c.Temperature, c.TopP, c.TopK, c.N, c.Stop, c.Seed, draw)
}

// Normalize turns a completion request into the Request a provider runs.
func (c *CompletionRequest) Normalize(model types.Hash, draw func() uint64) (Request, *Error) {
	r := Request{Model: model, Prompt: string(c.Prompt)}
	if c.Prompt == "" {
		return r, badParam("prompt", "prompt must not be empty")
	}
	if c.Echo {
		return r, badParam("echo", "echo is not supported")
	}
	if c.Logprobs != nil {
		if *c.Logprobs > 1 {
			return r, badParam("logprobs", "logprobs = %d: mycel reports the log probability of each sampled token, not alternatives (use 0 or 1)", *c.Logprobs)
		}
		r.Logprobs = true
	}
	return r, sampling(&r, c.MaxTokens, c.Temperature, c.TopP, c.TopK, c.N, c.Stop, c.Seed, draw)
}
