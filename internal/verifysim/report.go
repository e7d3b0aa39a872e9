package verifysim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"sort"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/internal/adversary"
	"github.com/mycelnet/mycel/types"
)

// Report is what a simulation measured.
type Report struct {
	Mode string `json:"mode"`
	// StateDigest is the sha256 of the whole final state, keys and values
	// in order: two runs of one configuration must give the same.
	StateDigest string `json:"state_digest"`
	// Jobs the client submitted; of their verification groups, Settled
	// reached a verdict, Failed ended without one (every provider silent,
	// referees without a majority), Unresolved were still open when the
	// simulation stopped. WrongAccepted settled on a result other than
	// the true one.
	Jobs          int   `json:"jobs"`
	Settled       int   `json:"settled"`
	Failed        int   `json:"failed"`
	Unresolved    int   `json:"unresolved"`
	WrongAccepted int   `json:"wrong_accepted"`
	Blocks        int64 `json:"blocks"`
	// Providers registered, replacements included.
	Providers int `json:"providers"`
	// UsefulGas is the gas of one run of each settled job: the client's
	// work. VerificationGas is the gas of every other run that committed
	// (the other redundant runs, auditors, referees, planted tasks).
	// Overhead is their ratio; ExpectedOverhead the ratio without
	// disputes: r−1 redundant, the audit rate optimistic.
	UsefulGas        uint64  `json:"useful_gas"`
	VerificationGas  uint64  `json:"verification_gas"`
	Overhead         float64 `json:"overhead"`
	ExpectedOverhead float64 `json:"expected_overhead"`
	// Blocks from a job's submission to its final result (verdict or
	// failure): median and 90th percentile.
	BlocksToFinal    float64 `json:"blocks_to_final"`
	BlocksToFinalP90 float64 `json:"blocks_to_final_p90"`
	// Lies are the provider runs (the client's work) that committed a
	// result other than the truth, in finished groups; Caught those of
	// them proven faulty. DetectionRate is Caught over Lies, beside the
	// rate the theory expects: 1 in redundant mode (every lie meets a run
	// that reveals something else while the majority is honest);
	// p + (1−p)·w in optimistic mode with audit rate p and a watcher that
	// checks a fraction w of unaudited results. DetectionStdErr is the
	// binomial standard error at the expected rate.
	Lies                  int     `json:"lies"`
	Caught                int     `json:"caught"`
	DetectionRate         float64 `json:"detection_rate"`
	ExpectedDetectionRate float64 `json:"expected_detection_rate"`
	DetectionStdErr       float64 `json:"detection_stderr"`
	// VerifierLies are auditor and referee runs (planted tasks included)
	// that committed a result other than the truth; VerifierCaught those
	// proven faulty.
	VerifierLies   int `json:"verifier_lies"`
	VerifierCaught int `json:"verifier_caught"`
	// WrongMajorities are the jobs where a strict majority of the
	// providers that revealed agreed on the same wrong result (colluders,
	// or providers of the same cheaper model); WrongMajoritiesCaught those
	// where every one of them was proven faulty and the job settled on
	// the truth anyway.
	// Captured are the jobs whose referees' majority reproduced a wrong
	// result (a dishonest majority in a round): the only way an honest
	// run can be proven faulty.
	Captured              int `json:"captured"`
	WrongMajorities       int `json:"wrong_majorities"`
	WrongMajoritiesCaught int `json:"wrong_majorities_caught"`
	PlantedTasks          int `json:"planted_tasks"`
	Challenges            int `json:"challenges"`
	// Copies counts copiers that found a revealed result to copy before
	// they had to commit: the rules make it zero.
	Copies int `json:"copies"`
	// HonestSlashed counts slashes of honest providers, HonestFaults the
	// faults proven against them: both must be zero.
	HonestSlashed int          `json:"honest_slashed"`
	HonestFaults  int          `json:"honest_faults"`
	Burned        types.Amount `json:"burned"`
	// Strategies breaks the runs down by strategy.
	Strategies []StrategyStats `json:"strategies"`
}

// StrategyStats are the runs of the providers of one strategy: committed,
// wrong, proven faulty (Caught: the wrong ones), missed, and the stake the
// chain slashed from them.
type StrategyStats struct {
	Strategy  string       `json:"strategy"`
	Providers int          `json:"providers"`
	Runs      int          `json:"runs"`
	Lies      int          `json:"lies"`
	Caught    int          `json:"caught"`
	Faults    int          `json:"faults"`
	Missed    int          `json:"missed"`
	Slashed   types.Amount `json:"slashed"`
}

func (s *sim) report() (*Report, error) {
	rep := &Report{Mode: s.cfg.Mode.String(), Jobs: s.submitted, Blocks: s.h - 2, Providers: len(s.provs),
		Challenges: s.challenges, Copies: s.copies, HonestSlashed: s.honestSlashes, HonestFaults: s.honestFaults, Burned: s.burned}
	d := sha256.New()
	it := s.db.Iterator(nil, nil)
	for ; it.Valid(); it.Next() {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(it.Key())))
		d.Write(n[:])
		d.Write(it.Key())
		binary.BigEndian.PutUint64(n[:], uint64(len(it.Value())))
		d.Write(n[:])
		d.Write(it.Value())
	}
	it.Close()
	rep.StateDigest = hex.EncodeToString(d.Sum(nil))
	var final []float64
	var total uint64
	for _, gr := range s.groups {
		g := compute.GetGroup(s.db, gr.id)
		if g == nil {
			continue
		}
		if gr.planted {
			rep.PlantedTasks++
		}
		if gr.finished == 0 {
			if !gr.planted {
				rep.Unresolved++
			}
			continue
		}
		var ids []uint64
		ids = append(append(ids, g.Members...), g.Referees...)
		for _, id := range ids {
			if j := compute.GetJob(s.db, id); j != nil && j.CommittedAt > 0 {
				total += truth(j.Input).Gas
			}
		}
		if gr.planted {
			continue
		}
		final = append(final, float64(gr.finished-gr.submitted))
		spec := compute.GetJob(s.db, g.Members[0])
		t := truth(spec.Input)
		if s.wrongMajority(g, t) {
			rep.WrongMajorities++
			if g.Phase == compute.PhaseSettled && g.Truth == t.Key() {
				rep.WrongMajoritiesCaught++
			}
		}
		if g.Phase == compute.PhaseSettled {
			rep.Settled++
			rep.UsefulGas += t.Gas
			if g.Truth != t.Key() {
				rep.WrongAccepted++
				if len(g.Referees) > 0 {
					rep.Captured++
				}
			}
		} else {
			rep.Failed++
		}
	}
	rep.VerificationGas = total - rep.UsefulGas
	if rep.UsefulGas > 0 {
		rep.Overhead = float64(rep.VerificationGas) / float64(rep.UsefulGas)
	}
	rep.BlocksToFinal, rep.BlocksToFinalP90 = quantile(final, 0.5), quantile(final, 0.9)
	for _, r := range s.runs {
		g := s.groups[r.group]
		if !r.committed || !r.lie || g == nil || g.finished == 0 {
			continue
		}
		if r.role == compute.RoleProvider {
			rep.Lies++
			if r.faulted {
				rep.Caught++
			}
		} else {
			rep.VerifierLies++
			if r.faulted {
				rep.VerifierCaught++
			}
		}
	}
	p := float64(s.cfg.AuditRate) / types.FractionOne
	switch s.cfg.Mode {
	case compute.VerifyRedundant:
		rep.ExpectedDetectionRate, rep.ExpectedOverhead = 1, float64(s.cfg.Redundancy-1)
	case compute.VerifyOptimistic:
		rep.ExpectedDetectionRate, rep.ExpectedOverhead = p+(1-p)*s.cfg.Watch, p
	}
	if rep.Lies > 0 {
		e := rep.ExpectedDetectionRate
		rep.DetectionRate = float64(rep.Caught) / float64(rep.Lies)
		rep.DetectionStdErr = math.Sqrt(e * (1 - e) / float64(rep.Lies))
	}
	for _, st := range s.kinds {
		rep.Strategies = append(rep.Strategies, *st)
	}
	sort.Slice(rep.Strategies, func(a, b int) bool { return rep.Strategies[a].Strategy < rep.Strategies[b].Strategy })
	return rep, nil
}

// quantile is the q-quantile of xs (nearest rank); 0 when there are none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

// wrongMajority reports whether a strict majority of g's provider runs
// that revealed agreed on the same wrong result, every one of them proven
// faulty or not.
func (s *sim) wrongMajority(g *compute.Group, t adversary.Result) bool {
	count := map[types.Hash]int{}
	revealed := 0
	for _, id := range g.Members {
		r := s.runs[id]
		if r == nil || !r.revealed || r.role != compute.RoleProvider {
			continue
		}
		revealed++
		if k := r.answer.Key(); k != t.Key() {
			count[k]++
		}
	}
	for _, n := range count {
		if 2*n > revealed && n >= 2 {
			return true
		}
	}
	return false
}
