package store

import "encoding/binary"

// Key joins the parts of a state key (a module's prefix, then ids and
// addresses) into one new slice.
func Key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// BE64 is v as 8 big-endian bytes: ids in keys sort by value.
func BE64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
