package types

import (
	"crypto/ed25519"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// zip215 are the Ed25519 validation rules of ZIP 215: the same for single
// and batch verification and for every implementation that follows them,
// which consensus needs (every node must agree on which signatures are
// valid), and about twice as fast here as the standard library.
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// VerifySignature reports whether sig is pub's Ed25519 signature of msg,
// under the ZIP 215 rules.
func VerifySignature(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, zip215)
}

// SignatureBatch verifies many signatures at once, faster than one by one.
type SignatureBatch struct {
	bv *voi.BatchVerifier
	n  int
}

// NewSignatureBatch returns an empty batch.
func NewSignatureBatch() *SignatureBatch { return &SignatureBatch{bv: voi.NewBatchVerifier()} }

// Add queues a signature; malformed keys or signatures fail the batch.
func (b *SignatureBatch) Add(pub ed25519.PublicKey, msg, sig []byte) {
	b.bv.AddWithOptions(voi.PublicKey(pub), msg, sig, zip215)
	b.n++
}

// Verify checks the whole batch and reports, per signature in the order
// added, whether it is valid. With all valid it costs one batch check; with
// any invalid it falls back to checking each.
func (b *SignatureBatch) Verify() []bool {
	_, valid := b.bv.Verify(nil)
	return valid
}
