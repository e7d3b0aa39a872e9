package store

import (
	"bytes"

	"github.com/google/btree"
)

// Cache buffers writes over a parent Reader. Reads see the buffer first.
// WriteTo applies the buffer to a KV (the parent, for a branch); Changes
// hands it to whoever commits a block. Keys are kept in a map, for reads,
// and in a B-tree, so that iterating stays cheap while a block writes.
type Cache struct {
	parent Reader
	writes map[string][]byte
	order  *btree.BTreeG[string]
}

// NewCache returns an empty buffer over parent.
func NewCache(parent Reader) *Cache {
	return &Cache{parent: parent, writes: make(map[string][]byte), order: btree.NewOrderedG[string](16)}
}

// Get implements Reader.
func (c *Cache) Get(key []byte) []byte {
	if v, ok := c.writes[string(key)]; ok {
		return v
	}
	return c.parent.Get(key)
}

func (c *Cache) put(k string, v []byte) {
	if _, ok := c.writes[k]; !ok {
		c.order.ReplaceOrInsert(k)
	}
	c.writes[k] = v
}

// Set implements KV. It copies key and value.
func (c *Cache) Set(key, value []byte) { c.put(string(key), clone(value)) }

// Delete implements KV.
func (c *Cache) Delete(key []byte) { c.put(string(key), nil) }

// Len returns the number of buffered writes.
func (c *Cache) Len() int { return len(c.writes) }

// WriteTo applies the buffered writes to kv in key order.
func (c *Cache) WriteTo(kv KV) {
	c.order.Ascend(func(k string) bool {
		if v := c.writes[k]; v == nil {
			kv.Delete([]byte(k))
		} else {
			kv.Set([]byte(k), v)
		}
		return true
	})
}

// Changes returns the buffered writes in key order; a deletion has a nil
// Value.
func (c *Cache) Changes() []Change {
	out := make([]Change, 0, len(c.writes))
	c.order.Ascend(func(k string) bool {
		out = append(out, Change{Key: []byte(k), Value: c.writes[k]})
		return true
	})
	return out
}

// Iterator implements Reader: it merges the buffered writes in [start,
// end), captured now, with the parent's iterator.
func (c *Cache) Iterator(start, end []byte) Iterator {
	var own []Change
	visit := func(k string) bool {
		if end != nil && k >= string(end) {
			return false
		}
		own = append(own, Change{Key: []byte(k), Value: c.writes[k]})
		return true
	}
	if start == nil {
		c.order.Ascend(visit)
	} else {
		c.order.AscendGreaterOrEqual(string(start), visit)
	}
	it := &mergeIter{parent: c.parent.Iterator(start, end), own: own}
	it.settle()
	return it
}

// mergeIter yields the union of a parent iterator and a sorted list of
// overriding writes, skipping deletions.
type mergeIter struct {
	parent Iterator
	own    []Change
	key    []byte
	value  []byte
	valid  bool
}

// settle positions the iterator on the next live entry.
func (m *mergeIter) settle() {
	for {
		pv := m.parent.Valid()
		if !pv && len(m.own) == 0 {
			m.valid = false
			return
		}
		var fromOwn bool
		switch {
		case !pv:
			fromOwn = true
		case len(m.own) == 0:
			fromOwn = false
		default:
			cmp := bytes.Compare(m.own[0].Key, m.parent.Key())
			if cmp == 0 {
				m.parent.Next() // the buffer overrides the parent
				fromOwn = true
			} else {
				fromOwn = cmp < 0
			}
		}
		if fromOwn {
			w := m.own[0]
			m.own = m.own[1:]
			if w.Value == nil {
				continue // deleted
			}
			m.key, m.value, m.valid = w.Key, w.Value, true
			return
		}
		// Copy: the parent may reuse its buffers on Next.
		m.key = clone(m.parent.Key())
		m.value = clone(m.parent.Value())
		m.valid = true
		m.parent.Next()
		return
	}
}

func (m *mergeIter) Valid() bool   { return m.valid }
func (m *mergeIter) Next()         { m.settle() }
func (m *mergeIter) Key() []byte   { return m.key }
func (m *mergeIter) Value() []byte { return m.value }
func (m *mergeIter) Close()        { m.parent.Close() }

// clone copies b into a non-nil slice: nil means deleted, so an empty
// value must stay non-nil.
func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
