package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/types"
)

// repoFile is a path in the repository, from this package's directory.
func repoFile(p string) string { return filepath.Join("..", "..", p) }

// devnetWithProvider starts the binary's devnet, with its built-in
// provider, on free ports, and waits for the provider to register.
func devnetWithProvider(t *testing.T, extra ...string) (home string, c *client.Client, rpc int, d *proc) {
	t.Helper()
	ps := freePorts(t, 3)
	home = filepath.Join(t.TempDir(), "home")
	api := fmt.Sprintf("127.0.0.1:%d", ps[0])
	args := append([]string{"devnet", "--home", home, "--api", api, "--rpc", fmt.Sprintf("127.0.0.1:%d", ps[1]),
		"--p2p", fmt.Sprintf("127.0.0.1:%d", ps[2]), "--block-time", "200ms"}, extra...)
	d = start(t, args...)
	c = client.New("http://" + api)
	waitHeight(t, c, 2, 60*time.Second)
	waitProviders(t, home, 1)
	return home, c, ps[1], d
}

func waitProviders(t *testing.T, home string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var ps []struct{ Available bool }
		runJSON(t, &ps, "provider", "list", "--home", home)
		avail := 0
		for _, p := range ps {
			if p.Available {
				avail++
			}
		}
		if avail >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("fewer than %d providers registered", n)
}

type jobOut struct {
	Job    compute.Job `json:"job"`
	Output string      `json:"output"`
}

// submitWait submits a job through the CLI and waits for its result.
func submitWait(t *testing.T, home, wasm, input string, extra ...string) jobOut {
	t.Helper()
	var out jobOut
	runJSON(t, &out, append([]string{"job", "submit", "--home", home, "--wasm", wasm, "--input", input,
		"--max-price", "1myc", "--from", "alice", "--wait"}, extra...)...)
	return out
}

// A WebAssembly job through the CLI, run once by the devnet's provider and
// once by a second provider process: the same output bits and the same
// gas; the provider's balance up by exactly what settled, the client's
// down by that plus the fees.
func TestJobOnTwoProviders(t *testing.T) {
	home, c, rpc, d := devnetWithProvider(t, "--provider-price", "5umyc")
	input := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(input, []byte("to be or not to be\nthat is the question\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "2 be\n2 to\n1 is\n1 not\n1 or\n1 question\n1 that\n1 the\n"
	wasm := repoFile("examples/wasm/wordfreq.wasm")
	first := submitWait(t, home, wasm, input)
	if first.Output != want {
		t.Fatalf("output %q, want %q", first.Output, want)
	}

	// A second provider, cheaper, in its own process.
	var k struct{ Address types.Address }
	runJSON(t, &k, "keys", "add", "prov2", "--home", home)
	run(t, false, "--home", home, "tx", "send", "prov2", "100myc", "--from", "bob")
	second := start(t, "provider", "run", "--home", home, "--from", "prov2", "--price", "2umyc", "--slots", "1")
	waitProviders(t, home, 2)

	balance := func(who string) types.Amount {
		var b struct{ Balance types.Amount }
		runJSON(t, &b, "query", "balance", who, "--home", home)
		return b.Balance
	}
	status, err := c.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	provBefore, aliceBefore := balance("prov2"), balance("alice")
	again := submitWait(t, home, wasm, input)
	if again.Job.Provider != k.Address {
		t.Fatalf("the second job went to %s, not the cheaper second provider %s", again.Job.Provider, k.Address)
	}
	if again.Output != first.Output || again.Job.GasUsed != first.Job.GasUsed || again.Job.Output != first.Job.Output {
		t.Fatalf("providers disagree: %q/%d vs %q/%d", first.Output, first.Job.GasUsed, again.Output, again.Job.GasUsed)
	}
	cost, _ := compute.Cost(again.Job.GasUsed, 2, 1_000_000)
	if again.Job.Paid != cost || cost == 0 {
		t.Fatalf("paid %s, want ceil(gas × price / gas per CU) = %s", again.Job.Paid, cost)
	}
	after, err := c.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rewards := providerRewards(t, rpc, k.Address, status.Height+1, after.Height)
	if got := balance("prov2") - provBefore; got != again.Job.Paid+rewards {
		t.Fatalf("provider balance up by %s, want the settled %s (+ %s of epoch rewards)", got, again.Job.Paid, rewards)
	}
	// The client paid the submission fee and the escrow, and got back
	// the refund: the provider's pay plus the provider's fees, which the
	// escrow paid.
	subFee := submitFee(t, home, again.Job.ID)
	if got := aliceBefore - balance("alice"); got != subFee+again.Job.MaxPrice-again.Job.Refunded {
		t.Fatalf("client down by %s, want the fee %s + %s escrowed - %s refunded", got, subFee, again.Job.MaxPrice, again.Job.Refunded)
	}
	if spent := again.Job.MaxPrice - again.Job.Refunded - again.Job.Paid; spent == 0 || spent > 30_000 {
		t.Fatalf("the escrow paid %s of provider fees", spent)
	}
	if err := second.kill(syscall.SIGINT); err != nil {
		t.Fatalf("second provider did not stop cleanly: %v\n%s", err, second.out.String())
	}
	if !strings.Contains(second.out.String(), "job ran") {
		t.Fatalf("the second provider's output shows no run:\n%s", second.out.String())
	}
	d.kill(syscall.SIGINT)
}

// submitFee reads the fee of a job's submit transaction, found through
// CometBFT's tx_search on the job_submitted event.
func submitFee(t *testing.T, home string, id uint64) types.Amount {
	t.Helper()
	var s struct {
		RPCAddress string `json:"rpc_address"`
	}
	runJSON(t, &s, "status", "--home", home)
	rpc := strings.TrimPrefix(s.RPCAddress, "tcp://")
	resp, err := http.Get(fmt.Sprintf("http://%s/tx_search?query=%%22job_submitted.id=%d%%22", rpc, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Result struct {
			Txs []struct{ Hash string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Result.Txs) != 1 {
		t.Fatalf("tx_search for job %d: %v %+v", id, err, r)
	}
	var tr struct {
		Tx struct{ Fee types.Amount }
	}
	runJSON(t, &tr, "query", "tx", strings.ToLower(r.Result.Txs[0].Hash), "--home", home)
	return tr.Tx.Fee
}

// providerRewards sums the epoch rewards paid to a provider in a range of
// blocks, from CometBFT's block results.
func providerRewards(t *testing.T, rpc int, a types.Address, from, to int64) types.Amount {
	t.Helper()
	var sum types.Amount
	for h := from; h <= to; h++ {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/block_results?height=%d", rpc, h))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Result struct {
				FinalizeBlockEvents []struct {
					Type       string
					Attributes []struct{ Key, Value string }
				} `json:"finalize_block_events"`
			}
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		for _, e := range r.Result.FinalizeBlockEvents {
			if e.Type != "provider_reward" {
				continue
			}
			var who string
			var amt types.Amount
			for _, at := range e.Attributes {
				switch at.Key {
				case "provider":
					who = at.Value
				case "amount":
					fmt.Sscan(at.Value, (*uint64)(&amt))
				}
			}
			if who == a.String() {
				sum += amt
			}
		}
	}
	return sum
}

// buildJobs builds the executor tests' many-behaviour guest program.
func buildJobs(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "jobs.wasm")
	cmd := exec.Command("go", "build", "-o", out, "./worker/provider/executor/wasm/testdata/jobs")
	cmd.Dir = repoFile("")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the jobs program: %v\n%s", err, b)
	}
	return out
}

// Hostile jobs end as failed with a reason the client can read; the
// provider is paid for its metered work and not penalised; the node and
// the provider keep working.
func TestHostileJobs(t *testing.T) {
	home, c, _, d := devnetWithProvider(t)
	jobs := buildJobs(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := file("garbage.wasm", "this is not WebAssembly")
	for _, tc := range []struct {
		name, wasm, input string
		extra             []string
		reason            string
		paid              bool
	}{
		{"infinite loop", jobs, file("spin", "spin\n"), []string{"--gas", "50000000"}, "out_of_gas", true},
		{"memory bomb", jobs, file("bomb", "bomb\n"), []string{"--memory", "64"}, "memory_limit", true},
		{"output over the limit", jobs, file("bigout", "bigout\n"), nil, "output_too_large", true},
		{"not WebAssembly", garbage, file("x", ""), nil, "invalid_module", false},
		{"exit code", jobs, file("exit3", "exit3\n"), nil, "exit_code", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"job", "submit", "--home", home, "--wasm", tc.wasm, "--input", tc.input,
				"--max-price", "1myc", "--from", "alice", "--wait"}, tc.extra...)
			_, stderr := run(t, true, args...)
			if !strings.Contains(stderr, "failed: the job failed: "+tc.reason) {
				t.Fatalf("stderr lacks the reason %q:\n%s", tc.reason, stderr)
			}
		})
	}
	// The failures were paid for their gas, and nobody was penalised.
	var ps []struct {
		Missed uint64 `json:"jobs_missed"`
		Failed uint64 `json:"jobs_failed"`
		Earned types.Amount
	}
	runJSON(t, &ps, "provider", "list", "--home", home)
	if len(ps) != 1 || ps[0].Missed != 0 || ps[0].Failed != 5 || ps[0].Earned == 0 {
		t.Fatalf("provider after hostile jobs: %+v", ps)
	}
	// And a normal job still runs.
	in := file("ok", "upper\nfine\n")
	out := submitWait(t, home, jobs, in)
	if out.Output != "FINE\n" {
		t.Fatalf("after the hostile jobs: %q", out.Output)
	}
	if _, err := c.Status(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.kill(syscall.SIGINT)
}
