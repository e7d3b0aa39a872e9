// Package tx is the transaction: its canonical encoding, the bytes its
// signer signs, and its hash.
//
// Encoding (chain/codec): chain id, signer public key (32 bytes), sequence,
// fee (umyc), expiry height (0 for none), memo, messages (each a kind and
// a body that the kind's module decodes), then the 64-byte ed25519
// signature. The signature covers "mycel/tx/v1" and a zero byte followed by
// everything before the signature, so it binds the chain id and cannot be
// replayed on another chain or taken for another kind of signed object.
package tx

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Limits the decoder enforces before it allocates.
const (
	MaxChainIDLen = 64
	MaxMemoLen    = 256
	MaxMsgs       = 32
	MaxMsgLen     = 64 << 10
)

// SignDomain prefixes the bytes a transaction's signer signs.
const SignDomain = "mycel/tx/v1\x00"

// Msg is one message: its kind (which module handles it) and its body.
type Msg struct {
	Kind uint16
	Body []byte
}

// Tx is a signed transaction.
type Tx struct {
	ChainID  string
	PubKey   ed25519.PublicKey
	Sequence uint64
	Fee      types.Amount
	// Expiry is the last height at which the transaction may be included;
	// 0 means none.
	Expiry int64
	Memo   string
	Msgs   []Msg
	Sig    []byte
}

// Signer returns the address of the signing key.
func (t *Tx) Signer() types.Address { return types.AddressFromPubKey(t.PubKey) }

func (t *Tx) writeBody(w *codec.Writer) {
	w.String(t.ChainID)
	w.Fixed(t.PubKey)
	w.Uvarint(t.Sequence)
	w.Uvarint(uint64(t.Fee))
	w.Uvarint(uint64(t.Expiry))
	w.String(t.Memo)
	w.Uvarint(uint64(len(t.Msgs)))
	for _, m := range t.Msgs {
		w.Uvarint(uint64(m.Kind))
		w.LenBytes(m.Body)
	}
}

// SignBytes returns the bytes the signer signs.
func (t *Tx) SignBytes() []byte {
	w := codec.NewWriter(256)
	w.Fixed([]byte(SignDomain))
	t.writeBody(w)
	return w.Bytes()
}

// Sign sets the public key and signature from key.
func (t *Tx) Sign(key ed25519.PrivateKey) {
	t.PubKey = key.Public().(ed25519.PublicKey)
	t.Sig = ed25519.Sign(key, t.SignBytes())
}

// Encode returns the canonical encoding.
func (t *Tx) Encode() []byte {
	w := codec.NewWriter(256)
	t.writeBody(w)
	w.Fixed(t.Sig)
	return w.Bytes()
}

// Hash returns sha256 of the encoded transaction: the same hash CometBFT
// gives it, so either can be used to look it up.
func Hash(b []byte) types.Hash { return sha256.Sum256(b) }

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed transaction")

// Decode parses an encoded transaction. It checks the form only; the
// signature is checked by VerifySignature.
func Decode(b []byte) (*Tx, error) {
	r := codec.NewReader(b)
	t := &Tx{}
	t.ChainID = r.String(MaxChainIDLen)
	t.PubKey = ed25519.PublicKey(r.Fixed(ed25519.PublicKeySize))
	t.Sequence = r.Uvarint()
	t.Fee = types.Amount(r.Uvarint())
	exp := r.Uvarint()
	t.Memo = r.String(MaxMemoLen)
	n := r.Count(MaxMsgs)
	if r.Err() == nil {
		t.Msgs = make([]Msg, n)
		for i := range t.Msgs {
			k := r.Uvarint()
			if k > 0xffff {
				return nil, fmt.Errorf("%w: message %d: kind %d out of range", ErrMalformed, i, k)
			}
			t.Msgs[i] = Msg{Kind: uint16(k), Body: r.LenBytes(MaxMsgLen)}
		}
	}
	t.Sig = r.Fixed(ed25519.SignatureSize)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if exp > 1<<62 {
		return nil, fmt.Errorf("%w: expiry height %d out of range", ErrMalformed, exp)
	}
	t.Expiry = int64(exp)
	if len(t.Msgs) == 0 {
		return nil, fmt.Errorf("%w: no messages", ErrMalformed)
	}
	return t, nil
}

// VerifySignature checks the signature over SignBytes (ZIP 215 rules).
func (t *Tx) VerifySignature() bool {
	return types.VerifySignature(t.PubKey, t.SignBytes(), t.Sig)
}
