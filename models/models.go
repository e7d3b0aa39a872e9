// Package models holds the language models mycel ships. The project makes
// them itself, from freely licensed text, with its own trainer (package
// train), so the devnet, the tests and the examples never download one.
// Each has a directory with its rebuild command, its corpus's license and
// a sample of its output (models/kjv/README.md).
package models

import (
	"crypto/sha256"
	_ "embed"

	"github.com/mycelnet/mycel/types"
)

//go:embed kjv/kjv.gguf
var kjv []byte

// KJVName is the general.name of mycel's KJV model.
const KJVName = "mycel-kjv"

// KJV returns mycel's KJV model as a GGUF file: a 4M-parameter Llama
// trained on the King James Bible, Q8_0. The slice is shared: do not
// modify it.
func KJV() []byte { return kjv }

// KJVLicense is the license of the KJV model's weights: trained from a
// public-domain text, they are dedicated to the public domain too.
const KJVLicense = "CC0-1.0"

// Owner is the owner under which the devnet registers mycel's models: an
// address derived from a fixed string, whose private key nobody has, so
// the registration can never be changed or transferred.
var Owner = func() (a types.Address) {
	h := sha256.Sum256([]byte("mycel/models/owner"))
	copy(a[:], h[:])
	return a
}()
