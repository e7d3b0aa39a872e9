package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"sort"

	"github.com/mycelnet/mycel/types"
)

// NodeReader reads committed tree nodes by their path key (see PathKey).
// It returns nil when there is no node at that path.
type NodeReader interface {
	GetNode(pathKey []byte) []byte
}

// NodeWrite is a tree node to persist at a path key; a nil Node deletes.
type NodeWrite struct {
	PathKey []byte
	Node    []byte
}

// Domain tags of the two node kinds, so a leaf can never pass for an
// internal node or the other way round.
const (
	tagLeaf     = 0x00
	tagInternal = 0x01
)

// maxDepth is the number of nibbles in a sha256 key hash.
const maxDepth = 64

// node is a decoded tree node. Nodes are immutable once built.
type node struct {
	leaf      bool
	keyHash   types.Hash // leaf
	valueHash types.Hash // leaf
	mask      uint16     // internal: which children exist
	leafMask  uint16     // internal: which children are leaves
	child     [16]types.Hash
	hash      types.Hash
}

func newLeaf(kh, vh types.Hash) *node {
	n := &node{leaf: true, keyHash: kh, valueHash: vh}
	var buf [65]byte
	buf[0] = tagLeaf
	copy(buf[1:33], kh[:])
	copy(buf[33:], vh[:])
	n.hash = sha256.Sum256(buf[:])
	return n
}

func (n *node) rehash() {
	buf := make([]byte, 0, 3+32*bits.OnesCount16(n.mask))
	buf = append(buf, tagInternal, byte(n.mask>>8), byte(n.mask))
	for i := 0; i < 16; i++ {
		if n.mask&(1<<i) != 0 {
			buf = append(buf, n.child[i][:]...)
		}
	}
	n.hash = sha256.Sum256(buf)
}

func (n *node) encode() []byte {
	if n.leaf {
		b := make([]byte, 65)
		b[0] = tagLeaf
		copy(b[1:33], n.keyHash[:])
		copy(b[33:], n.valueHash[:])
		return b
	}
	b := make([]byte, 5, 5+32*bits.OnesCount16(n.mask))
	b[0] = tagInternal
	binary.BigEndian.PutUint16(b[1:], n.mask)
	binary.BigEndian.PutUint16(b[3:], n.leafMask)
	for i := 0; i < 16; i++ {
		if n.mask&(1<<i) != 0 {
			b = append(b, n.child[i][:]...)
		}
	}
	return b
}

func decodeNode(b []byte) (*node, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty node")
	}
	switch b[0] {
	case tagLeaf:
		if len(b) != 65 {
			return nil, fmt.Errorf("leaf node of %d bytes", len(b))
		}
		var kh, vh types.Hash
		copy(kh[:], b[1:33])
		copy(vh[:], b[33:])
		return newLeaf(kh, vh), nil
	case tagInternal:
		if len(b) < 5 {
			return nil, fmt.Errorf("internal node of %d bytes", len(b))
		}
		n := &node{mask: binary.BigEndian.Uint16(b[1:]), leafMask: binary.BigEndian.Uint16(b[3:])}
		if n.leafMask&^n.mask != 0 || n.mask == 0 {
			return nil, fmt.Errorf("internal node with masks %04x/%04x", n.mask, n.leafMask)
		}
		if len(b) != 5+32*bits.OnesCount16(n.mask) {
			return nil, fmt.Errorf("internal node of %d bytes for mask %04x", len(b), n.mask)
		}
		off := 5
		for i := 0; i < 16; i++ {
			if n.mask&(1<<i) != 0 {
				copy(n.child[i][:], b[off:off+32])
				off += 32
			}
		}
		n.rehash()
		return n, nil
	default:
		return nil, fmt.Errorf("unknown node tag %d", b[0])
	}
}

func (n *node) setChild(nib byte, c *node) {
	bit := uint16(1) << nib
	if c == nil {
		n.mask &^= bit
		n.leafMask &^= bit
		n.child[nib] = types.Hash{}
		return
	}
	n.mask |= bit
	if c.leaf {
		n.leafMask |= bit
	} else {
		n.leafMask &^= bit
	}
	n.child[nib] = c.hash
}

// nibble returns the d-th four-bit digit of h, most significant first.
func nibble(h types.Hash, d int) byte {
	b := h[d/2]
	if d%2 == 0 {
		return b >> 4
	}
	return b & 0x0f
}

// PathKey encodes a path of nibbles as the key its node is stored under:
// the depth, then the nibbles packed two to a byte.
func PathKey(nibbles []byte) []byte {
	k := make([]byte, 1+(len(nibbles)+1)/2)
	k[0] = byte(len(nibbles))
	for i, nb := range nibbles {
		if i%2 == 0 {
			k[1+i/2] |= nb << 4
		} else {
			k[1+i/2] |= nb
		}
	}
	return k
}

type kchange struct {
	kh, vh types.Hash
	del    bool
}

// Tree is the Merkle commitment over the state. Update stages new nodes in
// memory; Flush hands them over to be persisted with the block.
type Tree struct {
	db     NodeReader
	root   types.Hash
	staged map[string]*node // path key -> node; nil means delete
	// A two-generation cache of committed nodes: cheap, and close enough
	// to least-recently-used for paths near the root.
	hot, cold map[string]*node
	cacheMax  int
}

// NewTree opens the tree whose committed root is root, reading nodes from
// db and keeping up to cacheNodes decoded nodes in memory.
func NewTree(db NodeReader, root types.Hash, cacheNodes int) *Tree {
	if cacheNodes < 16 {
		cacheNodes = 16
	}
	return &Tree{
		db: db, root: root, staged: make(map[string]*node),
		hot: make(map[string]*node), cold: make(map[string]*node), cacheMax: cacheNodes,
	}
}

// Root returns the root hash including staged updates. The empty tree's
// root is all zeros.
func (t *Tree) Root() types.Hash { return t.root }

func (t *Tree) load(pathKey []byte) *node {
	k := string(pathKey)
	if n, ok := t.staged[k]; ok {
		return n
	}
	if n, ok := t.hot[k]; ok {
		return n
	}
	if n, ok := t.cold[k]; ok {
		t.remember(k, n)
		return n
	}
	b := t.db.GetNode(pathKey)
	if b == nil {
		return nil
	}
	n, err := decodeNode(b)
	if err != nil {
		panic(fmt.Errorf("store: corrupt tree node at path %x: %w", pathKey, err))
	}
	t.remember(k, n)
	return n
}

func (t *Tree) remember(k string, n *node) {
	if len(t.hot) >= t.cacheMax/2 {
		t.cold = t.hot
		t.hot = make(map[string]*node, t.cacheMax/2)
	}
	t.hot[k] = n
}

func (t *Tree) stage(pathKey []byte, n *node) { t.staged[string(pathKey)] = n }

// Update applies a block's writes (any order; a nil Value deletes) and
// returns the new root. Only the paths of changed keys are touched.
func (t *Tree) Update(changes []Change) types.Hash {
	if len(changes) == 0 {
		return t.root
	}
	kcs := make([]kchange, len(changes))
	for i, c := range changes {
		kcs[i].kh = sha256.Sum256(c.Key)
		if c.Value == nil {
			kcs[i].del = true
		} else {
			kcs[i].vh = sha256.Sum256(c.Value)
		}
	}
	sort.Slice(kcs, func(i, j int) bool { return lessHash(kcs[i].kh, kcs[j].kh) })
	for i := 1; i < len(kcs); i++ {
		if kcs[i].kh == kcs[i-1].kh {
			panic("store: Tree.Update given the same key twice")
		}
	}
	rootKey := PathKey(nil)
	n := t.apply(nil, t.load(rootKey), kcs)
	t.stage(rootKey, n)
	if n == nil {
		t.root = types.Hash{}
	} else {
		t.root = n.hash
	}
	return t.root
}

func lessHash(a, b types.Hash) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// apply returns the node that replaces cur at path after chs, which are
// sorted by key hash and all share path as a prefix. It stages every node
// below path; the caller stages the result at path.
func (t *Tree) apply(path []byte, cur *node, chs []kchange) *node {
	depth := len(path)
	if cur != nil && cur.leaf {
		chs = foldLeaf(chs, cur)
		cur = nil
	}
	var n *node
	if cur == nil {
		live := chs
		for _, c := range chs {
			if c.del {
				live = nil
				for _, c2 := range chs {
					if !c2.del {
						live = append(live, c2)
					}
				}
				break
			}
		}
		switch len(live) {
		case 0:
			return nil
		case 1:
			return newLeaf(live[0].kh, live[0].vh)
		}
		if depth >= maxDepth {
			panic("store: two keys with the same hash")
		}
		n = &node{}
		chs = live
	} else {
		cp := *cur
		n = &cp
	}
	for i := 0; i < len(chs); {
		nib := nibble(chs[i].kh, depth)
		j := i + 1
		for j < len(chs) && nibble(chs[j].kh, depth) == nib {
			j++
		}
		childPath := append(path[:len(path):len(path)], nib)
		childKey := PathKey(childPath)
		var child *node
		if n.mask&(1<<nib) != 0 {
			child = t.load(childKey)
			if child == nil {
				panic(fmt.Errorf("store: tree node missing at path %x", childKey))
			}
		}
		c := t.apply(childPath, child, chs[i:j])
		t.stage(childKey, c)
		n.setChild(nib, c)
		i = j
	}
	if n.mask == 0 {
		return nil
	}
	if bits.OnesCount16(n.mask) == 1 && n.leafMask == n.mask {
		// A single leaf moves up to the shortest unique prefix.
		nib := byte(bits.TrailingZeros16(n.mask))
		childKey := PathKey(append(path[:len(path):len(path)], nib))
		leaf := t.load(childKey)
		t.stage(childKey, nil)
		return leaf
	}
	n.rehash()
	return n
}

// foldLeaf adds an existing leaf to a sorted change list unless a change
// to the same key overrides it.
func foldLeaf(chs []kchange, leaf *node) []kchange {
	i := sort.Search(len(chs), func(i int) bool { return !lessHash(chs[i].kh, leaf.keyHash) })
	if i < len(chs) && chs[i].kh == leaf.keyHash {
		return chs
	}
	out := make([]kchange, 0, len(chs)+1)
	out = append(out, chs[:i]...)
	out = append(out, kchange{kh: leaf.keyHash, vh: leaf.valueHash})
	return append(out, chs[i:]...)
}

// Flush returns the staged node writes in path-key order and treats them
// as committed from now on. Persist them atomically with the state.
func (t *Tree) Flush() []NodeWrite {
	keys := make([]string, 0, len(t.staged))
	//mycel:sorted
	for k := range t.staged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]NodeWrite, len(keys))
	for i, k := range keys {
		n := t.staged[k]
		out[i].PathKey = []byte(k)
		if n != nil {
			out[i].Node = n.encode()
			t.remember(k, n)
		} else {
			delete(t.hot, k)
			delete(t.cold, k)
		}
	}
	t.staged = make(map[string]*node)
	return out
}

// Discard drops staged updates and returns to the committed root.
func (t *Tree) Discard(committedRoot types.Hash) {
	t.staged = make(map[string]*node)
	t.root = committedRoot
}

// Prove returns a proof for key against the tree's current root,
// including staged updates.
func (t *Tree) Prove(key []byte) (Proof, error) {
	return prove(func(k []byte) (*node, error) { return t.load(k), nil }, key)
}

// Prove returns a proof for key from committed nodes read through db. The
// caller pairs it with the root that the same snapshot of db holds.
func Prove(db NodeReader, key []byte) (Proof, error) {
	return prove(func(k []byte) (*node, error) {
		b := db.GetNode(k)
		if b == nil {
			return nil, nil
		}
		return decodeNode(b)
	}, key)
}
