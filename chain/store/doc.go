// Package store is the key-value state that chain modules see, and the
// commitment to it.
//
// Modules read and write through KV. A Cache buffers writes over a parent
// (the committed state, or another Cache) so that a transaction's writes
// can be kept or dropped as a whole; iteration is in key order and merges
// the buffered writes with the parent.
//
// Tree is the Merkle commitment: a sixteen-way radix tree over sha256 of
// each key (after Diem's Jellyfish Merkle tree: a leaf sits at the shortest
// prefix of its key hash that no other key shares, and a node left with a
// single leaf collapses into it, so the shape and the root depend only on
// the set of keys and values). Each block updates it from that block's
// writes alone; Prove and VerifyProof give and check proofs that a key holds
// a value, or holds none, under a root.
package store
