// Package inference holds what the gateway, providers and clients share
// about an inference request: the request as a provider runs it, the
// events a provider streams back, the signed receipt, and the
// OpenAI-compatible JSON shapes the gateway speaks.
//
// A request travels as OpenAI JSON from a client to a node's gateway,
// which normalizes it into a Request (defaults filled in, a seed drawn if
// the client gave none), and hands it to a provider serving the model
// over the connection the provider holds open to the node. The provider
// streams Events back; the last carries the usage, the finish reason and
// a Receipt: the provider's signature over the runtime version, the model
// file's hash, the Request's hash, the output's hash and the seed. For
// the built-in runtime the receipt is checkable by anyone who has the
// model: run the Request again and compare (mycel model verify-receipt).
package inference

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mycelnet/mycel/types"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is an inference request as a provider runs it: everything that
// decides the output. Its hash (Hash) is what a receipt signs.
type Request struct {
	// Model is the sha256 of the model file.
	Model types.Hash `json:"model"`
	// Exactly one of Prompt (a completion) and Messages (a chat, rendered
	// through the model's chat format by the provider) is set.
	Prompt   string    `json:"prompt,omitempty"`
	Messages []Message `json:"messages,omitempty"`
	// MaxTokens caps the generated tokens; 0 means up to the context.
	MaxTokens   int      `json:"max_tokens"`
	Temperature float32  `json:"temperature"`
	TopP        float32  `json:"top_p"`
	TopK        int      `json:"top_k"`
	Seed        uint64   `json:"seed"`
	Stop        []string `json:"stop,omitempty"`
	Logprobs    bool     `json:"logprobs,omitempty"`
}

// Limits of a request the gateway accepts.
const (
	MaxPromptBytes = 1 << 20
	MaxMessages    = 256
	MaxStops       = 4
	MaxStopBytes   = 64
)

// Check reports what is wrong with a request, as a client error.
func (r *Request) Check() error {
	switch {
	case (r.Prompt == "") == (len(r.Messages) == 0):
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "prompt", Message: "give a prompt or messages, not both and not neither"}
	case len(r.Messages) > MaxMessages:
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "messages", Message: fmt.Sprintf("%d messages: at most %d", len(r.Messages), MaxMessages)}
	case r.MaxTokens < 0:
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "max_tokens", Message: "max_tokens must not be negative"}
	case !(r.Temperature >= 0 && r.Temperature <= 2):
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "temperature", Message: "temperature must be between 0 and 2"}
	case !(r.TopP >= 0 && r.TopP <= 1):
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "top_p", Message: "top_p must be between 0 and 1"}
	case r.TopK < 0:
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "top_k", Message: "top_k must not be negative"}
	case len(r.Stop) > MaxStops:
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "stop", Message: fmt.Sprintf("%d stop sequences: at most %d", len(r.Stop), MaxStops)}
	}
	size := len(r.Prompt)
	for i, m := range r.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant":
		default:
			return &Error{Status: 400, Type: TypeInvalidRequest, Param: fmt.Sprintf("messages[%d].role", i),
				Message: fmt.Sprintf("role %q: use system, developer, user or assistant", m.Role)}
		}
		size += len(m.Content)
	}
	if size > MaxPromptBytes {
		return &Error{Status: 400, Type: TypeInvalidRequest, Param: "messages", Message: fmt.Sprintf("the prompt is %d bytes: at most %d", size, MaxPromptBytes)}
	}
	for _, s := range r.Stop {
		if s == "" || len(s) > MaxStopBytes {
			return &Error{Status: 400, Type: TypeInvalidRequest, Param: "stop", Message: fmt.Sprintf("stop sequences must be 1 to %d bytes", MaxStopBytes)}
		}
	}
	return nil
}

// Hash is the sha256 of the request's canonical form: its JSON encoding
// by encoding/json (fields in the order declared above, no spaces).
func (r *Request) Hash() types.Hash {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // a Request always encodes
	}
	return sha256.Sum256(b)
}

// OutputHash is the sha256 of a generated text: what a receipt signs as
// the output.
func OutputHash(text string) types.Hash { return sha256.Sum256([]byte(text)) }

// Render turns chat messages into the prompt text for a model whose chat
// format is format: "chatml" (<|im_start|>role ... <|im_end|>), "llama3"
// (<|start_header_id|>role<|end_header_id|> ... <|eot_id|>), or "plain"
// for base models such as mycel's own: the contents, one per line, so a
// single user message is exactly its text.
func Render(format string, msgs []Message) string {
	var b strings.Builder
	switch format {
	case "chatml":
		for _, m := range msgs {
			fmt.Fprintf(&b, "<|im_start|>%s\n%s<|im_end|>\n", m.Role, m.Content)
		}
		b.WriteString("<|im_start|>assistant\n")
	case "llama3":
		b.WriteString("<|begin_of_text|>")
		for _, m := range msgs {
			fmt.Fprintf(&b, "<|start_header_id|>%s<|end_header_id|>\n\n%s<|eot_id|>", m.Role, m.Content)
		}
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	default:
		for i, m := range msgs {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(m.Content)
		}
	}
	return b.String()
}

// ChatFormat picks the chat format of a model from its GGUF
// tokenizer.chat_template (a Jinja template mycel does not execute): the
// markers of the common formats, else "plain".
func ChatFormat(template string) string {
	switch {
	case strings.Contains(template, "<|im_start|>"):
		return "chatml"
	case strings.Contains(template, "<|start_header_id|>"):
		return "llama3"
	}
	return "plain"
}
