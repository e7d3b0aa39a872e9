package agentmsg

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// ChallengeSize is the length of a mailbox challenge.
const ChallengeSize = 32

// FetchRequest is an agent's signed request for its mailbox on a node
// (POST /v1/agents/{id}/mailbox/fetch): it answers a challenge the node
// gave out, acknowledges (deletes) the messages up to Ack and asks for up
// to Limit messages after After, waiting up to WaitSeconds for one.
type FetchRequest struct {
	Agent       uint64 `json:"agent,string"`
	Challenge   string `json:"challenge"`
	After       uint64 `json:"after,string"`
	Ack         uint64 `json:"ack,string"`
	Limit       int    `json:"limit"`
	WaitSeconds int    `json:"wait_seconds"`
	Signature   string `json:"signature"`
}

const fetchDomain = "mycel/agentmsg/fetch/v1\x00"

// SignBytes are what the signature covers: a domain tag, the chain id and
// every field but the signature.
func (f *FetchRequest) SignBytes(chainID string) ([]byte, error) {
	ch, err := hex.DecodeString(f.Challenge)
	if err != nil || len(ch) != ChallengeSize {
		return nil, fmt.Errorf("%w: challenge: want %d hex digits", ErrMalformed, 2*ChallengeSize)
	}
	if f.Limit < 0 || f.WaitSeconds < 0 {
		return nil, fmt.Errorf("%w: negative limit or wait", ErrMalformed)
	}
	w := codec.NewWriter(128 + len(chainID))
	w.Fixed([]byte(fetchDomain))
	w.String(chainID)
	w.Uvarint(f.Agent)
	w.Fixed(ch)
	w.Uvarint(f.After)
	w.Uvarint(f.Ack)
	w.Uvarint(uint64(f.Limit))
	w.Uvarint(uint64(f.WaitSeconds))
	return w.Bytes(), nil
}

// Sign signs the request with the agent's signing key.
func (f *FetchRequest) Sign(chainID string, key ed25519.PrivateKey) error {
	b, err := f.SignBytes(chainID)
	if err != nil {
		return err
	}
	f.Signature = hex.EncodeToString(ed25519.Sign(key, b))
	return nil
}

// Verify checks the signature under the agent's signing key.
func (f *FetchRequest) Verify(chainID string, key [32]byte) error {
	b, err := f.SignBytes(chainID)
	if err != nil {
		return err
	}
	sig, err := hex.DecodeString(f.Signature)
	if err != nil || !types.VerifySignature(key[:], b, sig) {
		return fmt.Errorf("%w: the fetch is not signed by agent %d's signing key", ErrBadSignature, f.Agent)
	}
	return nil
}
