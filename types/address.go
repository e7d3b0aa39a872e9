package types

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// AddressPrefix is the bech32 human-readable part of every mycel address.
const AddressPrefix = "myc"

// AddressLen is the length of an address in bytes.
const AddressLen = 20

// Address identifies an account: the first 20 bytes of sha256 of its
// ed25519 public key, or of a module's name for module accounts.
type Address [AddressLen]byte

// AddressFromPubKey derives the account address of an ed25519 public key.
func AddressFromPubKey(pub ed25519.PublicKey) Address {
	sum := sha256.Sum256(pub)
	var a Address
	copy(a[:], sum[:AddressLen])
	return a
}

// ModuleAddress is the address of a module account (fee collector, stake
// pool, reward pools). Nobody holds its key: the prefix keeps it apart from
// every address derived from a public key.
func ModuleAddress(name string) Address {
	sum := sha256.Sum256([]byte("mycel/module/" + name))
	var a Address
	copy(a[:], sum[:AddressLen])
	return a
}

// IsZero reports whether a is the all-zero address.
func (a Address) IsZero() bool { return a == Address{} }

// String returns the bech32 form, myc1...
func (a Address) String() string {
	conv, err := bech32.ConvertBits(a[:], 8, 5, true)
	if err != nil {
		panic(err) // cannot happen for 20 bytes
	}
	s, err := bech32.Encode(AddressPrefix, conv)
	if err != nil {
		panic(err)
	}
	return s
}

// ParseAddress parses the bech32 form of an address.
func ParseAddress(s string) (Address, error) {
	hrp, data, err := bech32.Decode(s)
	if err != nil {
		return Address{}, fmt.Errorf("address %q: %w", s, err)
	}
	if hrp != AddressPrefix {
		return Address{}, fmt.Errorf("address %q: prefix %q, want %q", s, hrp, AddressPrefix)
	}
	raw, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil {
		return Address{}, fmt.Errorf("address %q: %w", s, err)
	}
	if len(raw) != AddressLen {
		return Address{}, fmt.Errorf("address %q: %d bytes, want %d", s, len(raw), AddressLen)
	}
	var a Address
	copy(a[:], raw)
	return a, nil
}

// MarshalText implements encoding.TextMarshaler (JSON uses the bech32 form).
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}
