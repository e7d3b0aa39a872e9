package model

import (
	"encoding/binary"
	"fmt"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

var (
	prefixModel = []byte("model/m/")
	prefixName  = []byte("model/n/")
	prefixOwner = []byte("model/o/")
)

func modelKey(h types.Hash) []byte { return store.Key(prefixModel, h[:]) }

// namePrefix is the index range of one name; the length byte keeps a
// name's range apart from that of every longer name it begins.
func namePrefix(name string) []byte {
	return store.Key(prefixName, []byte{byte(len(name))}, []byte(name))
}

func nameKey(name string, height int64, h types.Hash) []byte {
	return store.Key(namePrefix(name), binary.BigEndian.AppendUint64(nil, uint64(height)), h[:])
}

func ownerPrefix(a types.Address) []byte { return store.Key(prefixOwner, a[:]) }

func ownerKey(a types.Address, h types.Hash) []byte { return store.Key(prefixOwner, a[:], h[:]) }

// after returns the least key greater than key and every key it begins.
func after(key []byte) []byte { return append(key[:len(key):len(key)], 0) }

// hashAt reads the hash that ends an index key.
func hashAt(key []byte) types.Hash {
	var h types.Hash
	copy(h[:], key[len(key)-len(h):])
	return h
}

// Get reads a model; nil when the hash is not registered.
func Get(r store.Reader, h types.Hash) *Model {
	b := r.Get(modelKey(h))
	if b == nil {
		return nil
	}
	m, err := decodeModel(h, b)
	if err != nil {
		panic(fmt.Errorf("model: corrupt record: %w", err))
	}
	return m
}

// put writes a new model and its index entries.
func put(kv store.KV, m *Model) {
	kv.Set(modelKey(m.Hash), m.encode())
	kv.Set(nameKey(m.Name, m.Registered, m.Hash), []byte{})
	kv.Set(ownerKey(m.Owner, m.Hash), []byte{})
}

// register validates and writes a new model: the registration's rules,
// shared by the message and genesis.
func register(kv store.KV, m *Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if old := Get(kv, m.Hash); old != nil {
		return ErrModelExists.Wrapf("%s is registered as %q by %s at height %d", m.Hash, old.Name, old.Owner, old.Registered)
	}
	if !m.Parent.IsZero() && Get(kv, m.Parent) == nil {
		return ErrUnknownParent.Wrapf("parent %s is not a registered model; register it first", m.Parent)
	}
	put(kv, m)
	return nil
}
