package compute

import (
	"encoding/binary"
	"fmt"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

var (
	keySeq         = []byte("compute/seq")
	prefixProvider = []byte("compute/p/")
	prefixJob      = []byte("compute/j/")
	prefixQueue    = []byte("compute/q/")
	prefixDeadline = []byte("compute/dl/")
	prefixLease    = []byte("compute/le/")
	prefixIndex    = []byte("compute/ix/")
	prefixClasses  = []byte("compute/cls/")
	prefixRevealed = []byte("compute/rv/")
	prefixByClient = []byte("compute/cj/")
	prefixByProv   = []byte("compute/pj/")
	prefixEpoch    = []byte("compute/ew/")
)

func providerKey(a types.Address) []byte { return store.Key(prefixProvider, a[:]) }
func jobKey(id uint64) []byte            { return store.Key(prefixJob, store.BE64(id)) }

// GetProvider reads a provider; nil when the address never registered.
func GetProvider(r store.Reader, a types.Address) *Provider {
	b := r.Get(providerKey(a))
	if b == nil {
		return nil
	}
	return decodeProvider(a, b)
}

func setProvider(kv store.KV, p *Provider) { kv.Set(providerKey(p.Address), p.encode()) }

// GetJob reads a job; nil when there is none.
func GetJob(r store.Reader, id uint64) *Job {
	b := r.Get(jobKey(id))
	if b == nil {
		return nil
	}
	return decodeJob(id, b)
}

func setJob(kv store.KV, j *Job) { kv.Set(jobKey(j.ID), j.encode()) }

func nextJobID(kv store.KV) uint64 {
	var id uint64 = 1
	if b := kv.Get(keySeq); b != nil {
		id = binary.BigEndian.Uint64(b)
	}
	kv.Set(keySeq, store.BE64(id+1))
	return id
}

// A height-ordered queue entry: prefix, height, then an id or address.
func queueKey(prefix []byte, height int64, rest []byte) []byte {
	return store.Key(prefix, store.BE64(uint64(height)), rest)
}

// due returns the entries of a height-ordered queue up to height h.
func due(r store.Reader, prefix []byte, h int64) []store.Change {
	return store.CollectRange(r, prefix, queueKey(prefix, h+1, nil))
}

func idAfter(prefix []byte, key []byte) uint64 {
	if len(key) != len(prefix)+16 {
		panic(fmt.Errorf("compute: corrupt queue key %x", key))
	}
	return binary.BigEndian.Uint64(key[len(prefix)+8:])
}

func addrAfter(prefix []byte, key []byte) types.Address {
	var a types.Address
	if len(key) != len(prefix)+8+types.AddressLen {
		panic(fmt.Errorf("compute: corrupt queue key %x", key))
	}
	copy(a[:], key[len(prefix)+8:])
	return a
}

func clientKey(a types.Address, id uint64) []byte {
	return store.Key(prefixByClient, a[:], store.BE64(id))
}
func providerJobKey(a types.Address, id uint64) []byte {
	return store.Key(prefixByProv, a[:], store.BE64(id))
}

// epoch work: gas settled by a provider in the current reward epoch.
func epochWork(r store.Reader, a types.Address) uint64 {
	if b := r.Get(store.Key(prefixEpoch, a[:])); len(b) == 8 {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func addEpochWork(kv store.KV, a types.Address, gas uint64) {
	w := epochWork(kv, a) + gas
	if w < gas {
		w = ^uint64(0) // saturate: shares only need the proportion
	}
	kv.Set(store.Key(prefixEpoch, a[:]), store.BE64(w))
}
