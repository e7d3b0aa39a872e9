package storage

import (
	"fmt"
	"testing"

	"github.com/mycelnet/mycel/chain/store"
)

func TestCommitReopenAndProve(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	tree := store.NewTree(db.Nodes(), db.Root(), 1024)
	c := store.NewCache(db.State())
	for i := 0; i < 100; i++ {
		c.Set([]byte(fmt.Sprintf("k%03d", i)), []byte(fmt.Sprint(i)))
	}
	root := tree.Update(c.Changes())
	if err := db.Commit(Block{Height: 1, Root: root, Changes: c.Changes(), Nodes: tree.Flush()}); err != nil {
		t.Fatal(err)
	}
	snap := db.Snapshot()
	// A later block must not show through an open snapshot.
	c2 := store.NewCache(db.State())
	c2.Delete([]byte("k000"))
	c2.Set([]byte("k050"), []byte("changed"))
	root2 := tree.Update(c2.Changes())
	if err := db.Commit(Block{Height: 2, Root: root2, Changes: c2.Changes(), Nodes: tree.Flush()}); err != nil {
		t.Fatal(err)
	}
	if snap.Height() != 1 || snap.Root() != root || string(snap.State().Get([]byte("k050"))) != "50" {
		t.Fatalf("snapshot moved: height %d", snap.Height())
	}
	p, err := store.Prove(snap.Nodes(), []byte("k050"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.VerifyProof(root, []byte("k050"), []byte("50"), p); err != nil {
		t.Fatal(err)
	}
	snap.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Height() != 2 || db.Root() != root2 {
		t.Fatalf("reopened at height %d root %s, want 2 %s", db.Height(), db.Root(), root2)
	}
	if h, ok := db.AppHashAt(1); !ok || h != root {
		t.Fatal("app hash history lost")
	}
	var keys int
	it := db.State().Iterator([]byte("k"), store.PrefixEnd([]byte("k")))
	for ; it.Valid(); it.Next() {
		keys++
	}
	it.Close()
	if keys != 99 {
		t.Fatalf("iterated %d keys, want 99", keys)
	}
	p, _ = store.Prove(db.Nodes(), []byte("k000"))
	if err := store.VerifyProof(root2, []byte("k000"), nil, p); err != nil {
		t.Fatalf("absence after delete: %v", err)
	}
}
