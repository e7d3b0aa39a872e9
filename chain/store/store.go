package store

// Reader reads state. Get returns nil for an absent key; the returned slice
// must not be modified. Implementations over storage panic on I/O errors:
// a node whose disk fails must stop rather than diverge.
type Reader interface {
	Get(key []byte) []byte
	// Iterator walks keys in [start, end) in ascending byte order; a nil
	// bound is open. Writes made while an iterator is open are not seen by it.
	Iterator(start, end []byte) Iterator
}

// Iterator is an ordered cursor. Use it as
//
//	for it := r.Iterator(a, b); it.Valid(); it.Next() { ... }
//
// and Close it when done.
type Iterator interface {
	Valid() bool
	Next()
	Key() []byte
	Value() []byte
	Close()
}

// KV is state that can be written.
type KV interface {
	Reader
	Set(key, value []byte)
	Delete(key []byte)
}

// Change is one write of a block: a new value, or a deletion when Value is
// nil.
type Change struct {
	Key   []byte
	Value []byte
}

// PrefixEnd returns the smallest key greater than every key with the given
// prefix, for use as an iterator's end; nil when there is none.
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Collect returns the key/value pairs under a prefix, in order. It is for
// small ranges (validators, unbonding queues); large ranges should iterate.
func Collect(r Reader, prefix []byte) []Change {
	return CollectRange(r, prefix, PrefixEnd(prefix))
}

// CollectRange returns the key/value pairs in [start, end), in order.
func CollectRange(r Reader, start, end []byte) []Change {
	var out []Change
	it := r.Iterator(start, end)
	defer it.Close()
	for ; it.Valid(); it.Next() {
		out = append(out, Change{Key: clone(it.Key()), Value: clone(it.Value())})
	}
	return out
}
