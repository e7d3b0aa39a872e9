package store

import (
	"bytes"

	"github.com/google/btree"
)

// MemDB is an ordered in-memory KV. Tests use it as committed state, and
// the tree's node store in tests.
type MemDB struct {
	t *btree.BTreeG[Change]
}

func lessChange(a, b Change) bool { return bytes.Compare(a.Key, b.Key) < 0 }

// NewMemDB returns an empty MemDB.
func NewMemDB() *MemDB { return &MemDB{t: btree.NewG(32, lessChange)} }

// Get implements Reader.
func (m *MemDB) Get(key []byte) []byte {
	c, ok := m.t.Get(Change{Key: key})
	if !ok {
		return nil
	}
	return c.Value
}

// Set implements KV.
func (m *MemDB) Set(key, value []byte) {
	m.t.ReplaceOrInsert(Change{Key: clone(key), Value: clone(value)})
}

// Delete implements KV.
func (m *MemDB) Delete(key []byte) { m.t.Delete(Change{Key: key}) }

// Len returns the number of keys.
func (m *MemDB) Len() int { return m.t.Len() }

// Apply writes a list of changes.
func (m *MemDB) Apply(changes []Change) {
	for _, c := range changes {
		if c.Value == nil {
			m.Delete(c.Key)
		} else {
			m.Set(c.Key, c.Value)
		}
	}
}

// Iterator implements Reader over a snapshot of the range taken now.
func (m *MemDB) Iterator(start, end []byte) Iterator {
	var items []Change
	visit := func(c Change) bool {
		if end != nil && bytes.Compare(c.Key, end) >= 0 {
			return false
		}
		items = append(items, c)
		return true
	}
	if start == nil {
		m.t.Ascend(visit)
	} else {
		m.t.AscendGreaterOrEqual(Change{Key: start}, visit)
	}
	return &sliceIter{items: items}
}

type sliceIter struct{ items []Change }

func (s *sliceIter) Valid() bool   { return len(s.items) > 0 }
func (s *sliceIter) Next()         { s.items = s.items[1:] }
func (s *sliceIter) Key() []byte   { return s.items[0].Key }
func (s *sliceIter) Value() []byte { return s.items[0].Value }
func (s *sliceIter) Close()        {}
