package agentmsg

import (
	"encoding/json"
	"fmt"

	"github.com/mycelnet/mycel/a2a"
)

// Body is a payload in the clear: JSON, a request or an answer.
type Body struct {
	// Skill is the skill a request asks for; empty for the agent's
	// default.
	Skill string `json:"skill,omitempty"`
	// Message is the request's message, or the answer's.
	Message *a2a.Message `json:"message,omitempty"`
	// Voucher pays for a request: a payment channel voucher's compact
	// text (paych.Voucher.String), to the answering agent's owner.
	Voucher string `json:"voucher,omitempty"`
	// ReplyKey is the key a request's answer is sealed to; without one
	// the answer travels in the clear.
	ReplyKey *EncryptionKey `json:"reply_key,omitempty"`
	// State is an answer's task state: completed, failed, rejected,
	// input-required, ...
	State a2a.State `json:"state,omitempty"`
	// Artifacts are an answer's outputs.
	Artifacts []a2a.Artifact `json:"artifacts,omitempty"`
	// Error says why a request failed or was rejected.
	Error string `json:"error,omitempty"`
}

// Encode writes the body's JSON.
func (b *Body) Encode() []byte {
	out, err := json.Marshal(b)
	if err != nil {
		panic(err) // every field marshals
	}
	return out
}

// ParseBody reads a body.
func ParseBody(b []byte) (Body, error) {
	var out Body
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("%w: body: %v", ErrMalformed, err)
	}
	if out.State != "" {
		if _, err := a2a.ParseState(string(out.State)); err != nil {
			return out, fmt.Errorf("%w: body: %v", ErrMalformed, err)
		}
	}
	return out, nil
}

// Text is the text of the body's message.
func (b *Body) Text() string { return b.Message.Text() }
