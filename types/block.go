package types

import (
	"sort"
	"strconv"
)

// Block is what a state transition knows about the block it runs in. It
// comes from the block header: the only clock and randomness the
// deterministic core sees.
type Block struct {
	ChainID string
	Height  int64
	// TimeUnixNano is the header time (BFT time, agreed by the validators).
	TimeUnixNano int64
	// Proposer is the consensus address of the block's proposer.
	Proposer []byte
	// LastBlockHash is the hash of the previous block; good only for tie
	// breaks nobody profits from.
	LastBlockHash []byte
}

// Event is something that happened, for clients and indexers: a type and
// ordered attributes.
type Event struct {
	Type  string `json:"type"`
	Attrs []Attr `json:"attributes"`
}

// Attr is one attribute of an event.
type Attr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NewEvent builds an event from alternating keys and values.
func NewEvent(typ string, kv ...string) Event {
	if len(kv)%2 != 0 {
		panic("NewEvent: odd number of key/value strings")
	}
	e := Event{Type: typ, Attrs: make([]Attr, 0, len(kv)/2)}
	for i := 0; i < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, Attr{Key: kv[i], Value: kv[i+1]})
	}
	return e
}

// Get returns the value of the first attribute named key.
func (e Event) Get(key string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// U64 formats an integer attribute value.
func U64(v uint64) string { return strconv.FormatUint(v, 10) }

// SortedKeys returns the keys of a string-keyed map in order, for code
// that must not depend on map iteration order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
