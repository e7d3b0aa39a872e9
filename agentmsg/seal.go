package agentmsg

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// EncryptionKey is an agent's X25519 public key, to which payloads for its
// mailbox are sealed. Its text form is unpadded URL-safe base64, as JWK's
// "x".
type EncryptionKey [32]byte

func (k EncryptionKey) String() string { return base64.RawURLEncoding.EncodeToString(k[:]) }

// IsZero reports whether k is no key.
func (k EncryptionKey) IsZero() bool { return k == EncryptionKey{} }

// ParseEncryptionKey reads the text form.
func ParseEncryptionKey(s string) (EncryptionKey, error) {
	var k EncryptionKey
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != len(k) {
		return k, fmt.Errorf("encryption key %q: want the unpadded URL-safe base64 of 32 bytes", s)
	}
	copy(k[:], b)
	return k, nil
}

// MarshalText implements encoding.TextMarshaler.
func (k EncryptionKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *EncryptionKey) UnmarshalText(b []byte) error {
	v, err := ParseEncryptionKey(string(b))
	*k = v
	return err
}

// keyLabel is HKDF's info for deriving the X25519 key from a signing seed.
const keyLabel = "mycel/agentmsg/x25519/v1"

// DecryptionKey derives an agent's X25519 private key from its ed25519
// signing key: HKDF-SHA256 over the seed with its own label, so the two
// keys are unrelated to anyone without the seed.
func DecryptionKey(signing ed25519.PrivateKey) *ecdh.PrivateKey {
	b, err := hkdf.Key(sha256.New, signing.Seed(), nil, keyLabel, 32)
	if err != nil {
		panic(err)
	}
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		panic(err)
	}
	return k
}

// EncryptionKeyOf returns the public half of DecryptionKey(signing), what
// the agent's card publishes.
func EncryptionKeyOf(signing ed25519.PrivateKey) EncryptionKey {
	return PublicOf(DecryptionKey(signing))
}

// PublicOf returns the encryption key of a decryption key.
func PublicOf(k *ecdh.PrivateKey) EncryptionKey {
	var out EncryptionKey
	copy(out[:], k.PublicKey().Bytes())
	return out
}

// NewReplyKey returns a fresh X25519 key pair, for a sender that is no
// agent to have its answer sealed to.
func NewReplyKey() (*ecdh.PrivateKey, EncryptionKey) {
	k, err := ecdh.X25519().GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	return k, PublicOf(k)
}

// Suite names the HPKE suite payloads are sealed with (RFC 9180 ids
// KEM 0x0020, KDF 0x0001, AEAD 0x0003).
const Suite = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305"

const sealLabel = "mycel/agentmsg/seal/v1\x00"

// sealInfo binds a sealed payload to its envelope: the chain, the sender
// (agent id and key), the target and the nonce.
func sealInfo(chainID string, e *Envelope) []byte {
	w := codec.NewWriter(128 + len(chainID))
	w.Fixed([]byte(sealLabel))
	w.String(chainID)
	w.Uvarint(e.From)
	w.Fixed(e.Key[:])
	w.Uvarint(e.To)
	w.Fixed(e.Nonce[:])
	return w.Bytes()
}

func seal(chainID string, to EncryptionKey, e *Envelope, plaintext []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(to[:])
	if err != nil {
		return nil, fmt.Errorf("encryption key %s: %w", to, err)
	}
	pk, err := hpke.NewDHKEMPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return hpke.Seal(pk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), sealInfo(chainID, e), plaintext)
}

// Open returns a message's payload in the clear: opened with key if it is
// sealed, as is if not. Check the message first.
func (m *Message) Open(chainID string, key *ecdh.PrivateKey) ([]byte, error) {
	if !m.Envelope.Sealed {
		return m.Payload, nil
	}
	if key == nil {
		return nil, fmt.Errorf("%w: the payload is sealed and no key was given", ErrSeal)
	}
	sk, err := hpke.NewDHKEMPrivateKey(key)
	if err != nil {
		return nil, err
	}
	out, err := hpke.Open(sk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), sealInfo(chainID, &m.Envelope), m.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: sealed to another key, or altered (%v)", ErrSeal, err)
	}
	return out, nil
}

// Draft is what a sender chooses of an envelope; Make fills in the rest.
type Draft struct {
	From, To uint64
	Session  string
	ReplyTo  ID
	// Expires is when the envelope expires; zero for TTL from now.
	Expires time.Time
	// TTL is the lifetime from now when Expires is zero (default 10
	// minutes).
	TTL time.Duration
	// SealTo, if set, is the key the payload is sealed to.
	SealTo *EncryptionKey
	// Nonce is the envelope's nonce; zero for a random one.
	Nonce Nonce
}

// DefaultTTL is an envelope's lifetime unless the sender says otherwise.
const DefaultTTL = 10 * time.Minute

// Make builds, seals (if d.SealTo is set) and signs a message.
func Make(chainID string, key ed25519.PrivateKey, d Draft, payload []byte, now time.Time) (Message, error) {
	e := Envelope{From: d.From, To: d.To, Session: d.Session, ReplyTo: d.ReplyTo, Nonce: d.Nonce}
	if e.Nonce == (Nonce{}) {
		e.Nonce = NewNonce()
	}
	switch {
	case !d.Expires.IsZero():
		e.Expires = d.Expires.Unix()
	case d.TTL > 0:
		e.Expires = now.Add(d.TTL).Unix()
	default:
		e.Expires = now.Add(DefaultTTL).Unix()
	}
	copy(e.Key[:], key.Public().(ed25519.PublicKey))
	if d.SealTo != nil {
		sealed, err := seal(chainID, *d.SealTo, &e, payload)
		if err != nil {
			return Message{}, err
		}
		payload, e.Sealed = sealed, true
	}
	if len(payload) > MaxPayload {
		return Message{}, fmt.Errorf("%w: %d bytes, the protocol's limit is %d", ErrTooLarge, len(payload), MaxPayload)
	}
	e.PayloadSize, e.PayloadHash = uint32(len(payload)), types.SumHash(payload)
	if err := e.validate(); err != nil {
		return Message{}, err
	}
	e.Sign(chainID, key)
	return Message{Envelope: e, Payload: payload}, nil
}
