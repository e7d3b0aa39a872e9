package verifysim

import (
	"math"
	"testing"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/internal/adversary"
	"github.com/mycelnet/mycel/types"
)

// These tests state properties the harness found missing from
// chain/compute when it was first run: a withheld reveal costing only a
// miss, planted tasks paying any wrong answer but the planted one, and
// audits skipped under load. Those are fixed and the tests run; the one
// still skipped names the gap that remains.

// skipKnownBug skips a test of a known gap in chain/compute.
func skipKnownBug(t *testing.T, why string) {
	t.Helper()
	t.Skip("known gap in chain/compute: " + why)
}

// A provider that commits a wrong result and then withholds its reveal
// whenever it sees that it is checked (its job was audited; the other
// providers' reveals disagree with it) is only punished for a miss
// (miss_slash, no jail, no fault), never for the lie: the stake-lock
// bound on cheating's expected gain does not hold against it.
func TestEvasiveLiarIsProvenFaulty(t *testing.T) {
	var ps []adversary.Strategy
	for i := 0; i < 20; i++ {
		ps = append(ps, adversary.Strategy{Kind: adversary.Honest})
	}
	ps = append(ps, adversary.Strategy{Kind: adversary.Evasive}, adversary.Strategy{Kind: adversary.Evasive})
	for _, cfg := range []Config{
		{Mode: compute.VerifyRedundant, Redundancy: 3},
		{Mode: compute.VerifyOptimistic, AuditRate: types.FractionOne / 5},
	} {
		cfg.Jobs, cfg.JobsPerBlock, cfg.Providers, cfg.Replace, cfg.Seed = 600, 4, ps, true, 3
		rep := simulate(t, cfg)
		// In optimistic mode an unaudited lie is caught only by a
		// challenge; the audited ones must all be.
		if cfg.Mode == compute.VerifyRedundant && rep.Caught != rep.Lies {
			t.Errorf("%s: %d of %d lies proven faulty", cfg.Mode, rep.Caught, rep.Lies)
		}
		if cfg.Mode == compute.VerifyOptimistic && rep.Caught == 0 {
			t.Errorf("%s: none of %d lies proven faulty (%d accepted unaudited)", cfg.Mode, rep.Lies, rep.WrongAccepted)
		}
	}
}

// A planted referee task only checks that the referee did not reproduce
// the planted wrong claim: a referee that answers anything else wrong
// (a liar, random bytes) is paid from the reward pool as if it had run
// the job, although the confirmed result the task was made from is known.
func TestPlantedTaskFaultsEveryWrongReferee(t *testing.T) {
	var ps []adversary.Strategy
	for i := 0; i < 12; i++ {
		ps = append(ps, adversary.Strategy{Kind: adversary.Honest})
	}
	ps = append(ps, adversary.Strategy{Kind: adversary.Liar}, adversary.Strategy{Kind: adversary.Random})
	params := compute.DefaultParams()
	params.Verification.PlantRate = types.FractionOne / 4
	s, err := newSim(Config{Mode: compute.VerifyRedundant, Jobs: 300, JobsPerBlock: 2, Providers: ps, Replace: true, Seed: 9, Params: &params})
	if err != nil {
		t.Fatal(err)
	}
	for s.h < s.cfg.MaxBlocks && (s.submitted < s.cfg.Jobs || len(s.open) > 0) {
		if err := s.step(); err != nil {
			t.Fatal(err)
		}
	}
	lies, caught := 0, 0
	for _, r := range s.runs {
		if g := s.groups[r.group]; g != nil && g.planted && r.committed && r.lie {
			lies++
			if r.faulted {
				caught++
			}
		}
	}
	if lies == 0 || caught != lies {
		t.Errorf("planted tasks: %d of %d wrong referee answers proven faulty", caught, lies)
	}
}

// A planted task must look like a real dispute to the referee it is put
// to, or a lazy referee works only when it must. Its group has no
// provider runs, which no real dispute's group lacks, and its run is
// drawn from a different source of work.
func TestPlantedTaskLooksLikeADispute(t *testing.T) {
	skipKnownBug(t, "a planted task's group has no provider runs (verify_flow.go plant)")
	var ps []adversary.Strategy
	for i := 0; i < 12; i++ {
		ps = append(ps, adversary.Strategy{Kind: adversary.Honest})
	}
	ps = append(ps, adversary.Strategy{Kind: adversary.Liar})
	params := compute.DefaultParams()
	params.Verification.PlantRate = types.FractionOne / 4
	s, err := newSim(Config{Mode: compute.VerifyRedundant, Jobs: 100, JobsPerBlock: 2, Providers: ps, Replace: true, Seed: 9, Params: &params})
	if err != nil {
		t.Fatal(err)
	}
	for s.h < s.cfg.MaxBlocks && (s.submitted < s.cfg.Jobs || len(s.open) > 0) {
		if err := s.step(); err != nil {
			t.Fatal(err)
		}
	}
	// What a referee can read of its run and its group, for real
	// disputes and for planted tasks.
	type seen struct {
		client  types.Address
		members int
	}
	real, planted := map[seen]bool{}, map[seen]bool{}
	for _, gr := range s.groups {
		g := compute.GetGroup(s.db, gr.id)
		if len(g.Referees) == 0 {
			continue
		}
		r := compute.GetJob(s.db, g.Referees[0])
		v := seen{client: r.Client, members: min(len(g.Members), 1)}
		if gr.planted {
			planted[v] = true
		} else {
			real[v] = true
		}
	}
	if len(planted) == 0 || len(real) == 0 {
		t.Fatalf("%d planted, %d real kinds of referee task: nothing to compare", len(planted), len(real))
	}
	for v := range planted {
		if !real[v] {
			t.Errorf("a planted task shows its referee the client %s and a group with %d provider runs, which no real dispute does", v.client, v.members)
		}
	}
}

// An optimistic job is audited with its audit rate whatever the load:
// here every provider has one slot and more jobs arrive than they can
// take, so when an audit is drawn no provider has a free slot to run it,
// the job goes unaudited, and a liar is never caught.
func TestAuditsHappenUnderLoad(t *testing.T) {
	var ps []adversary.Strategy
	for i := 0; i < 6; i++ {
		ps = append(ps, adversary.Strategy{Kind: adversary.Honest})
	}
	ps = append(ps, adversary.Strategy{Kind: adversary.Liar})
	const p = 0.5
	s, err := newSim(Config{Mode: compute.VerifyOptimistic, AuditRate: types.FractionOne / 2, Jobs: 400, JobsPerBlock: 8, Slots: 1,
		Providers: ps, Replace: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for s.h < s.cfg.MaxBlocks && (s.submitted < s.cfg.Jobs || len(s.open) > 0) {
		if err := s.step(); err != nil {
			t.Fatal(err)
		}
	}
	audited, drawn := 0, 0
	for _, gr := range s.groups {
		if g := compute.GetGroup(s.db, gr.id); !gr.planted && g.Drawn {
			drawn++
			if g.Audited {
				audited++
			}
		}
	}
	sd := math.Sqrt(p * (1 - p) / float64(drawn))
	if got := float64(audited) / float64(drawn); math.Abs(got-p) > 4*sd {
		t.Errorf("%d of %d jobs audited (%.3f), want %.2f ± %.3f", audited, drawn, got, p, sd)
	}
}
