package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/internal/adversary"
	"github.com/mycelnet/mycel/internal/verifysim"
	"github.com/mycelnet/mycel/types"
)

// VerifyOptions size the verification benchmark.
type VerifyOptions struct {
	// Jobs is how many jobs each mode's client submits.
	Jobs int `json:"jobs"`
	// Honest is how many honest providers there are beside one of each
	// cheating strategy (verifysim.Mixed); Evasive adds that many
	// providers that withhold a lie's reveal when they see it checked.
	Honest  int `json:"honest"`
	Evasive int `json:"evasive,omitempty"`
	// Redundancy is the redundant mode's number of providers; AuditRate
	// the optimistic mode's audit rate and Watch the fraction of
	// unaudited optimistic results a watcher re-executes.
	Redundancy uint32    `json:"redundancy"`
	AuditRate  float64   `json:"audit_rate"`
	Watch      float64   `json:"watch"`
	Seed       uint64    `json:"seed"`
	Progress   io.Writer `json:"-"`
}

// VerifyResult is the verification benchmark's outcome: for each mode the
// simulation's report, whose overhead (verification gas over useful gas),
// blocks_to_final (median), detection_rate, expected_detection_rate and
// honest_slashed are the headline figures. Ratio is the measured
// detection rate over the theory's, in the mode where it is lowest:
// higher is better, 1 is the theory holding.
type VerifyResult struct {
	Modes      map[string]*verifysim.Report `json:"modes"`
	Population []string                     `json:"population"`
	Ratio      float64                      `json:"ratio"`
	Seconds    float64                      `json:"seconds"`
	Options    VerifyOptions                `json:"options"`
	Settings   string                       `json:"settings"`
}

// Verify runs the verification simulation in redundant and optimistic
// mode over the same population, each on its own chain.
func Verify(ctx context.Context, o VerifyOptions) (VerifyResult, error) {
	if o.Jobs <= 0 {
		o.Jobs = 2000
	}
	if o.Honest <= 0 {
		o.Honest = 24
	}
	if o.Redundancy == 0 {
		o.Redundancy = 3
	}
	if o.AuditRate <= 0 {
		o.AuditRate = 0.1
	}
	if o.AuditRate > 1 || o.Watch < 0 || o.Watch > 1 {
		return VerifyResult{}, fmt.Errorf("audit rate %g and watch %g must be in (0, 1] and [0, 1]", o.AuditRate, o.Watch)
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	pop := verifysim.Mixed(o.Honest)
	for i := 0; i < o.Evasive; i++ {
		pop = append(pop, adversary.Strategy{Kind: adversary.Evasive})
	}
	res := VerifyResult{Modes: map[string]*verifysim.Report{}, Population: population(pop), Options: o, Settings: fmt.Sprintf(
		"the compute keeper over the real bank and stake modules on an in-memory state, default parameters; %d providers "+
			"(4 slots, 100 MYC stake each; a banned cheater is replaced by a fresh one); %d jobs a mode, 8 a block; "+
			"a new beacon every block; invariants checked after every block", len(pop), o.Jobs)}
	cfgs := []verifysim.Config{
		{Mode: compute.VerifyRedundant, Redundancy: o.Redundancy},
		{Mode: compute.VerifyOptimistic, AuditRate: types.Fraction(math.Round(o.AuditRate * types.FractionOne)), Watch: o.Watch},
	}
	reps := make([]*verifysim.Report, len(cfgs))
	errs := make([]error, len(cfgs))
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfgs {
		cfg := &cfgs[i]
		cfg.Jobs, cfg.JobsPerBlock, cfg.Providers, cfg.Replace, cfg.Seed = o.Jobs, 8, pop, true, o.Seed
		say(o.Progress, "verify: %s, %d jobs ...", cfg.Mode, o.Jobs)
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = verifysim.Run(*cfg)
		}()
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Ratio = math.Inf(1)
	for i, cfg := range cfgs {
		if errs[i] != nil {
			return res, fmt.Errorf("%s: %w", cfg.Mode, errs[i])
		}
		r := reps[i]
		res.Modes[r.Mode] = r
		if r.Lies > 0 && r.ExpectedDetectionRate > 0 {
			res.Ratio = math.Min(res.Ratio, r.DetectionRate/r.ExpectedDetectionRate)
		}
	}
	if math.IsInf(res.Ratio, 1) {
		res.Ratio = 0 // nobody lied: nothing measured
	}
	return res, nil
}

// population names the strategies with their counts.
func population(ps []adversary.Strategy) []string {
	n := map[string]int{}
	for _, p := range ps {
		n[p.Name()]++
	}
	var out []string
	for name, c := range n {
		out = append(out, fmt.Sprintf("%d %s", c, name))
	}
	sort.Slice(out, func(a, b int) bool {
		return strings.SplitN(out[a], " ", 2)[1] < strings.SplitN(out[b], " ", 2)[1]
	})
	return out
}
