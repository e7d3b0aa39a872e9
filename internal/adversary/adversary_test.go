package adversary

import (
	"math/rand/v2"
	"testing"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/types"
)

var (
	truth   = Result{Output: types.SumHash([]byte("out")), Size: 100, Gas: 5_000_000}
	program = types.SumHash([]byte("program"))
	input   = types.SumHash([]byte("input"))
	other   = Result{Output: types.SumHash([]byte("other")), Size: 7, Gas: 1}
)

func view(role compute.Role) View {
	return View{Self: types.Address{1}, Role: role, Program: program, Input: input, Truth: truth}
}

// What each strategy commits, by role and what it sees.
func TestCommit(t *testing.T) {
	partner := other
	self := types.Address{1}
	liar := wrong("liar", self[:], truth)
	rnd := random(rand.New(rand.NewPCG(1, 2)), truth) // what the coins below give
	ring := RingAnswer(1, program, input, truth)
	done := func(r Result) Answer { return Answer{Result: r} }
	for _, tc := range []struct {
		name string
		s    Strategy
		v    View
		want Answer
	}{
		{"honest provider", Strategy{Kind: Honest}, view(compute.RoleProvider), done(truth)},
		{"honest referee", Strategy{Kind: Honest}, View{Role: compute.RoleReferee, Truth: truth, Claims: []Result{other}}, done(truth)},
		{"liar", Strategy{Kind: Liar}, view(compute.RoleProvider), done(liar)},
		{"liar-q never", Strategy{Kind: LiarQ, Q: 0}, view(compute.RoleProvider), done(truth)},
		{"liar-q always", Strategy{Kind: LiarQ, Q: 1}, view(compute.RoleProvider), done(liar)},
		{"random", Strategy{Kind: Random}, view(compute.RoleAuditor), done(rnd)},
		{"copier, nothing revealed", Strategy{Kind: Copier}, view(compute.RoleProvider), Answer{Wait: true}},
		{"copier, a peer revealed", Strategy{Kind: Copier}, View{Role: compute.RoleProvider, Truth: truth, Peers: []Result{other}}, done(other)},
		{"silent commits the truth", Strategy{Kind: Silent}, view(compute.RoleProvider), done(truth)},
		{"colluder provider", Strategy{Kind: Colluder, Ring: 1}, view(compute.RoleProvider), done(ring)},
		{"colluder auditing a partner", Strategy{Kind: Colluder, Ring: 1}, View{Role: compute.RoleAuditor, Truth: truth, Partner: &partner}, done(other)},
		{"colluder auditing a stranger", Strategy{Kind: Colluder, Ring: 1}, view(compute.RoleAuditor), done(truth)},
		{"colluder referee", Strategy{Kind: Colluder, Ring: 1}, View{Role: compute.RoleReferee, Truth: truth, Claims: []Result{ring}}, done(truth)},
		{"small model", Strategy{Kind: SmallModel}, view(compute.RoleReferee), done(SmallAnswer(program, input, truth))},
		{"lazy auditor as provider", Strategy{Kind: LazyAuditor}, view(compute.RoleProvider), done(truth)},
		{"lazy auditor auditing a partner", Strategy{Kind: LazyAuditor, Ring: 1}, View{Role: compute.RoleAuditor, Truth: truth, Partner: &partner}, done(other)},
		{"lazy auditor auditing a stranger", Strategy{Kind: LazyAuditor, Ring: 1}, view(compute.RoleAuditor), done(rnd)},
		{"lazy referee copies the first claim", Strategy{Kind: LazyAuditor}, View{Role: compute.RoleReferee, Truth: truth, Claims: []Result{other, truth}}, done(other)},
		{"evasive lies", Strategy{Kind: Evasive}, view(compute.RoleProvider), done(liar)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Commit(tc.v, rand.New(rand.NewPCG(1, 2))); got != tc.want {
				t.Fatalf("%+v, want %+v", got, tc.want)
			}
		})
	}
}

// Two colluders of a ring agree on a job; other rings, liars and small
// models do not agree with them, and no wrong answer is the truth.
func TestWrongAnswersAgreeOnlyWithinARing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := Strategy{Kind: Colluder, Ring: 1}.Commit(view(compute.RoleProvider), rng).Result
	b := Strategy{Kind: Colluder, Ring: 1}.Commit(View{Self: types.Address{2}, Role: compute.RoleProvider, Program: program, Input: input, Truth: truth}, rng).Result
	c := Strategy{Kind: Colluder, Ring: 2}.Commit(view(compute.RoleProvider), rng).Result
	l1 := Strategy{Kind: Liar}.Commit(view(compute.RoleProvider), rng).Result
	l2 := Strategy{Kind: Liar}.Commit(View{Self: types.Address{2}, Program: program, Input: input, Truth: truth}, rng).Result
	s := SmallAnswer(program, input, truth)
	if a != b {
		t.Fatal("two colluders of one ring disagree")
	}
	keys := map[types.Hash]string{truth.Key(): "truth"}
	for name, r := range map[string]Result{"ring 1": a, "ring 2": c, "liar 1": l1, "liar 2": l2, "small model": s} {
		if prev, ok := keys[r.Key()]; ok {
			t.Errorf("%s agrees with %s", name, prev)
		}
		keys[r.Key()] = name
	}
}

// Who reveals what it committed.
func TestReveal(t *testing.T) {
	lie := Result{Output: types.SumHash([]byte("lie")), Size: truth.Size, Gas: truth.Gas}
	for _, tc := range []struct {
		name string
		s    Strategy
		v    View
		mine Result
		want bool
	}{
		{"honest", Strategy{Kind: Honest}, View{Truth: truth}, truth, true},
		{"liar", Strategy{Kind: Liar}, View{Truth: truth, Audited: true}, lie, true},
		{"silent", Strategy{Kind: Silent}, View{Truth: truth}, truth, false},
		{"evasive, unchecked", Strategy{Kind: Evasive}, View{Truth: truth}, lie, true},
		{"evasive, audited", Strategy{Kind: Evasive}, View{Truth: truth, Audited: true}, lie, false},
		{"evasive, peers still to reveal", Strategy{Kind: Evasive}, View{Truth: truth, Pending: 1}, lie, false},
		{"evasive, a peer disagrees", Strategy{Kind: Evasive}, View{Truth: truth, Peers: []Result{truth}}, lie, false},
		{"evasive, the peers agree", Strategy{Kind: Evasive}, View{Truth: truth, Peers: []Result{lie}}, lie, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Reveal(tc.v, tc.mine); got != tc.want {
				t.Fatalf("reveal %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[Strategy]string{
		{Kind: Honest}:               "honest",
		{Kind: LiarQ, Q: 0.3}:        "liar-q(0.3)",
		{Kind: Colluder, Ring: 2}:    "colluder(ring 2)",
		{Kind: LazyAuditor, Ring: 1}: "lazy-auditor(ring 1)",
		{Kind: SmallModel}:           "small-model",
	} {
		if got := s.Name(); got != want {
			t.Errorf("%+v: %q, want %q", s, got, want)
		}
	}
}
