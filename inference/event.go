package inference

import (
	"fmt"

	"github.com/mycelnet/mycel/types"
)

// ModelInfo is a model a provider serves, as it announces it.
type ModelInfo struct {
	// ID is the name clients use (general.name, or what the operator
	// chose); Hash identifies the file.
	ID      string     `json:"id"`
	Hash    types.Hash `json:"hash"`
	Context int        `json:"context_length"`
	// Engine is the runtime version or "openai:ENGINE".
	Engine        string `json:"engine"`
	Deterministic bool   `json:"deterministic"`
	// PricePerToken is what the provider asks per generated token, umyc,
	// paid with payment channel vouchers; 0 serves the model free.
	PricePerToken types.Amount `json:"price_per_token,omitempty"`
}

// Task is a request the node hands a provider.
type Task struct {
	ID      string  `json:"id"`
	Request Request `json:"request"`
	// Stream says the client reads the answer as it comes, so the
	// provider sends each piece at once; otherwise it sends the answer
	// in one piece at the end, which is cheaper.
	Stream bool `json:"stream,omitempty"`
	// Voucher pays a paid model's provider: the voucher's compact text
	// form, as the client sent it in HeaderVoucher.
	Voucher string `json:"voucher,omitempty"`
	// Token is a secret the node made for this task and gave only to the
	// provider it chose: the answer presents it (HeaderTaskToken) instead
	// of a signature, which spares both sides an Ed25519 operation while
	// the provider generates. The answer's receipt is still signed.
	Token string `json:"token,omitempty"`
}

// HeaderTaskToken carries a task's Token on its answer.
const HeaderTaskToken = "X-Mycel-Task-Token"

// Event is one line a provider streams back for a task (newline-delimited
// JSON): generated text, or the end (Final or Error).
type Event struct {
	// Text is the next piece of output; Tokens the tokens that completed
	// it, with their log probabilities when the request asked.
	Text   string      `json:"text,omitempty"`
	Tokens []TokenProb `json:"tokens,omitempty"`
	Final  *Final      `json:"final,omitempty"`
	Error  *Error      `json:"error,omitempty"`
	// Payment goes with a 402 Error: what the request must pay.
	Payment *Payment `json:"payment,omitempty"`
}

// TokenProb is a generated token and its log probability.
type TokenProb struct {
	Bytes   []byte  `json:"bytes"`
	Logprob float32 `json:"logprob"`
}

// Final ends a task that ran.
type Final struct {
	Finish           string  `json:"finish_reason"` // "stop" or "length"
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	Receipt          Receipt `json:"receipt"`
	// Payment is what a paid request paid.
	Payment *Payment `json:"payment,omitempty"`
}

// Error is a request's failure, in OpenAI's error shape; Status is the
// HTTP status the gateway answers with.
type Error struct {
	Status  int    `json:"status"`
	Type    string `json:"type"`
	Param   string `json:"param,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	// Payment, with a 402, says what to pay: the gateway writes it beside
	// the error as mycel_payment; between provider and node it travels in
	// Event.Payment.
	Payment *Payment `json:"-"`
}

// OpenAI's error types.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeNotFound       = "not_found_error"
	TypeServer         = "server_error"
	TypeUnavailable    = "service_unavailable"
)

func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Param)
	}
	return e.Message
}
