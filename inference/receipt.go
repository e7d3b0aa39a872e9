package inference

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
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

// receiptDomain prefixes the bytes a receipt's signer signs, so the
// signature cannot be taken for a transaction's or any other object's.
const receiptDomain = "mycel/receipt/v1\x00"

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

func (r *Receipt) signBytes() []byte {
	b := []byte(receiptDomain)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(r.Version)
	str(r.Runtime)
	if r.Deterministic {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = append(b, r.Model[:]...)
	b = append(b, r.Request[:]...)
	b = append(b, r.Output[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Seed)
	b = append(b, r.Provider[:]...)
	return b
}

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
	case !ed25519.Verify(ed25519.PublicKey(r.PubKey), r.signBytes(), r.Signature):
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
