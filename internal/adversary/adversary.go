// Package adversary models how a compute provider behaves on the runs it
// is assigned: honestly, or as one of the cheaters that the verification
// protocol of chain/compute must catch. A Strategy is plain data; what it
// commits and whether it reveals are deterministic functions of what the
// provider can see and, for the strategies that flip coins, of a random
// source that the caller owns (this is off-chain code). The verification
// simulation (internal/verifysim), its tests and `mycel bench verify` share
// it.
//
// What each strategy does, by the role of the run (compute.Role):
//
//	strategy      provider run               auditor run                 referee run
//	honest        the true result            the true result             the true result
//	liar          a wrong result of its own  the same                    the same
//	liar-q        wrong with probability Q   the same                    the same
//	random        random output bytes        the same                    the same
//	copier        waits to copy a peer's revealed result; finds none, so commits nothing
//	silent        commits the truth, never reveals
//	colluder      the ring's wrong result    copies a ring partner's     the true result
//	                                         answer, else the truth
//	small-model   a cheaper model's result (wrong on every job, the same for every small-model provider)
//	lazy-auditor  the true result            copies a ring partner's     copies the first claim
//	                                         answer, else random bytes   put to it
//	evasive       lies; reveals only when nothing it can see has checked the lie
//
// The copier never copies anything: a run may reveal only once every run
// it could copy from has committed (chain/compute/verify_flow.go), so
// when the copier must commit there is nothing revealed to copy. It goes
// silent and misses its deadline, which the rules punish as a miss.
//
// A colluder computes honestly as a referee: siding with a partner
// against a round's other referees gets it slashed too, and the protocol's
// guarantee assumes referee rounds with an honest strict majority, which a
// pair cannot break from a single referee seat.
package adversary

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/types"
)

// Kind names a behaviour.
type Kind uint8

// The behaviours.
const (
	Honest Kind = iota
	Liar
	LiarQ
	Random
	Copier
	Silent
	Colluder
	SmallModel
	LazyAuditor
	Evasive
)

var kindNames = []string{"honest", "liar", "liar-q", "random", "copier", "silent", "colluder", "small-model", "lazy-auditor", "evasive"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Strategy is a provider's behaviour.
type Strategy struct {
	Kind Kind `json:"kind"`
	// Q is a liar-q's chance of lying on a run.
	Q float64 `json:"q,omitempty"`
	// Ring groups colluders and lazy auditors (0: none): a ring's
	// colluders give the same wrong result on a job, and its members back
	// each other when one audits another.
	Ring int `json:"ring,omitempty"`
}

// Name is the strategy's name with its parameters, e.g. "liar-q(0.3)".
func (s Strategy) Name() string {
	switch {
	case s.Kind == LiarQ:
		return fmt.Sprintf("liar-q(%g)", s.Q)
	case s.Ring != 0:
		return fmt.Sprintf("%s(ring %d)", s.Kind, s.Ring)
	}
	return s.Kind.String()
}

// IsHonest reports whether the strategy is honest in every role.
func (s Strategy) IsHonest() bool { return s.Kind == Honest }

// Result is what a run claims: its output's hash and size, the metered
// gas and the failure reason, if any.
type Result struct {
	Output  types.Hash `json:"output"`
	Size    uint64     `json:"size"`
	Gas     uint64     `json:"gas"`
	Failure string     `json:"failure,omitempty"`
}

// Key is what two runs of a deterministic job must agree on
// (compute.ResultKey).
func (r Result) Key() types.Hash { return compute.ResultKey(r.Output, r.Size, r.Gas, r.Failure) }

// ClaimResult is the result a referee is asked to judge.
func ClaimResult(c compute.Claim) Result {
	return Result{Output: c.Output, Size: c.OutputSize, Gas: c.GasUsed, Failure: c.Failure}
}

// View is what a provider can see of a run when it acts on it.
type View struct {
	Self types.Address
	Role compute.Role
	// Program and Input name the work.
	Program, Input types.Hash
	// Truth is the result an honest run gets.
	Truth Result
	// Claims are the results put to a referee: the group's revealed
	// provider results, or a planted task's claim.
	Claims []Result
	// Peers are the results already revealed by the runs this one's reveal
	// waits on (the other providers of a redundant job, the other
	// referees of a round); Pending counts those that have not revealed.
	Peers   []Result
	Pending int
	// Audited says that an auditor was drawn for this provider run.
	Audited bool
	// Partner is the answer of a ring partner whose work this run audits,
	// shared off chain; nil when the audited provider is no partner.
	Partner *Result
}

// Answer is what a provider commits for a run.
type Answer struct {
	// Wait: the provider commits nothing yet (it may act again later).
	Wait   bool
	Result Result
}

// Commit decides what the provider commits for a run. rng is drawn from
// only by the strategies that flip coins.
func (s Strategy) Commit(v View, rng *rand.Rand) Answer {
	t := v.Truth
	switch s.Kind {
	case Liar, Evasive:
		return Answer{Result: wrong("liar", v.Self[:], t)}
	case LiarQ:
		if rng.Float64() < s.Q {
			return Answer{Result: wrong("liar", v.Self[:], t)}
		}
	case Random:
		return Answer{Result: random(rng, t)}
	case Copier:
		if len(v.Peers) > 0 {
			return Answer{Result: v.Peers[0]}
		}
		return Answer{Wait: true}
	case Colluder:
		switch {
		case v.Role == compute.RoleProvider:
			return Answer{Result: RingAnswer(s.Ring, v.Program, v.Input, t)}
		case v.Role == compute.RoleAuditor && v.Partner != nil:
			return Answer{Result: *v.Partner}
		}
	case SmallModel:
		return Answer{Result: SmallAnswer(v.Program, v.Input, t)}
	case LazyAuditor:
		switch v.Role {
		case compute.RoleAuditor:
			if v.Partner != nil {
				return Answer{Result: *v.Partner}
			}
			return Answer{Result: random(rng, t)}
		case compute.RoleReferee:
			if len(v.Claims) > 0 {
				return Answer{Result: v.Claims[0]}
			}
			return Answer{Result: random(rng, t)}
		}
	}
	return Answer{Result: t}
}

// Reveal reports whether the provider reveals the result it committed
// (mine) now, given what it sees.
func (s Strategy) Reveal(v View, mine Result) bool {
	switch s.Kind {
	case Silent:
		return false
	case Evasive:
		if mine.Key() == v.Truth.Key() {
			return true
		}
		if v.Audited || v.Pending > 0 {
			return false // audited: never; else let the others show first
		}
		for _, p := range v.Peers {
			if p.Key() != mine.Key() {
				return false
			}
		}
	}
	return true
}

// RingAnswer is the wrong result a ring's colluders agree on for a job.
func RingAnswer(ring int, program, input types.Hash, truth Result) Result {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ring))
	return wrong("ring", append(append(b[:], program[:]...), input[:]...), truth)
}

// SmallAnswer is what a cheaper model gives for a job: the same for every
// provider that serves it, different from the true result, and cheaper
// in gas.
func SmallAnswer(program, input types.Hash, truth Result) Result {
	r := wrong("small-model", append(program[:], input[:]...), truth)
	r.Gas = truth.Gas - truth.Gas/4
	return r
}

// wrong is a result that differs from the truth in its output, derived
// from a domain and a seed.
func wrong(domain string, seed []byte, truth Result) Result {
	h := sha256.New()
	h.Write([]byte("mycel/adversary/" + domain + "\x00"))
	h.Write(seed)
	h.Write(truth.Output[:])
	var out types.Hash
	copy(out[:], h.Sum(nil))
	return Result{Output: out, Size: truth.Size, Gas: truth.Gas}
}

// random is a result of random output bytes.
func random(rng *rand.Rand, truth Result) Result {
	b := make([]byte, 1+rng.IntN(64))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return Result{Output: types.SumHash(b), Size: uint64(len(b)), Gas: truth.Gas}
}
