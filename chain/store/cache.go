package store

import (
	"bytes"
	"sort"
)

// Cache buffers writes over a parent Reader. Reads see the buffer first.
// WriteTo applies the buffer to a KV (the parent, for a branch); Changes
// hands it to whoever commits a block.
type Cache struct {
	parent Reader
	writes map[string][]byte
	keys   []string // sorted keys of writes; rebuilt when stale
	stale  bool
}

// NewCache returns an empty buffer over parent.
func NewCache(parent Reader) *Cache {
	return &Cache{parent: parent, writes: make(map[string][]byte)}
}

// Get implements Reader.
func (c *Cache) Get(key []byte) []byte {
	if v, ok := c.writes[string(key)]; ok {
		return v
	}
	return c.parent.Get(key)
}

// Set implements KV. It copies key and value.
func (c *Cache) Set(key, value []byte) {
	k := string(key)
	if _, ok := c.writes[k]; !ok {
		c.stale = true
	}
	c.writes[k] = clone(value)
}

// Delete implements KV.
func (c *Cache) Delete(key []byte) {
	k := string(key)
	if _, ok := c.writes[k]; !ok {
		c.stale = true
	}
	c.writes[k] = nil
}

// Len returns the number of buffered writes.
func (c *Cache) Len() int { return len(c.writes) }

func (c *Cache) sortedKeys() []string {
	if c.stale || len(c.keys) != len(c.writes) {
		c.keys = c.keys[:0]
		//mycel:sorted
		for k := range c.writes {
			c.keys = append(c.keys, k)
		}
		sort.Strings(c.keys)
		c.stale = false
	}
	return c.keys
}

// WriteTo applies the buffered writes to kv in key order.
func (c *Cache) WriteTo(kv KV) {
	for _, k := range c.sortedKeys() {
		if v := c.writes[k]; v == nil {
			kv.Delete([]byte(k))
		} else {
			kv.Set([]byte(k), v)
		}
	}
}

// Changes returns the buffered writes in key order; a deletion has a nil
// Value.
func (c *Cache) Changes() []Change {
	keys := c.sortedKeys()
	out := make([]Change, len(keys))
	for i, k := range keys {
		out[i] = Change{Key: []byte(k), Value: c.writes[k]}
	}
	return out
}

// Iterator implements Reader: it merges the buffered writes in [start,
// end), captured now, with the parent's iterator.
func (c *Cache) Iterator(start, end []byte) Iterator {
	keys := c.sortedKeys()
	lo := 0
	if start != nil {
		lo = sort.SearchStrings(keys, string(start))
	}
	hi := len(keys)
	if end != nil {
		hi = sort.SearchStrings(keys, string(end))
	}
	if hi < lo {
		hi = lo
	}
	own := make([]Change, 0, hi-lo)
	for _, k := range keys[lo:hi] {
		own = append(own, Change{Key: []byte(k), Value: c.writes[k]})
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
