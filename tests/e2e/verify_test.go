package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/types"
)

// Verification on a devnet with the built binary: the devnet's own
// provider, a second honest provider process and a lying one (the
// cheapest, so the scheduler picks it). A redundant job that runs on the
// liar and an honest provider disagrees; a referee drawn from the rest
// re-executes it; the client gets the right output; the liar is slashed,
// jailed and banned and its reputation falls below the honest ones'; no
// honest provider loses stake. The devnet checks its supply, stake and
// escrow invariants after every block and would halt on a break.
func TestVerificationCatchesALiar(t *testing.T) {
	home, _, _, d := devnetWithProvider(t, "--provider-price", "5umyc", "--check-invariants")
	input := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(input, []byte("to be or not to be\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "2 be\n2 to\n1 not\n1 or\n"
	wasm := repoFile("examples/wasm/wordfreq.wasm")

	addr := map[string]types.Address{}
	for _, name := range []string{"liar", "honest"} {
		var k struct{ Address types.Address }
		runJSON(t, &k, "keys", "add", name, "--home", home)
		addr[name] = k.Address
		run(t, false, "--home", home, "tx", "send", name, "100myc", "--from", "bob")
	}
	liar := start(t, "provider", "run", "--home", home, "--from", "liar", "--price", "1umyc", "--slots", "1", "--misbehave", "lie")
	honest := start(t, "provider", "run", "--home", home, "--from", "honest", "--price", "2umyc", "--slots", "1")
	waitProviders(t, home, 3)

	type providerView struct {
		Address    types.Address
		Stake      types.Amount
		Jailed     bool
		Banned     bool
		Faults     uint64
		Slashed    types.Amount
		Reputation uint32
	}
	show := func(a types.Address) providerView {
		var p providerView
		runJSON(t, &p, "provider", "show", a.String(), "--home", home)
		return p
	}
	var all []struct{ Address types.Address }
	runJSON(t, &all, "provider", "list", "--home", home)
	before := map[types.Address]providerView{}
	for _, p := range all {
		before[p.Address] = show(p.Address)
	}

	out := submitWait(t, home, wasm, input, "--verify", "redundant", "--redundancy", "2")
	if out.Output != want {
		t.Fatalf("the verified job's output is %q, want %q", out.Output, want)
	}
	var v struct {
		Verification compute.Group
		Runs         []compute.Job
	}
	runJSON(t, &v, "job", "verification", strconv.FormatUint(out.Job.ID, 10), "--home", home)
	if v.Verification.Phase != compute.PhaseSettled || len(v.Verification.Referees) == 0 {
		t.Fatalf("verification %+v: want settled by referees", v.Verification)
	}
	var liarRun *compute.Job
	for i, r := range v.Runs {
		if r.Provider == addr["liar"] {
			liarRun = &v.Runs[i]
		}
	}
	if liarRun == nil || liarRun.State != compute.Failed || liarRun.Paid != 0 || !strings.Contains(liarRun.Reason, "differs from re-execution") {
		t.Fatalf("the liar's run: %+v", liarRun)
	}

	l := show(addr["liar"])
	if l.Faults != 1 || !l.Jailed || !l.Banned || l.Slashed == 0 || l.Stake != before[addr["liar"]].Stake-l.Slashed {
		t.Fatalf("liar after: %+v, before: %+v", l, before[addr["liar"]])
	}
	for a, b := range before {
		if a == addr["liar"] {
			continue
		}
		p := show(a)
		if p.Stake < b.Stake || p.Faults != 0 || p.Jailed || p.Slashed != 0 {
			t.Fatalf("honest provider %s was punished: before %+v, after %+v", a, b, p)
		}
		if p.Reputation <= l.Reputation {
			t.Fatalf("honest provider %s has reputation %d, the liar %d", a, p.Reputation, l.Reputation)
		}
	}

	// The liar is off the market: the next verified job runs on the
	// honest two and settles without referees.
	again := submitWait(t, home, wasm, input, "--verify", "redundant", "--redundancy", "2")
	if again.Output != want {
		t.Fatalf("second job's output %q", again.Output)
	}
	v.Verification, v.Runs = compute.Group{}, nil
	runJSON(t, &v, "job", "verification", strconv.FormatUint(again.Job.ID, 10), "--home", home)
	if v.Verification.Phase != compute.PhaseSettled || len(v.Verification.Referees) != 0 {
		t.Fatalf("second verification %+v: want settled by agreement", v.Verification)
	}
	for _, r := range v.Runs {
		if r.Provider == addr["liar"] {
			t.Fatalf("the banned liar got run %d", r.ID)
		}
	}
	for _, p := range []*proc{liar, honest} {
		p.kill(syscall.SIGINT)
	}
	if err := d.kill(syscall.SIGINT); err != nil {
		t.Fatalf("devnet did not stop cleanly (an invariant may have broken): %v\n%s", err, d.out.String())
	}
}
