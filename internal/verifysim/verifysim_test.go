package verifysim

import (
	"math"
	"testing"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/internal/adversary"
	"github.com/mycelnet/mycel/types"
)

// run simulates cfg and fails the test on any error: a broken invariant
// (checked after every block), or an action the rules refused although
// they should have taken it.
func simulate(t *testing.T, cfg Config) *Report {
	t.Helper()
	s, err := newSim(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for s.h < s.cfg.MaxBlocks && (s.submitted < s.cfg.Jobs || len(s.open) > 0) {
		if err := s.step(); err != nil {
			t.Fatalf("height %d: %v", s.h, err)
		}
	}
	rep, err := s.report()
	if err != nil {
		t.Fatal(err)
	}
	// The state agrees with the events: no honest provider has a fault,
	// a slashed or jailed bond.
	for _, p := range s.provs {
		if !p.strat.IsHonest() {
			continue
		}
		pr := compute.GetProvider(s.db, p.addr)
		bd, _ := stake.GetBond(s.db, p.addr, stake.Provider)
		if pr.Faults != 0 || pr.Slashed != 0 || pr.Missed != 0 || bd.Jailed || bd.Amount != s.cfg.Stake {
			t.Errorf("honest %s: faults %d, slashed %s, missed %d, bond %s, jailed %v", p.name, pr.Faults, pr.Slashed, pr.Missed, bd.Amount, bd.Jailed)
		}
	}
	if rep.Unresolved > 0 {
		t.Errorf("%d jobs still open after %d blocks", rep.Unresolved, rep.Blocks)
	}
	return rep
}

// Property: across thousands of jobs against every cheating strategy at
// once (replaced as soon as they are banned), no honest provider is
// ever proven faulty or slashed, the copier never finds anything to copy,
// and every lie in redundant mode is caught.
func TestNoHonestProviderIsSlashed(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"redundant", Config{Mode: compute.VerifyRedundant, Redundancy: 3}},
		{"optimistic", Config{Mode: compute.VerifyOptimistic, AuditRate: types.FractionOne / 5, Watch: 0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Jobs, cfg.JobsPerBlock, cfg.Providers, cfg.Replace, cfg.Seed = 1200, 8, Mixed(24), true, 11
			rep := simulate(t, cfg)
			t.Logf("%d jobs in %d blocks: %d lies, %d caught; %d verifier lies, %d caught; %d captured rounds; %d planted tasks",
				rep.Jobs, rep.Blocks, rep.Lies, rep.Caught, rep.VerifierLies, rep.VerifierCaught, rep.Captured, rep.PlantedTasks)
			if rep.HonestSlashed != 0 || rep.HonestFaults != 0 || rep.Captured != 0 {
				t.Errorf("honest providers slashed %d times, proven faulty %d times; %d referee rounds captured", rep.HonestSlashed, rep.HonestFaults, rep.Captured)
			}
			if rep.Copies != 0 {
				t.Errorf("a copier found %d revealed results to copy before it had to commit", rep.Copies)
			}
			if rep.Lies < 100 || rep.Caught == 0 {
				t.Errorf("only %d lies, %d caught: the adversaries did not get to work", rep.Lies, rep.Caught)
			}
			if cfg.Mode == compute.VerifyRedundant && rep.WrongAccepted != 0 {
				t.Errorf("%d redundant jobs settled on a wrong result", rep.WrongAccepted)
			}
		})
	}
}

// Property: a provider that lies on a fraction f of its runs under audit
// rate p (and a watcher that re-executes a fraction w of the unaudited
// results) is caught on p + (1−p)·w of its lies, within four binomial
// standard deviations; and it lies on f of its runs.
func TestDetectionMatchesTheory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rate  types.Fraction
		f     float64
		watch float64
		seed  uint64
	}{
		{"audits p=0.2 f=0.5", types.FractionOne / 5, 0.5, 0, 7},
		{"audits p=0.1 f=0.5, watcher w=0.5", types.FractionOne / 10, 0.5, 0.5, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ps []adversary.Strategy
			for i := 0; i < 24; i++ {
				ps = append(ps, adversary.Strategy{Kind: adversary.Honest})
			}
			for i := 0; i < 8; i++ {
				ps = append(ps, adversary.Strategy{Kind: adversary.LiarQ, Q: tc.f})
			}
			rep := simulate(t, Config{Mode: compute.VerifyOptimistic, AuditRate: tc.rate, Watch: tc.watch, Jobs: 2000, JobsPerBlock: 8,
				Providers: ps, Replace: true, Seed: tc.seed})
			p := float64(tc.rate) / types.FractionOne
			want := p + (1-p)*tc.watch
			if rep.ExpectedDetectionRate != want {
				t.Fatalf("expected rate %g, want %g", rep.ExpectedDetectionRate, want)
			}
			if rep.Lies < 150 {
				t.Fatalf("only %d lies: too few to measure", rep.Lies)
			}
			sd := math.Sqrt(want * (1 - want) / float64(rep.Lies))
			t.Logf("caught %d of %d lies: %.3f, theory %.3f ± %.3f", rep.Caught, rep.Lies, rep.DetectionRate, want, sd)
			if math.Abs(rep.DetectionRate-want) > 4*sd {
				t.Errorf("detection %.3f, theory %.3f: off by more than 4 standard deviations (%.3f)", rep.DetectionRate, want, 4*sd)
			}
			for _, st := range rep.Strategies {
				if st.Strategy != (adversary.Strategy{Kind: adversary.LiarQ, Q: tc.f}).Name() {
					continue
				}
				lf := float64(st.Lies) / float64(st.Runs)
				if sd := math.Sqrt(tc.f * (1 - tc.f) / float64(st.Runs)); math.Abs(lf-tc.f) > 4*sd {
					t.Errorf("the liars lied on %.3f of %d runs, want %.3f ± %.3f", lf, st.Runs, tc.f, sd)
				}
			}
			if rep.HonestSlashed != 0 || rep.HonestFaults != 0 {
				t.Errorf("honest providers slashed %d times, proven faulty %d times", rep.HonestSlashed, rep.HonestFaults)
			}
		})
	}
}

// Rule: in redundant mode re-execution, not a vote, is the truth: a
// colluding pair that holds two of a job's three runs and reveals the
// same wrong result is outvoted by the honest referees and both are
// proven faulty.
func TestColludingPairsAreCaught(t *testing.T) {
	t.Parallel()
	var ps []adversary.Strategy
	for i := 0; i < 6; i++ {
		ps = append(ps, adversary.Strategy{Kind: adversary.Honest})
	}
	for ring := 1; ring <= 2; ring++ {
		ps = append(ps, adversary.Strategy{Kind: adversary.Colluder, Ring: ring}, adversary.Strategy{Kind: adversary.Colluder, Ring: ring})
	}
	rep := simulate(t, Config{Mode: compute.VerifyRedundant, Redundancy: 3, Jobs: 600, JobsPerBlock: 3, Providers: ps, Replace: true, Seed: 5})
	t.Logf("%d jobs where a pair held two of three runs; %d lies, %d caught", rep.WrongMajorities, rep.Lies, rep.Caught)
	if rep.WrongMajorities < 20 {
		t.Fatalf("a pair held two runs of only %d jobs: too few to check", rep.WrongMajorities)
	}
	if rep.WrongMajoritiesCaught != rep.WrongMajorities || rep.WrongAccepted != 0 || rep.Caught != rep.Lies {
		t.Errorf("pairs holding the majority: %d of %d caught; %d wrong results accepted; %d of %d lies caught",
			rep.WrongMajoritiesCaught, rep.WrongMajorities, rep.WrongAccepted, rep.Caught, rep.Lies)
	}
	if rep.HonestSlashed != 0 || rep.HonestFaults != 0 {
		t.Errorf("honest providers slashed %d times, proven faulty %d times", rep.HonestSlashed, rep.HonestFaults)
	}
}

// The chain's side of the simulation is deterministic: the same
// configuration (providers, seed, beacons) run twice ends in the same
// state, byte for byte, in both modes.
func TestSameHistorySameState(t *testing.T) {
	for _, cfg := range []Config{
		{Mode: compute.VerifyRedundant, Redundancy: 3},
		{Mode: compute.VerifyOptimistic, AuditRate: types.FractionOne / 5},
	} {
		cfg.Jobs, cfg.JobsPerBlock, cfg.Providers, cfg.Replace, cfg.Seed = 200, 4, Mixed(12), true, 11
		a, b := simulate(t, cfg), simulate(t, cfg)
		if a.StateDigest != b.StateDigest || a.StateDigest == "" {
			t.Fatalf("%s: two runs of one history end in states %s and %s", cfg.Mode, a.StateDigest, b.StateDigest)
		}
	}
}
