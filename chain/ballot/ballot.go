// Package ballot is the vote validators cast on judgement calls: a
// ballot is first committed (the hash of subject, voter, vote and a
// secret salt), so nobody copies anyone, then revealed after the commit
// window, and the revealed ballots are summed by a weight the caller
// gives (its validator's bonded stake). compute uses it for disputes over
// receipts that referees cannot check, the agent registry for reports of
// misbehaviour; each keeps its own windows, eligibility and outcome, and
// its own domain, so a commitment made for one never opens in the other.
package ballot

import (
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// MaxVote is the highest vote: ballots choose between 1 and 2.
const MaxVote = 2

// MsgCommit commits a ballot on a subject (a dispute, a report).
type MsgCommit struct {
	Subject    uint64     `json:"subject,string"`
	Commitment types.Hash `json:"commitment"`
}

// Encode returns the message body.
func (m MsgCommit) Encode() []byte {
	w := codec.NewWriter(48)
	w.Uvarint(m.Subject)
	w.Fixed(m.Commitment[:])
	return w.Bytes()
}

// DecodeCommit parses the body.
func DecodeCommit(b []byte) (MsgCommit, error) {
	r := codec.NewReader(b)
	m := MsgCommit{Subject: r.Uvarint()}
	r.FixedInto(m.Commitment[:])
	return m, r.Done()
}

// MsgReveal opens a committed ballot.
type MsgReveal struct {
	Subject uint64   `json:"subject,string"`
	Vote    uint8    `json:"vote"`
	Salt    [32]byte `json:"-"`
}

// Encode returns the message body.
func (m MsgReveal) Encode() []byte {
	w := codec.NewWriter(48)
	w.Uvarint(m.Subject)
	w.Byte(m.Vote)
	w.Fixed(m.Salt[:])
	return w.Bytes()
}

// DecodeReveal parses the body.
func DecodeReveal(b []byte) (MsgReveal, error) {
	r := codec.NewReader(b)
	m := MsgReveal{Subject: r.Uvarint(), Vote: r.Byte()}
	r.FixedInto(m.Salt[:])
	if err := r.Done(); err != nil {
		return m, err
	}
	if m.Vote == 0 || m.Vote > MaxVote {
		return m, fmt.Errorf("vote %d: 1 or 2", m.Vote)
	}
	return m, nil
}

// Errors of Box.Reveal.
var (
	ErrNoCommit = errors.New("no committed ballot, or revealed already")
	ErrMismatch = errors.New("the ballot does not match its commitment")
)

// Box is where one module keeps its ballots: under Prefix, {subject}
// {voter} holds the commitment, then the revealed vote.
type Box struct {
	Prefix []byte
	Domain string
}

// Commitment is what a voter commits before revealing its vote.
func (b Box) Commitment(subject uint64, voter types.Address, vote uint8, salt [32]byte) types.Hash {
	msg := append([]byte(b.Domain), store.BE64(subject)...)
	msg = append(append(append(msg, voter[:]...), vote), salt[:]...)
	return types.SumHash(msg)
}

func (b Box) key(subject uint64, voter types.Address) []byte {
	return append(append(append([]byte(nil), b.Prefix...), store.BE64(subject)...), voter[:]...)
}

// Commit records (or replaces) a voter's commitment.
func (b Box) Commit(kv store.KV, subject uint64, voter types.Address, c types.Hash) {
	kv.Set(b.key(subject, voter), c[:])
}

// Reveal opens a voter's commitment with its vote and salt.
func (b Box) Reveal(kv store.KV, m MsgReveal, voter types.Address) error {
	k := b.key(m.Subject, voter)
	c := kv.Get(k)
	switch {
	case len(c) != len(types.Hash{}):
		return ErrNoCommit
	case types.Hash(c) != b.Commitment(m.Subject, voter, m.Vote, m.Salt):
		return ErrMismatch
	}
	kv.Set(k, []byte{m.Vote})
	return nil
}

// Tally sums the revealed ballots on a subject by weight, in key order,
// and deletes every ballot of the subject (ballots committed and never
// revealed count for nothing).
func (b Box) Tally(kv store.KV, subject uint64, weight func(types.Address) types.Amount) [MaxVote + 1]types.Amount {
	var sums [MaxVote + 1]types.Amount
	prefix := append(append([]byte(nil), b.Prefix...), store.BE64(subject)...)
	for _, e := range store.Collect(kv, prefix) {
		kv.Delete(e.Key)
		if len(e.Value) != 1 || e.Value[0] == 0 || e.Value[0] > MaxVote {
			continue
		}
		var v types.Address
		copy(v[:], e.Key[len(prefix):])
		sums[e.Value[0]] += weight(v) // bonds sum to at most the supply
	}
	return sums
}
