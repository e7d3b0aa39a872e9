package paych

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// SignDomain prefixes the bytes a voucher key signs. Domain separation
// keeps a voucher signature from ever passing as a transaction's or a
// blob upload's, and the chain id that follows keeps a voucher of one
// chain from counting on another.
const SignDomain = "mycel/paych/voucher/v1\x00"

// VoucherVersion is the first byte of a voucher's encoding.
const VoucherVersion = 1

// MaxVoucherLen bounds a voucher's binary encoding: the version, six
// varints and the signature.
const MaxVoucherLen = 1 + 6*10 + ed25519.SignatureSize

// PublicKey is an ed25519 public key; its text form is hex.
type PublicKey [ed25519.PublicKeySize]byte

// IsZero reports whether k is all zeros.
func (k PublicKey) IsZero() bool { return k == PublicKey{} }

func (k PublicKey) String() string { return hex.EncodeToString(k[:]) }

// MarshalText implements encoding.TextMarshaler.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PublicKey) UnmarshalText(b []byte) error {
	p, err := ParsePublicKey(string(b))
	*k = p
	return err
}

// ParsePublicKey reads the 64 hex digits of a public key.
func ParsePublicKey(s string) (PublicKey, error) {
	var k PublicKey
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(k) {
		return k, ErrInvalidKey.Wrapf("%q: want the 64 hex digits of an ed25519 public key", s)
	}
	copy(k[:], b)
	return k, nil
}

// KeyOf returns the public key of a private key.
func KeyOf(priv ed25519.PrivateKey) PublicKey {
	var k PublicKey
	copy(k[:], priv.Public().(ed25519.PublicKey))
	return k
}

// Voucher is a payer's signed promise on one lane of a channel: the payee
// may redeem Amount in all on this lane. Amounts are cumulative, so only
// the latest voucher of a lane (the one with the highest nonce) matters.
type Voucher struct {
	Channel uint64
	Lane    uint64
	// Nonce orders the vouchers of a lane: the chain counts a voucher only
	// if its nonce is above every nonce redeemed on the lane before.
	Nonce uint64
	// Amount is the cumulative amount of the lane.
	Amount types.Amount
	// MinSettleHeight keeps the channel from settling before this height
	// once the voucher is redeemed; 0 for none.
	MinSettleHeight int64
	// Expiry is the last height at which the voucher may be redeemed; 0
	// for none.
	Expiry    int64
	Signature [ed25519.SignatureSize]byte
}

// body writes the signed fields.
func (v *Voucher) body(w *codec.Writer) {
	w.Byte(VoucherVersion)
	w.Uvarint(v.Channel)
	w.Uvarint(v.Lane)
	w.Uvarint(v.Nonce)
	w.Uvarint(uint64(v.Amount))
	w.Uvarint(uint64(v.MinSettleHeight))
	w.Uvarint(uint64(v.Expiry))
}

// Encode returns the voucher's canonical binary encoding: a version byte,
// the channel, lane, nonce, amount, minimum settle height and expiry as
// minimal unsigned varints, then the 64-byte signature.
func (v Voucher) Encode() []byte {
	w := codec.NewWriter(MaxVoucherLen)
	v.body(w)
	w.Fixed(v.Signature[:])
	return w.Bytes()
}

// DecodeVoucher parses a voucher's binary encoding. It accepts only the
// canonical encoding, so one voucher has one encoding.
func DecodeVoucher(b []byte) (Voucher, error) {
	r := codec.NewReader(b)
	var v Voucher
	if ver := r.Byte(); r.Err() == nil && ver != VoucherVersion {
		return v, ErrMalformed.Wrapf("voucher version %d, want %d", ver, VoucherVersion)
	}
	v.Channel = r.Uvarint()
	v.Lane = r.Uvarint()
	v.Nonce = r.Uvarint()
	v.Amount = types.Amount(r.Uvarint())
	minSettle, expiry := r.Uvarint(), r.Uvarint()
	r.FixedInto(v.Signature[:])
	if err := r.Done(); err != nil {
		return v, ErrMalformed.Wrapf("voucher: %v", err)
	}
	if minSettle > math.MaxInt64 || expiry > math.MaxInt64 {
		return v, ErrMalformed.Wrapf("voucher: height out of range")
	}
	v.MinSettleHeight, v.Expiry = int64(minSettle), int64(expiry)
	return v, nil
}

// SignBytes returns what the voucher key signs: SignDomain, the chain id
// (length-prefixed) and the voucher without its signature.
func (v *Voucher) SignBytes(chainID string) []byte {
	w := codec.NewWriter(len(SignDomain) + 1 + len(chainID) + MaxVoucherLen)
	w.Fixed([]byte(SignDomain))
	w.String(chainID)
	v.body(w)
	return w.Bytes()
}

// Sign signs the voucher for a chain with the channel's voucher key.
func (v *Voucher) Sign(chainID string, key ed25519.PrivateKey) {
	copy(v.Signature[:], ed25519.Sign(key, v.SignBytes(chainID)))
}

// Verify checks the signature under key for a chain, by the ZIP 215 rules
// consensus uses, so that a wallet that accepts a voucher offline agrees
// with the chain that redeems it.
func (v *Voucher) Verify(chainID string, key PublicKey) error {
	if !types.VerifySignature(key[:], v.SignBytes(chainID), v.Signature[:]) {
		return ErrBadSignature.Wrapf("voucher %s is not signed by the channel's key %s for chain %q", v.Ref(), key, chainID)
	}
	return nil
}

// Ref names the voucher in messages: channel/lane/nonce.
func (v *Voucher) Ref() string { return fmt.Sprintf("%d/%d/%d", v.Channel, v.Lane, v.Nonce) }

// String returns the compact text form: the unpadded URL-safe base64 of
// the binary encoding, one token fit for an HTTP header or a command line.
func (v Voucher) String() string { return base64.RawURLEncoding.EncodeToString(v.Encode()) }

// ParseVoucher reads a voucher in its compact text form or as JSON.
func ParseVoucher(s string) (Voucher, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		var v Voucher
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return v, ErrInvalidVoucher.Wrapf("JSON: %v", err)
		}
		return v, nil
	}
	if len(s) > base64.RawURLEncoding.EncodedLen(MaxVoucherLen) {
		return Voucher{}, ErrInvalidVoucher.Wrapf("%d characters: longer than any voucher", len(s))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Voucher{}, ErrInvalidVoucher.Wrapf("want a voucher's JSON or its unpadded URL-safe base64: %v", err)
	}
	return DecodeVoucher(b)
}

// voucherJSON is a voucher's JSON form. 64-bit numbers are strings (as
// amounts are everywhere), for clients with 53-bit numbers; heights are
// numbers.
type voucherJSON struct {
	Channel         u64          `json:"channel"`
	Lane            u64          `json:"lane"`
	Nonce           u64          `json:"nonce"`
	Amount          types.Amount `json:"amount"`
	MinSettleHeight int64        `json:"min_settle_height"`
	Expiry          int64        `json:"expiry_height"`
	Signature       string       `json:"signature"`
}

// MarshalJSON writes the voucher's JSON form, with the signature in hex.
func (v Voucher) MarshalJSON() ([]byte, error) {
	return json.Marshal(voucherJSON{Channel: u64(v.Channel), Lane: u64(v.Lane), Nonce: u64(v.Nonce), Amount: v.Amount,
		MinSettleHeight: v.MinSettleHeight, Expiry: v.Expiry, Signature: hex.EncodeToString(v.Signature[:])})
}

// UnmarshalJSON reads the JSON form. Every field is required but the
// heights.
func (v *Voucher) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, k := range []string{"channel", "lane", "nonce", "amount", "signature"} {
		if _, ok := raw[k]; !ok {
			return fmt.Errorf("voucher: no %q", k)
		}
	}
	var j voucherJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.MinSettleHeight < 0 || j.Expiry < 0 {
		return fmt.Errorf("voucher: negative height")
	}
	sig, err := hex.DecodeString(j.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("voucher: signature %q: want %d hex digits", j.Signature, 2*ed25519.SignatureSize)
	}
	*v = Voucher{Channel: uint64(j.Channel), Lane: uint64(j.Lane), Nonce: uint64(j.Nonce), Amount: j.Amount,
		MinSettleHeight: j.MinSettleHeight, Expiry: j.Expiry}
	copy(v.Signature[:], sig)
	return nil
}

// u64 is a 64-bit number in JSON as a decimal string; it reads a bare
// number too.
type u64 uint64

func (n u64) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatUint(uint64(n), 10))
}

func (n *u64) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q: want a whole number", s)
	}
	*n = u64(v)
	return nil
}
