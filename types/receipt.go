package types

import "encoding/binary"

// ReceiptDomain prefixes the bytes an inference receipt's signer signs,
// so the signature cannot be taken for a transaction's or any other
// object's.
const ReceiptDomain = "mycel/receipt/v1\x00"

// ReceiptFields are what an inference receipt signs: the provider's
// statement that it ran request on model with runtime and produced
// output. The inference package gives receipts their JSON and HTTP forms;
// the chain checks their signatures in disputes.
type ReceiptFields struct {
	Version       string
	Runtime       string
	Deterministic bool
	Model         Hash
	Request       Hash
	Output        Hash
	Seed          uint64
	Provider      Address
}

// SignBytes returns the canonical bytes a receipt's signature covers.
func (r ReceiptFields) SignBytes() []byte {
	b := []byte(ReceiptDomain)
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
