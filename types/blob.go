package types

import (
	"encoding/binary"
)

// BlobUploadDomain prefixes what an account signs to upload a blob.
const BlobUploadDomain = "mycel/blob-upload/v1\x00"

// BlobUploadSignBytes returns the bytes an account signs to upload a blob
// of a given hash and size to a node of chainID, valid until expires (unix
// seconds). The HTTP headers X-Mycel-Pubkey, X-Mycel-Expires and
// X-Mycel-Signature carry the key, the expiry and the signature.
func BlobUploadSignBytes(chainID string, sum Hash, size int64, expires int64) []byte {
	b := make([]byte, 0, len(BlobUploadDomain)+1+len(chainID)+32+16)
	b = append(b, BlobUploadDomain...)
	b = append(b, byte(len(chainID)))
	b = append(b, chainID...)
	b = append(b, sum[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(size))
	return binary.BigEndian.AppendUint64(b, uint64(expires))
}
