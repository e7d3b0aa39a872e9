package inference

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/types"
)

// ReceiptVersion names the receipt format.
const ReceiptVersion = "mycel-receipt/1"

// HeaderReceipt is the HTTP response header that carries a receipt (its
// JSON, base64url without padding) on non-streamed answers; the body
// carries it too, as the field mycel_receipt, and a stream carries it in
// its last chunk.
const HeaderReceipt = "X-Mycel-Receipt"

// Receipt is a provider's signed statement that it ran Request on Model
// with Runtime and produced Output.
type Receipt struct {
	Version string `json:"version"`
	// Runtime is the frozen runtime version (runtime.Version, such as
	// "mycel-rt/1") for deterministic work, or "openai:ENGINE" for an
	// external engine, whose output is not bit-exact.
	Runtime       string        `json:"runtime"`
	Deterministic bool          `json:"deterministic"`
	Model         types.Hash    `json:"model"`
	Request       types.Hash    `json:"request"`
	Output        types.Hash    `json:"output"`
	Seed          uint64        `json:"seed"`
	Provider      types.Address `json:"provider"`
	PubKey        HexBytes      `json:"pubkey"`
	Signature     HexBytes      `json:"signature"`
}

// HexBytes is bytes written as hex in JSON.
type HexBytes []byte

// MarshalText implements encoding.TextMarshaler.
func (h HexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HexBytes) UnmarshalText(b []byte) error {
	out, err := hex.DecodeString(string(b))
	if err != nil {
		return err
	}
	*h = out
	return nil
}

// Fields are what the receipt signs.
func (r *Receipt) Fields() types.ReceiptFields {
	return types.ReceiptFields{Version: r.Version, Runtime: r.Runtime, Deterministic: r.Deterministic, Model: r.Model,
		Request: r.Request, Output: r.Output, Seed: r.Seed, Provider: r.Provider}
}

func (r *Receipt) signBytes() []byte { return r.Fields().SignBytes() }

// Sign fills in the version, provider, public key and signature.
func (r *Receipt) Sign(key ed25519.PrivateKey) {
	pub := key.Public().(ed25519.PublicKey)
	r.Version = ReceiptVersion
	r.Provider = types.AddressFromPubKey(pub)
	r.PubKey = HexBytes(pub)
	r.Signature = ed25519.Sign(key, r.signBytes())
}

// ErrBadReceipt is wrapped by every error Verify returns.
var ErrBadReceipt = errors.New("bad receipt")

// Verify checks the signature and that the key is the provider's.
func (r *Receipt) Verify() error {
	switch {
	case r.Version != ReceiptVersion:
		return fmt.Errorf("%w: version %q, want %q", ErrBadReceipt, r.Version, ReceiptVersion)
	case len(r.PubKey) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: public key of %d bytes", ErrBadReceipt, len(r.PubKey))
	case types.AddressFromPubKey(ed25519.PublicKey(r.PubKey)) != r.Provider:
		return fmt.Errorf("%w: the public key is not provider %s's", ErrBadReceipt, r.Provider)
	case !types.VerifySignature(ed25519.PublicKey(r.PubKey), r.signBytes(), r.Signature):
		// ZIP 215, as the chain checks a disputed receipt: both agree on
		// which receipts hold.
		return fmt.Errorf("%w: the signature does not match its fields", ErrBadReceipt)
	}
	return nil
}

// Header encodes the receipt for HeaderReceipt.
func (r *Receipt) Header() string {
	b, _ := json.Marshal(r)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseReceiptHeader decodes a HeaderReceipt value (it does not verify).
func ParseReceiptHeader(s string) (*Receipt, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url: %v", ErrBadReceipt, err)
	}
	var r Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadReceipt, err)
	}
	return &r, nil
}

// Evidence is what a dispute over a receipt gives the referees: the
// receipt, the request it names and the answer's text. A disputer
// uploads it as JSON to a node's blob store and names its sha256.
type Evidence struct {
	Receipt Receipt `json:"receipt"`
	Request Request `json:"request"`
	Text    string  `json:"text"`
}

// Check verifies the receipt's signature and that the request and the
// text are the ones it signs.
func (e *Evidence) Check() error {
	if err := e.Receipt.Verify(); err != nil {
		return err
	}
	if e.Request.Model.IsZero() {
		e.Request.Model = e.Receipt.Model
	}
	switch {
	case e.Request.Hash() != e.Receipt.Request:
		return fmt.Errorf("%w: the request's hash is %s, the receipt signs %s", ErrBadReceipt, e.Request.Hash(), e.Receipt.Request)
	case OutputHash(e.Text) != e.Receipt.Output:
		return fmt.Errorf("%w: the text's hash is %s, the receipt signs %s", ErrBadReceipt, OutputHash(e.Text), e.Receipt.Output)
	}
	return nil
}
