package model

import (
	"bytes"
	"fmt"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// DefaultLimit is the page size of a listing that names none.
const DefaultLimit = 100

// Filter narrows a model listing.
type Filter struct {
	// Name lists the models of this name, in registration order (height,
	// then hash); otherwise models are listed in hash order.
	Name string
	// Owner lists only this owner's models.
	Owner *types.Address
	// After is the hash of the last model of the previous page; zero for
	// the first page.
	After types.Hash
	Limit int
}

// List returns a page of models. The cursor must be a model of the
// listing (with the filter's name, when one is given).
func List(r store.Reader, f Filter) ([]*Model, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	if len(f.Name) > MaxNameLen {
		return []*Model{}, nil // no model can have such a name
	}
	var prefix, from []byte
	switch {
	case f.Name != "":
		prefix = namePrefix(f.Name)
		from = prefix
		if !f.After.IsZero() {
			m := Get(r, f.After)
			if m == nil || m.Name != f.Name {
				return nil, ErrInvalidQuery.Wrapf("after %s: not a model named %q", f.After, f.Name)
			}
			from = after(nameKey(m.Name, m.Registered, m.Hash))
		}
	case f.Owner != nil:
		prefix = ownerPrefix(*f.Owner)
		from = prefix
		if !f.After.IsZero() {
			from = after(ownerKey(*f.Owner, f.After))
		}
	default:
		prefix = prefixModel
		from = prefix
		if !f.After.IsZero() {
			from = after(modelKey(f.After))
		}
	}
	out := []*Model{}
	it := r.Iterator(from, store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid() && len(out) < f.Limit; it.Next() {
		h := hashAt(it.Key())
		var m *Model
		if f.Name == "" && f.Owner == nil {
			var err error
			if m, err = decodeModel(h, it.Value()); err != nil {
				panic(fmt.Errorf("model: corrupt record: %w", err))
			}
		} else if m = Get(r, h); m == nil {
			panic(fmt.Errorf("model: index key %x names missing model %s", it.Key(), h))
		}
		if f.Owner != nil && m.Owner != *f.Owner {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// Each calls fn for every model in hash order until fn returns false.
func Each(r store.Reader, fn func(*Model) bool) {
	it := r.Iterator(prefixModel, store.PrefixEnd(prefixModel))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		m, err := decodeModel(hashAt(it.Key()), it.Value())
		if err != nil {
			panic(fmt.Errorf("model: corrupt record: %w", err))
		}
		if !fn(m) {
			return
		}
	}
}

// CheckInvariant verifies every record, that its parent is registered,
// and that the name and owner indexes hold exactly one entry per model,
// matching its record.
func CheckInvariant(r store.Reader) error {
	var n int
	it := r.Iterator(prefixModel, store.PrefixEnd(prefixModel))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if len(it.Key()) != len(prefixModel)+len(types.Hash{}) {
			return fmt.Errorf("model record under key %x", it.Key())
		}
		m, err := decodeModel(hashAt(it.Key()), it.Value())
		if err != nil {
			return err
		}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("model %s: %w", m.Hash, err)
		}
		if m.Registered < 0 {
			return fmt.Errorf("model %s: registered at height %d", m.Hash, m.Registered)
		}
		if !m.Parent.IsZero() && r.Get(modelKey(m.Parent)) == nil {
			return fmt.Errorf("model %s: parent %s is not registered", m.Hash, m.Parent)
		}
		if r.Get(nameKey(m.Name, m.Registered, m.Hash)) == nil {
			return fmt.Errorf("model %s: no name index entry for %q", m.Hash, m.Name)
		}
		if r.Get(ownerKey(m.Owner, m.Hash)) == nil {
			return fmt.Errorf("model %s: no owner index entry for %s", m.Hash, m.Owner)
		}
		n++
	}
	// Every index entry is the entry of a model checked above, so equal
	// counts mean nothing is left over.
	for _, p := range [][]byte{prefixName, prefixOwner} {
		k, err := countIndex(r, p)
		if err != nil {
			return err
		}
		if k != n {
			return fmt.Errorf("index %q has %d entries for %d models", p, k, n)
		}
	}
	return nil
}

func countIndex(r store.Reader, prefix []byte) (int, error) {
	var n int
	it := r.Iterator(prefix, store.PrefixEnd(prefix))
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if len(it.Key()) < len(prefix)+len(types.Hash{}) || len(it.Value()) != 0 {
			return 0, fmt.Errorf("malformed index entry %x = %x", it.Key(), it.Value())
		}
		m := Get(r, hashAt(it.Key()))
		if m == nil {
			return 0, fmt.Errorf("index key %x names an unregistered model", it.Key())
		}
		want := ownerKey(m.Owner, m.Hash)
		if bytes.Equal(prefix, prefixName) {
			want = nameKey(m.Name, m.Registered, m.Hash)
		}
		if !bytes.Equal(it.Key(), want) {
			return 0, fmt.Errorf("index key %x does not match model %s", it.Key(), m.Hash)
		}
		n++
	}
	return n, nil
}
