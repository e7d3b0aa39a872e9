package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/mycelnet/mycel/types"
)

// nodeMap is a node store that applies flushed writes.
type nodeMap map[string][]byte

func (m nodeMap) GetNode(k []byte) []byte { return m[string(k)] }
func (m nodeMap) apply(ws []NodeWrite) {
	for _, w := range ws {
		if w.Node == nil {
			delete(m, string(w.PathKey))
		} else {
			m[string(w.PathKey)] = w.Node
		}
	}
}

// freshRoot builds a tree from nothing in one update and returns its root
// and node count: the reference every incremental history must match.
func freshRoot(t *testing.T, state map[string]string) (types.Hash, int) {
	t.Helper()
	var chs []Change
	for k, v := range state {
		chs = append(chs, Change{Key: []byte(k), Value: []byte(v)})
	}
	nodes := nodeMap{}
	tr := NewTree(nodes, types.Hash{}, 1024)
	root := tr.Update(chs)
	nodes.apply(tr.Flush())
	return root, len(nodes)
}

func TestTreeIncrementalMatchesFresh(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nodes := nodeMap{}
	tr := NewTree(nodes, types.Hash{}, 64) // a small cache exercises reloads
	state := map[string]string{}
	for block := 0; block < 300; block++ {
		writes := map[string][]byte{}
		for i := 0; i < 1+rng.IntN(40); i++ {
			k := fmt.Sprintf("key-%d", rng.IntN(400))
			if rng.IntN(4) == 0 {
				writes[k] = nil
			} else {
				writes[k] = []byte(fmt.Sprintf("v%d", rng.Uint64()))
			}
		}
		var chs []Change
		for k, v := range writes {
			chs = append(chs, Change{Key: []byte(k), Value: v})
			if v == nil {
				delete(state, k)
			} else {
				state[k] = string(v)
			}
		}
		root := tr.Update(chs)
		if block%3 == 0 {
			// Several updates may be staged before one flush.
			nodes.apply(tr.Flush())
		}
		want, _ := freshRoot(t, state)
		if root != want {
			t.Fatalf("block %d: incremental root %s, fresh root %s", block, root, want)
		}
	}
	nodes.apply(tr.Flush())
	_, wantNodes := freshRoot(t, state)
	if len(nodes) != wantNodes {
		t.Fatalf("node store holds %d nodes, a fresh build %d: stale nodes were left behind", len(nodes), wantNodes)
	}
}

func TestTreeEmptyAndDeleteAll(t *testing.T) {
	nodes := nodeMap{}
	tr := NewTree(nodes, types.Hash{}, 64)
	if !tr.Root().IsZero() {
		t.Fatal("empty tree root is not zero")
	}
	var chs []Change
	for i := 0; i < 100; i++ {
		chs = append(chs, Change{Key: []byte{byte(i)}, Value: []byte{1}})
	}
	if tr.Update(chs).IsZero() {
		t.Fatal("non-empty tree has zero root")
	}
	nodes.apply(tr.Flush())
	for i := range chs {
		chs[i].Value = nil
	}
	if root := tr.Update(chs); !root.IsZero() {
		t.Fatalf("root after deleting everything = %s", root)
	}
	nodes.apply(tr.Flush())
	if len(nodes) != 0 {
		t.Fatalf("%d nodes left after deleting every key", len(nodes))
	}
}

func TestTreeValueChangesRoot(t *testing.T) {
	a, _ := freshRoot(t, map[string]string{"a": "1", "b": "2"})
	b, _ := freshRoot(t, map[string]string{"a": "1", "b": "3"})
	c, _ := freshRoot(t, map[string]string{"a": "1"})
	if a == b || a == c || b == c {
		t.Fatal("different states gave the same root")
	}
}

func TestProofs(t *testing.T) {
	nodes := nodeMap{}
	tr := NewTree(nodes, types.Hash{}, 64)
	state := map[string]string{}
	var chs []Change
	for i := 0; i < 500; i++ {
		k, v := fmt.Sprintf("acct/%d", i), fmt.Sprintf("balance %d", i*7)
		state[k] = v
		chs = append(chs, Change{Key: []byte(k), Value: []byte(v)})
	}
	root := tr.Update(chs)
	nodes.apply(tr.Flush())

	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, err := Prove(nodes, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyProof(root, []byte(k), []byte(state[k]), p); err != nil {
			t.Fatalf("membership of %s: %v", k, err)
		}
		if err := VerifyProof(root, []byte(k), []byte("forged"), p); !errors.Is(err, ErrBadProof) {
			t.Fatalf("forged value for %s verified: %v", k, err)
		}
		if err := VerifyProof(root, []byte(k), nil, p); !errors.Is(err, ErrBadProof) {
			t.Fatalf("absence of present key %s verified: %v", k, err)
		}
	}
	for i := 0; i < 500; i++ {
		k := []byte(fmt.Sprintf("missing/%d", i))
		p, err := Prove(nodes, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyProof(root, k, nil, p); err != nil {
			t.Fatalf("absence of %s: %v", k, err)
		}
		if err := VerifyProof(root, k, []byte("x"), p); !errors.Is(err, ErrBadProof) {
			t.Fatalf("membership of absent %s verified: %v", k, err)
		}
	}
	// A proof is bound to its root.
	p, _ := Prove(nodes, []byte("acct/1"))
	other := root
	other[0] ^= 1
	if err := VerifyProof(other, []byte("acct/1"), []byte(state["acct/1"]), p); !errors.Is(err, ErrBadProof) {
		t.Fatalf("proof verified against another root: %v", err)
	}
	// Tampering with a sibling breaks it.
	if len(p.Steps) > 0 && len(p.Steps[0].Siblings) > 0 {
		p.Steps[0].Siblings[0][5] ^= 0x80
		if err := VerifyProof(root, []byte("acct/1"), []byte(state["acct/1"]), p); !errors.Is(err, ErrBadProof) {
			t.Fatalf("tampered proof verified: %v", err)
		}
	}
}

func TestProofEmptyAndSingle(t *testing.T) {
	nodes := nodeMap{}
	p, err := Prove(nodes, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyProof(types.Hash{}, []byte("k"), nil, p); err != nil {
		t.Fatalf("absence in the empty tree: %v", err)
	}
	tr := NewTree(nodes, types.Hash{}, 64)
	root := tr.Update([]Change{{Key: []byte("k"), Value: []byte("v")}})
	nodes.apply(tr.Flush())
	p, _ = Prove(nodes, []byte("k"))
	if err := VerifyProof(root, []byte("k"), []byte("v"), p); err != nil {
		t.Fatalf("single-leaf tree: %v", err)
	}
	p, _ = Prove(nodes, []byte("other"))
	if err := VerifyProof(root, []byte("other"), nil, p); err != nil {
		t.Fatalf("absence beside a single leaf: %v", err)
	}
}

func TestTreeReopen(t *testing.T) {
	nodes := nodeMap{}
	tr := NewTree(nodes, types.Hash{}, 64)
	root := tr.Update([]Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}})
	nodes.apply(tr.Flush())
	re := NewTree(nodes, root, 64)
	r2 := re.Update([]Change{{Key: []byte("c"), Value: []byte("3")}})
	want, _ := freshRoot(t, map[string]string{"a": "1", "b": "2", "c": "3"})
	if r2 != want {
		t.Fatalf("reopened tree root %s, want %s", r2, want)
	}
	re.Discard(root)
	if re.Root() != root {
		t.Fatal("Discard did not restore the committed root")
	}
	if p, _ := re.Prove([]byte("c")); VerifyProof(root, []byte("c"), nil, p) != nil {
		t.Fatal("discarded write still visible")
	}
}

func FuzzVerifyProof(f *testing.F) {
	f.Add([]byte("k"), []byte("v"), uint16(3), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, key, value []byte, mask uint16, junk []byte) {
		// Arbitrary proofs must be refused without panicking.
		var sib types.Hash
		copy(sib[:], junk)
		p := Proof{Steps: []ProofStep{{Mask: mask, Siblings: []types.Hash{sib}}}}
		if len(junk) > 0 && junk[0]%2 == 0 {
			p.Leaf = &ProofLeaf{KeyHash: sib, ValueHash: sib}
		}
		if err := VerifyProof(types.SumHash(junk), key, value, p); err == nil {
			t.Fatalf("random proof verified")
		}
	})
}

func FuzzDecodeNode(f *testing.F) {
	f.Add(newLeaf(types.Hash{1}, types.Hash{2}).encode())
	n := &node{}
	n.setChild(3, newLeaf(types.Hash{1}, types.Hash{2}))
	n.setChild(9, newLeaf(types.Hash{3}, types.Hash{4}))
	f.Add(n.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte(nil), b...)
		n, err := decodeNode(b)
		if !bytes.Equal(in, b) {
			t.Fatal("decoder modified its input")
		}
		if err == nil && !bytes.Equal(n.encode(), b) {
			t.Fatalf("decode/encode not canonical: %x -> %x", b, n.encode())
		}
	})
}

func BenchmarkTreeUpdate(b *testing.B) {
	nodes := nodeMap{}
	tr := NewTree(nodes, types.Hash{}, 1<<16)
	var chs []Change
	for i := 0; i < 100000; i++ {
		chs = append(chs, Change{Key: []byte(fmt.Sprintf("bal/%d", i)), Value: []byte{byte(i)}})
	}
	tr.Update(chs)
	nodes.apply(tr.Flush())
	rng := rand.New(rand.NewPCG(1, 1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]Change, 1000)
		for j := range batch {
			batch[j] = Change{Key: []byte(fmt.Sprintf("bal/%d", rng.IntN(100000))), Value: []byte{byte(i), byte(j)}}
		}
		// dedupe keys
		seen := map[string]bool{}
		out := batch[:0]
		for _, c := range batch {
			if !seen[string(c.Key)] {
				seen[string(c.Key)] = true
				out = append(out, c)
			}
		}
		tr.Update(out)
		nodes.apply(tr.Flush())
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "keys/s")
}
