package store

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

func keysOf(r Reader, start, end []byte) []string {
	var out []string
	it := r.Iterator(start, end)
	defer it.Close()
	for ; it.Valid(); it.Next() {
		out = append(out, string(it.Key())+"="+string(it.Value()))
	}
	return out
}

func TestCacheBranchWriteAndDiscard(t *testing.T) {
	db := NewMemDB()
	db.Set([]byte("a"), []byte("1"))
	db.Set([]byte("c"), []byte("3"))
	c := NewCache(db)
	c.Set([]byte("b"), []byte("2"))

	br := NewCache(c)
	br.Delete([]byte("a"))
	br.Set([]byte("d"), []byte("4"))
	if got := keysOf(br, nil, nil); fmt.Sprint(got) != "[b=2 c=3 d=4]" {
		t.Fatalf("branch view %v", got)
	}
	if got := keysOf(c, nil, nil); fmt.Sprint(got) != "[a=1 b=2 c=3]" {
		t.Fatalf("parent changed before Write: %v", got)
	}
	br.WriteTo(c)
	if got := keysOf(c, nil, nil); fmt.Sprint(got) != "[b=2 c=3 d=4]" {
		t.Fatalf("parent after Write: %v", got)
	}
	discard := NewCache(c)
	discard.Set([]byte("z"), []byte("26"))
	if c.Get([]byte("z")) != nil {
		t.Fatal("a dropped branch leaked a write")
	}
	if got := fmt.Sprint(c.Changes()); got != "[{[97] []} {[98] [50]} {[100] [52]}]" {
		t.Fatalf("changes %s", got)
	}
	if db.Get([]byte("a")) == nil {
		t.Fatal("the committed state changed")
	}
}

func TestCacheEmptyValueIsNotDeletion(t *testing.T) {
	c := NewCache(NewMemDB())
	c.Set([]byte("k"), nil)
	if v := c.Get([]byte("k")); v == nil || len(v) != 0 {
		t.Fatalf("empty value read back as %v", v)
	}
}

// The merged iterator agrees with a plain map model under random writes
// at two levels of branching.
func TestCacheIteratorMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 50; round++ {
		db := NewMemDB()
		model := map[string]string{}
		for i := 0; i < 30; i++ {
			k := fmt.Sprintf("k%02d", rng.IntN(60))
			db.Set([]byte(k), []byte("db"))
			model[k] = "db"
		}
		c := NewCache(db)
		br := NewCache(c)
		for _, kv := range []*Cache{c, br} {
			for i := 0; i < 20; i++ {
				k := fmt.Sprintf("k%02d", rng.IntN(60))
				if rng.IntN(3) == 0 {
					kv.Delete([]byte(k))
					if kv == br {
						delete(model, k)
					} else {
						delete(model, k)
					}
				} else {
					v := fmt.Sprint(rng.IntN(100))
					kv.Set([]byte(k), []byte(v))
					model[k] = v
				}
			}
		}
		start, end := fmt.Sprintf("k%02d", rng.IntN(30)), fmt.Sprintf("k%02d", 30+rng.IntN(30))
		var want []string
		for k, v := range model {
			if k >= start && k < end {
				want = append(want, k+"="+v)
			}
		}
		sort.Strings(want)
		got := keysOf(br, []byte(start), []byte(end))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: iterator %v, model %v", round, got, want)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte("ab"), []byte("ac")},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
	} {
		if got := PrefixEnd(tc.in); string(got) != string(tc.want) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}
