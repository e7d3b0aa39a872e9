package ballot_test

import (
	"errors"
	"testing"

	"github.com/mycelnet/mycel/chain/ballot"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

func addr(b byte) types.Address { return types.Address{b} }

// A ballot opens only with the vote and salt it was committed with, only
// once, and only in its own box; the tally sums revealed ballots by
// weight, ignores unrevealed ones, and clears the subject.
func TestCommitRevealTally(t *testing.T) {
	db := store.NewMemDB()
	box := ballot.Box{Prefix: []byte("t/"), Domain: "test\x00"}
	other := ballot.Box{Prefix: []byte("t/"), Domain: "other\x00"}
	salt := func(b byte) [32]byte { return [32]byte{b} }
	weights := map[types.Address]types.Amount{addr(1): 10, addr(2): 7, addr(3): 5, addr(4): 100}
	box.Commit(db, 9, addr(1), box.Commitment(9, addr(1), 2, salt(1)))
	box.Commit(db, 9, addr(2), box.Commitment(9, addr(2), 1, salt(2)))
	box.Commit(db, 9, addr(3), box.Commitment(9, addr(3), 2, salt(3)))
	box.Commit(db, 9, addr(4), other.Commitment(9, addr(4), 1, salt(4))) // made for another box
	box.Commit(db, 8, addr(1), box.Commitment(8, addr(1), 1, salt(1)))   // another subject

	for _, c := range []struct {
		name  string
		m     ballot.MsgReveal
		voter types.Address
		want  error
	}{
		{"another vote", ballot.MsgReveal{Subject: 9, Vote: 1, Salt: salt(1)}, addr(1), ballot.ErrMismatch},
		{"another salt", ballot.MsgReveal{Subject: 9, Vote: 2, Salt: salt(9)}, addr(1), ballot.ErrMismatch},
		{"another voter's", ballot.MsgReveal{Subject: 9, Vote: 1, Salt: salt(2)}, addr(1), ballot.ErrMismatch},
		{"another box's commitment", ballot.MsgReveal{Subject: 9, Vote: 1, Salt: salt(4)}, addr(4), ballot.ErrMismatch},
		{"no commitment", ballot.MsgReveal{Subject: 9, Vote: 1, Salt: salt(5)}, addr(5), ballot.ErrNoCommit},
		{"the right one", ballot.MsgReveal{Subject: 9, Vote: 2, Salt: salt(1)}, addr(1), nil},
		{"twice", ballot.MsgReveal{Subject: 9, Vote: 2, Salt: salt(1)}, addr(1), ballot.ErrNoCommit},
		{"a second voter", ballot.MsgReveal{Subject: 9, Vote: 1, Salt: salt(2)}, addr(2), nil},
	} {
		if err := box.Reveal(db, c.m, c.voter); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// addr(3) never revealed; addr(4)'s ballot never opened.
	sums := box.Tally(db, 9, func(a types.Address) types.Amount { return weights[a] })
	if sums[1] != 7 || sums[2] != 10 {
		t.Fatalf("tally %v, want 7 against, 10 for", sums)
	}
	if got := store.Collect(db, []byte("t/")); len(got) != 1 {
		t.Fatalf("%d ballots left, want subject 8's one", len(got))
	}
}

func TestDecode(t *testing.T) {
	c := ballot.MsgCommit{Subject: 3, Commitment: types.Hash{7}}
	if got, err := ballot.DecodeCommit(c.Encode()); err != nil || got != c {
		t.Fatalf("commit round trip: %+v, %v", got, err)
	}
	r := ballot.MsgReveal{Subject: 3, Vote: 2, Salt: [32]byte{1}}
	if got, err := ballot.DecodeReveal(r.Encode()); err != nil || got != r {
		t.Fatalf("reveal round trip: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {1}, append(c.Encode(), 0), ballot.MsgReveal{Subject: 1, Vote: 3}.Encode(), ballot.MsgReveal{Subject: 1}.Encode()} {
		_, err1 := ballot.DecodeCommit(bad)
		_, err2 := ballot.DecodeReveal(bad)
		if err1 == nil && err2 == nil {
			t.Errorf("%x decoded as a commit and a reveal", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(ballot.MsgCommit{Subject: 1, Commitment: types.Hash{1}}.Encode())
	f.Add(ballot.MsgReveal{Subject: 1, Vote: 1}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ballot.DecodeCommit(b); err == nil && string(m.Encode()) != string(b) {
			t.Fatalf("commit %x re-encodes as %x", b, m.Encode())
		}
		if m, err := ballot.DecodeReveal(b); err == nil && string(m.Encode()) != string(b) {
			t.Fatalf("reveal %x re-encodes as %x", b, m.Encode())
		}
	})
}
