package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"

	"github.com/mycelnet/mycel/types"
)

// ErrBadProof is wrapped by every proof verification failure.
var ErrBadProof = errors.New("proof does not verify")

// Proof shows that a key holds a value, or holds none, under a root. Steps
// run from the root down the key hash's nibbles; each gives an internal
// node's child mask and the hashes of the children off the path. The walk
// ends at a leaf (the key's own, or another key's where the key would be)
// or at an empty slot of the last step.
type Proof struct {
	Steps []ProofStep `json:"steps"`
	Leaf  *ProofLeaf  `json:"leaf,omitempty"`
}

// ProofStep is one internal node on the path.
type ProofStep struct {
	Mask     uint16       `json:"mask"`
	Siblings []types.Hash `json:"siblings"`
}

// ProofLeaf is the leaf the path ends at.
type ProofLeaf struct {
	KeyHash   types.Hash `json:"key_hash"`
	ValueHash types.Hash `json:"value_hash"`
}

func prove(load func(pathKey []byte) (*node, error), key []byte) (Proof, error) {
	kh := types.Hash(sha256.Sum256(key))
	var p Proof
	var path []byte
	n, err := load(PathKey(nil))
	if err != nil {
		return p, err
	}
	for n != nil {
		if n.leaf {
			p.Leaf = &ProofLeaf{KeyHash: n.keyHash, ValueHash: n.valueHash}
			return p, nil
		}
		if len(path) >= maxDepth {
			return p, fmt.Errorf("tree deeper than %d nibbles", maxDepth)
		}
		nib := nibble(kh, len(path))
		step := ProofStep{Mask: n.mask}
		for i := 0; i < 16; i++ {
			if n.mask&(1<<i) != 0 && byte(i) != nib {
				step.Siblings = append(step.Siblings, n.child[i])
			}
		}
		p.Steps = append(p.Steps, step)
		if n.mask&(1<<nib) == 0 {
			return p, nil
		}
		path = append(path, nib)
		next, err := load(PathKey(path))
		if err != nil {
			return p, err
		}
		if next == nil {
			return p, fmt.Errorf("tree node missing at path %x", PathKey(path))
		}
		n = next
	}
	return p, nil // empty tree
}

// VerifyProof checks p against root for key. A nil value asks for a proof
// that the key is absent.
func VerifyProof(root types.Hash, key, value []byte, p Proof) error {
	kh := types.Hash(sha256.Sum256(key))
	if len(p.Steps) > maxDepth {
		return fmt.Errorf("%w: %d steps", ErrBadProof, len(p.Steps))
	}
	var cur *types.Hash
	if p.Leaf != nil {
		match := p.Leaf.KeyHash == kh
		switch {
		case value != nil && !match:
			return fmt.Errorf("%w: the path ends at another key", ErrBadProof)
		case value != nil && p.Leaf.ValueHash != sha256.Sum256(value):
			return fmt.Errorf("%w: the key holds another value", ErrBadProof)
		case value == nil && match:
			return fmt.Errorf("%w: the key is present", ErrBadProof)
		}
		for d := range p.Steps {
			// The leaf must lie where the path says it does.
			if nibble(p.Leaf.KeyHash, d) != nibble(kh, d) {
				return fmt.Errorf("%w: leaf off the path", ErrBadProof)
			}
		}
		h := newLeaf(p.Leaf.KeyHash, p.Leaf.ValueHash).hash
		cur = &h
	} else if value != nil {
		return fmt.Errorf("%w: no leaf for a present key", ErrBadProof)
	}
	for d := len(p.Steps) - 1; d >= 0; d-- {
		s := p.Steps[d]
		nib := nibble(kh, d)
		onPath := s.Mask&(1<<nib) != 0
		if onPath != (cur != nil) {
			return fmt.Errorf("%w: step %d mask %04x disagrees with the path", ErrBadProof, d, s.Mask)
		}
		want := bits.OnesCount16(s.Mask)
		if onPath {
			want--
		}
		if len(s.Siblings) != want || s.Mask == 0 {
			return fmt.Errorf("%w: step %d has %d siblings for mask %04x", ErrBadProof, d, len(s.Siblings), s.Mask)
		}
		buf := make([]byte, 0, 3+32*16)
		buf = append(buf, tagInternal, byte(s.Mask>>8), byte(s.Mask))
		k := 0
		for i := 0; i < 16; i++ {
			if s.Mask&(1<<i) == 0 {
				continue
			}
			if byte(i) == nib {
				buf = append(buf, cur[:]...)
			} else {
				buf = append(buf, s.Siblings[k][:]...)
				k++
			}
		}
		h := types.Hash(sha256.Sum256(buf))
		cur = &h
	}
	if cur == nil {
		if root.IsZero() {
			return nil
		}
		return fmt.Errorf("%w: empty path under a non-empty root", ErrBadProof)
	}
	if *cur != root {
		return fmt.Errorf("%w: computed root %s, want %s", ErrBadProof, *cur, root)
	}
	return nil
}
