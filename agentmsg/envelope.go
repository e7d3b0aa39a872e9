package agentmsg

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Limits of the protocol.
const (
	// Version is the envelope version this package writes and reads.
	Version = 1
	// MaxPayload is the largest payload any envelope may announce. Nodes
	// and agents may take less (a node's mailbox takes 256 KiB by
	// default).
	MaxPayload = 1 << 20
	// MaxSession bounds a session id.
	MaxSession = 128
	// MaxLifetime is how far in the future an envelope may expire, so a
	// receiver's replay window holds each nonce at most this long.
	MaxLifetime = 24 * time.Hour
	// ClockSkew is how far a receiver's clock may run behind a sender's:
	// an envelope may expire up to MaxLifetime + ClockSkew from the
	// receiver's now.
	ClockSkew = 5 * time.Minute
	// MaxEncodedLen bounds an envelope's binary encoding.
	MaxEncodedLen = 1 + 3*10 + 10 + MaxSession + 16 + 32 + 1 + 32 + 32 + 64
)

// Errors. Each refusal wraps one, for errors.Is.
var (
	ErrMalformed       = errors.New("malformed envelope")
	ErrTooLarge        = errors.New("payload too large")
	ErrBadSignature    = errors.New("envelope signature does not verify")
	ErrExpired         = errors.New("envelope expired")
	ErrTooFar          = errors.New("envelope expires too far in the future")
	ErrReplayed        = errors.New("envelope replayed")
	ErrPayloadMismatch = errors.New("payload does not match the envelope")
	ErrWrongKey        = errors.New("envelope not signed by the sender's key")
	ErrBusy            = errors.New("replay window full")
	ErrSeal            = errors.New("cannot open sealed payload")
)

// Nonce makes an envelope unique among its sender's.
type Nonce [16]byte

// NewNonce returns a random nonce.
func NewNonce() Nonce {
	var n Nonce
	if _, err := rand.Read(n[:]); err != nil {
		panic(err)
	}
	return n
}

func (n Nonce) String() string { return hex.EncodeToString(n[:]) }

// ID names an envelope: the sha256 of its signed bytes. Signatures are not
// part of it, so nobody makes a second id for the same envelope by
// re-encoding its signature.
type ID [32]byte

// IsZero reports whether id names no envelope.
func (id ID) IsZero() bool { return id == ID{} }

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID reads an id's 64 hex digits.
func ParseID(s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%w: envelope id %q: want 64 hex digits", ErrMalformed, s)
	}
	copy(id[:], b)
	return id, nil
}

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	*id = v
	return err
}

// Envelope is a signed message header. See the package doc.
type Envelope struct {
	// From is the sender agent's id; 0 when the sender is no agent.
	From uint64
	// To is the target agent's id; 0 only for an answer to a sender that
	// is no agent.
	To uint64
	// Session groups envelopes of one conversation (A2A's contextId).
	Session string
	Nonce   Nonce
	// Expires is the unix second after which the envelope is refused.
	Expires int64
	// ReplyTo is the id of the envelope this one answers; zero for none.
	ReplyTo ID
	// Sealed says the payload is sealed to the target's key (Seal).
	Sealed      bool
	PayloadSize uint32
	PayloadHash types.Hash
	// Key is the signer's ed25519 public key: the registered signing key
	// of agent From, or the account's key when From is 0.
	Key       [ed25519.PublicKeySize]byte
	Signature [ed25519.SignatureSize]byte
}

const flagSealed = 1

// domain prefixes what an envelope's signature covers.
const domain = "mycel/agentmsg/envelope/v1\x00"

// validate checks the fields' ranges.
func (e *Envelope) validate() error {
	switch {
	case e.To == 0 && e.ReplyTo.IsZero():
		return fmt.Errorf("%w: a target agent is required (to 0 is only for answers)", ErrMalformed)
	case len(e.Session) > MaxSession:
		return fmt.Errorf("%w: session of %d bytes, at most %d", ErrMalformed, len(e.Session), MaxSession)
	case !utf8.ValidString(e.Session):
		return fmt.Errorf("%w: session is not UTF-8", ErrMalformed)
	case e.Expires <= 0:
		return fmt.Errorf("%w: expires must be a positive unix time", ErrMalformed)
	case e.PayloadSize > MaxPayload:
		return fmt.Errorf("%w: the envelope announces %d bytes, the protocol's limit is %d", ErrTooLarge, e.PayloadSize, MaxPayload)
	}
	for i, r := range e.Session {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: session has a control character at byte %d", ErrMalformed, i)
		}
	}
	return nil
}

func (e *Envelope) body(w *codec.Writer) {
	w.Byte(Version)
	w.Uvarint(e.From)
	w.Uvarint(e.To)
	w.String(e.Session)
	w.Fixed(e.Nonce[:])
	w.Uvarint(uint64(e.Expires))
	w.Fixed(e.ReplyTo[:])
	var flags byte
	if e.Sealed {
		flags |= flagSealed
	}
	w.Byte(flags)
	w.Uvarint(uint64(e.PayloadSize))
	w.Fixed(e.PayloadHash[:])
	w.Fixed(e.Key[:])
}

// Encode returns the canonical binary encoding: a version byte, from, to,
// the session (length-prefixed), the nonce, expires, reply-to, a flags
// byte, the payload's size and hash, the key and the signature. Integers
// are minimal unsigned LEB128 varints.
func (e Envelope) Encode() []byte {
	w := codec.NewWriter(200 + len(e.Session))
	e.body(w)
	w.Fixed(e.Signature[:])
	return w.Bytes()
}

// Decode parses a binary envelope and checks its fields' ranges (not its
// signature: see Verify). It accepts only the canonical encoding.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if len(b) > MaxEncodedLen {
		return e, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(b), MaxEncodedLen)
	}
	r := codec.NewReader(b)
	if v := r.Byte(); r.Err() == nil && v != Version {
		return e, fmt.Errorf("%w: version %d, this node reads %d", ErrMalformed, v, Version)
	}
	e.From = r.Uvarint()
	e.To = r.Uvarint()
	e.Session = r.String(MaxSession)
	r.FixedInto(e.Nonce[:])
	exp := r.Uvarint()
	r.FixedInto(e.ReplyTo[:])
	flags := r.Byte()
	size := r.Uvarint()
	r.FixedInto(e.PayloadHash[:])
	r.FixedInto(e.Key[:])
	r.FixedInto(e.Signature[:])
	if err := r.Done(); err != nil {
		return e, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if exp > 1<<62 {
		return e, fmt.Errorf("%w: expires %d is out of range", ErrMalformed, exp)
	}
	e.Expires = int64(exp)
	if flags&^flagSealed != 0 {
		return e, fmt.Errorf("%w: unknown flags %#x", ErrMalformed, flags)
	}
	e.Sealed = flags&flagSealed != 0
	if size > MaxPayload {
		return e, fmt.Errorf("%w: the envelope announces %d bytes, the protocol's limit is %d", ErrTooLarge, size, MaxPayload)
	}
	e.PayloadSize = uint32(size)
	return e, e.validate()
}

// SignBytes are the bytes the signature covers: the domain tag, the chain
// id (length-prefixed) and the encoding without the signature.
func (e *Envelope) SignBytes(chainID string) []byte {
	w := codec.NewWriter(256 + len(chainID) + len(e.Session))
	w.Fixed([]byte(domain))
	w.String(chainID)
	e.body(w)
	return w.Bytes()
}

// ID returns the envelope's id on a chain.
func (e *Envelope) ID(chainID string) ID { return sha256.Sum256(e.SignBytes(chainID)) }

// Sign sets the key and signs.
func (e *Envelope) Sign(chainID string, key ed25519.PrivateKey) {
	copy(e.Key[:], key.Public().(ed25519.PublicKey))
	copy(e.Signature[:], ed25519.Sign(key, e.SignBytes(chainID)))
}

// Verify checks the fields' ranges and the signature under e.Key, by the
// ZIP 215 rules consensus uses.
func (e *Envelope) Verify(chainID string) error {
	if err := e.validate(); err != nil {
		return err
	}
	if !types.VerifySignature(e.Key[:], e.SignBytes(chainID), e.Signature[:]) {
		return fmt.Errorf("%w: from agent %d, key %x", ErrBadSignature, e.From, e.Key[:8])
	}
	return nil
}

// CheckTime checks the expiry against now: not past, and not more than
// MaxLifetime (plus ClockSkew) ahead.
func (e *Envelope) CheckTime(now time.Time) error {
	n := now.Unix()
	if e.Expires < n {
		return fmt.Errorf("%w at %s (now %s)", ErrExpired, time.Unix(e.Expires, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if e.Expires > n+int64((MaxLifetime+ClockSkew)/time.Second) {
		return fmt.Errorf("%w: %s; at most %v from now", ErrTooFar, time.Unix(e.Expires, 0).UTC().Format(time.RFC3339), MaxLifetime)
	}
	return nil
}

// CheckPayload checks that payload is what the envelope announces.
func (e *Envelope) CheckPayload(payload []byte) error {
	if len(payload) != int(e.PayloadSize) {
		return fmt.Errorf("%w: %d bytes, the envelope announces %d", ErrPayloadMismatch, len(payload), e.PayloadSize)
	}
	if types.SumHash(payload) != e.PayloadHash {
		return fmt.Errorf("%w: its sha256 differs from the envelope's", ErrPayloadMismatch)
	}
	return nil
}

// SenderAddress is the account address of the envelope's key.
func (e *Envelope) SenderAddress() types.Address { return types.AddressFromPubKey(e.Key[:]) }

// String is the compact text form: unpadded URL-safe base64 of Encode.
func (e Envelope) String() string { return base64.RawURLEncoding.EncodeToString(e.Encode()) }

// ParseEnvelope reads the compact text form.
func ParseEnvelope(s string) (Envelope, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: not URL-safe base64: %v", ErrMalformed, err)
	}
	return Decode(b)
}

type envelopeJSON struct {
	Version     int    `json:"version"`
	From        string `json:"from"`
	To          string `json:"to"`
	Session     string `json:"session"`
	Nonce       string `json:"nonce"`
	Expires     int64  `json:"expires"`
	ReplyTo     string `json:"reply_to,omitempty"`
	Sealed      bool   `json:"sealed"`
	PayloadSize uint32 `json:"payload_size"`
	PayloadHash string `json:"payload_hash"`
	Key         string `json:"key"`
	Signature   string `json:"signature"`
}

// MarshalJSON writes the JSON form: ids as decimal strings, byte fields as
// hex, expires as a number.
func (e Envelope) MarshalJSON() ([]byte, error) {
	j := envelopeJSON{Version: Version, From: strconv.FormatUint(e.From, 10), To: strconv.FormatUint(e.To, 10),
		Session: e.Session, Nonce: e.Nonce.String(), Expires: e.Expires, Sealed: e.Sealed, PayloadSize: e.PayloadSize,
		PayloadHash: e.PayloadHash.String(), Key: hex.EncodeToString(e.Key[:]), Signature: hex.EncodeToString(e.Signature[:])}
	if !e.ReplyTo.IsZero() {
		j.ReplyTo = e.ReplyTo.String()
	}
	return json.Marshal(j)
}

func hexInto(dst []byte, field, s string) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("%w: %s: want %d hex digits", ErrMalformed, field, 2*len(dst))
	}
	copy(dst, b)
	return nil
}

// UnmarshalJSON reads the JSON form, or the compact text form as a JSON
// string. Both go through the same checks as Decode.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		v, err := ParseEnvelope(s)
		if err != nil {
			return err
		}
		*e = v
		return nil
	}
	var j envelopeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if j.Version != Version {
		return fmt.Errorf("%w: version %d, this node reads %d", ErrMalformed, j.Version, Version)
	}
	var v Envelope
	var err error
	if v.From, err = strconv.ParseUint(j.From, 10, 64); err != nil {
		return fmt.Errorf("%w: from %q: want an agent id (0 for none)", ErrMalformed, j.From)
	}
	if v.To, err = strconv.ParseUint(j.To, 10, 64); err != nil {
		return fmt.Errorf("%w: to %q: want an agent id", ErrMalformed, j.To)
	}
	v.Session, v.Expires, v.Sealed, v.PayloadSize = j.Session, j.Expires, j.Sealed, j.PayloadSize
	if err := hexInto(v.Nonce[:], "nonce", j.Nonce); err != nil {
		return err
	}
	if j.ReplyTo != "" {
		if err := hexInto(v.ReplyTo[:], "reply_to", j.ReplyTo); err != nil {
			return err
		}
	}
	if err := hexInto(v.PayloadHash[:], "payload_hash", j.PayloadHash); err != nil {
		return err
	}
	if err := hexInto(v.Key[:], "key", j.Key); err != nil {
		return err
	}
	if err := hexInto(v.Signature[:], "signature", j.Signature); err != nil {
		return err
	}
	if err := v.validate(); err != nil {
		return err
	}
	*e = v
	return nil
}

// Message is an envelope with the payload that travels beside it.
type Message struct {
	Envelope Envelope `json:"envelope"`
	// Payload is the payload's bytes (base64 in JSON).
	Payload []byte `json:"payload"`
}

// Check verifies the envelope's signature and fields, and that the payload
// is the one it announces, within limit bytes (MaxPayload if 0).
func (m *Message) Check(chainID string, limit int) error {
	if limit <= 0 || limit > MaxPayload {
		limit = MaxPayload
	}
	if int(m.Envelope.PayloadSize) > limit {
		return fmt.Errorf("%w: %d bytes, this receiver takes at most %d", ErrTooLarge, m.Envelope.PayloadSize, limit)
	}
	if len(m.Payload) > limit {
		return fmt.Errorf("%w: %d bytes, this receiver takes at most %d", ErrTooLarge, len(m.Payload), limit)
	}
	if err := m.Envelope.Verify(chainID); err != nil {
		return err
	}
	return m.Envelope.CheckPayload(m.Payload)
}
