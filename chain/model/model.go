package model

import (
	"fmt"
	"unicode/utf8"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Limits of a model's text fields, in bytes.
const (
	MaxNameLen        = 64
	MaxLicenseLen     = 64
	MaxDescriptionLen = 256
)

// Format is a model file's format.
type Format uint8

// Formats. Never renumber.
const (
	FormatGGUF        Format = 1
	FormatWasm        Format = 2
	FormatONNX        Format = 3
	FormatSafetensors Format = 4
)

var formatNames = []string{"", "gguf", "wasm", "onnx", "safetensors"}

// Valid reports whether f is a known format.
func (f Format) Valid() bool { return f > 0 && int(f) < len(formatNames) }

func (f Format) String() string {
	if f.Valid() {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if i > 0 && n == s {
			return Format(i), nil
		}
	}
	return 0, ErrInvalidFormat.Wrapf("%q: use gguf, wasm, onnx or safetensors", s)
}

// MarshalText implements encoding.TextMarshaler.
func (f Format) MarshalText() ([]byte, error) {
	if !f.Valid() {
		return nil, ErrInvalidFormat.Wrapf("format %d", uint8(f))
	}
	return []byte(f.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	*f = v
	return err
}

// Model is a registered model.
type Model struct {
	// Hash is the sha256 of the model file: the model's identity.
	Hash  types.Hash    `json:"hash"`
	Owner types.Address `json:"owner"`
	Name  string        `json:"name"`
	// Format is the file's format.
	Format Format `json:"format"`
	// Size is the file's length in bytes.
	Size uint64 `json:"size"`
	// License is a license name, an SPDX identifier or expression if it
	// has one; empty when unstated.
	License string `json:"license"`
	// Parent is the model this one was derived from (fine-tuned,
	// quantised, distilled); zero for none.
	Parent      types.Hash `json:"parent,omitzero"`
	Description string     `json:"description"`
	// Registered is the height of the block that registered the model;
	// 0 for genesis.
	Registered int64 `json:"registered_height"`
}

// ValidateName checks a model name: 1 to 64 bytes of letters, digits and
// . _ : / -, starting with a letter or a digit. Names are safe in URLs and
// as OpenAI model ids.
func ValidateName(s string) error {
	if len(s) == 0 {
		return ErrInvalidName.Wrapf("a model needs a name")
	}
	if len(s) > MaxNameLen {
		return ErrInvalidName.Wrapf("%d bytes: at most %d", len(s), MaxNameLen)
	}
	if !alnum(s[0]) {
		return ErrInvalidName.Wrapf("%q: it must start with a letter or a digit", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !alnum(c) && c != '.' && c != '_' && c != ':' && c != '/' && c != '-' {
			return ErrInvalidName.Wrapf("%q: byte %d is %q; use letters, digits and . _ : / -", s, i, c)
		}
	}
	return nil
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ValidateLicense checks a license: at most 64 bytes of printable ASCII
// (an SPDX expression such as "Apache-2.0 OR MIT"), no space at either end.
func ValidateLicense(s string) error {
	if len(s) > MaxLicenseLen {
		return ErrInvalidLicense.Wrapf("%d bytes: at most %d", len(s), MaxLicenseLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return ErrInvalidLicense.Wrapf("%q: byte %d is not printable ASCII", s, i)
		}
	}
	if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return ErrInvalidLicense.Wrapf("%q: no spaces at the ends", s)
	}
	return nil
}

// ValidateDescription checks a description: at most 256 bytes of UTF-8
// without control characters.
func ValidateDescription(s string) error {
	if len(s) > MaxDescriptionLen {
		return ErrInvalidDescription.Wrapf("%d bytes: at most %d", len(s), MaxDescriptionLen)
	}
	if !utf8.ValidString(s) {
		return ErrInvalidDescription.Wrapf("not valid UTF-8")
	}
	for i, r := range s {
		if r < 0x20 || r >= 0x7f && r < 0xa0 {
			return ErrInvalidDescription.Wrapf("control character %U at byte %d", r, i)
		}
	}
	return nil
}

// Validate checks every field a registration sets.
func (m *Model) Validate() error {
	switch {
	case m.Hash.IsZero():
		return ErrInvalidHash.Wrapf("the zero hash names no file")
	case m.Owner.IsZero():
		return ErrInvalidOwner.Wrapf("the zero address cannot own a model")
	case !m.Format.Valid():
		return ErrInvalidFormat.Wrapf("format %d: use gguf, wasm, onnx or safetensors", uint8(m.Format))
	case m.Size == 0:
		return ErrInvalidSize.Wrapf("a model file has at least one byte")
	case m.Parent == m.Hash:
		return ErrUnknownParent.Wrapf("model %s cannot be its own parent", m.Hash)
	}
	if err := ValidateName(m.Name); err != nil {
		return err
	}
	if err := ValidateLicense(m.License); err != nil {
		return err
	}
	return ValidateDescription(m.Description)
}

// maxDecodeLen bounds the text fields a decoder accepts: more than any
// valid field, so that an over-long one gets the precise validation error
// rather than a decoding one.
const maxDecodeLen = 1024

func (m *Model) encode() []byte {
	w := codec.NewWriter(96 + len(m.Name) + len(m.License) + len(m.Description))
	w.Fixed(m.Owner[:])
	w.String(m.Name)
	w.Byte(byte(m.Format))
	w.Uvarint(m.Size)
	w.String(m.License)
	w.Fixed(m.Parent[:])
	w.String(m.Description)
	w.Varint(m.Registered)
	return w.Bytes()
}

func decodeModel(h types.Hash, b []byte) (*Model, error) {
	r := codec.NewReader(b)
	m := &Model{Hash: h}
	r.FixedInto(m.Owner[:])
	m.Name = r.String(MaxNameLen)
	m.Format = Format(r.Byte())
	m.Size = r.Uvarint()
	m.License = r.String(MaxLicenseLen)
	r.FixedInto(m.Parent[:])
	m.Description = r.String(MaxDescriptionLen)
	m.Registered = r.Varint()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("model %s: %w", h, err)
	}
	return m, nil
}
