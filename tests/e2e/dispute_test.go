package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/types"
)

// A dispute through the CLI over an honest answer of the devnet's model:
// a second provider process is drawn as the referee, fetches the model
// and the evidence from the node, re-executes the request and finds the
// receipt holds; the disputer loses its bond (half burned, half to the
// referee) and the provider that answered is not punished.
func TestDisputeHonestAnswer(t *testing.T) {
	home, c, _, _ := devnetWithProvider(t, "--check-invariants")
	run(t, false, "keys", "add", "ref", "--home", home)
	run(t, false, "--home", home, "tx", "send", "ref", "100myc", "--from", "bob")
	start(t, "provider", "run", "--home", home, "--from", "ref", "--slots", "1")
	waitProviders(t, home, 2)

	// An answer with its receipt, as any OpenAI client gets it.
	body := `{"model":"` + models.KJVName + `","prompt":"In the beginning","max_tokens":16,"seed":7}`
	var answer []byte
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Post(c.URL()+"/v1/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		answer, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond) // the provider announces its model within a poll
	}
	if !bytes.Contains(answer, []byte("mycel_receipt")) {
		t.Fatalf("answer: %s", answer)
	}
	file := filepath.Join(t.TempDir(), "answer.json")
	if err := os.WriteFile(file, answer, 0o644); err != nil {
		t.Fatal(err)
	}

	var before struct{ Balance types.Amount }
	runJSON(t, &before, "query", "balance", "carol", "--home", home)
	var opened struct{ ID string }
	runJSON(t, &opened, "dispute", "open", file, "--bond", "2myc", "--from", "carol", "--home", home)
	id, err := strconv.ParseUint(opened.ID, 10, 64)
	if err != nil {
		t.Fatalf("dispute id %q", opened.ID)
	}
	var g *compute.Group
	for end := time.Now().Add(90 * time.Second); ; {
		if g, err = c.Verification(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		if g.Finished() || time.Now().After(end) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if g.Phase != compute.PhaseSettled || g.Verdict != compute.VerdictHolds || !strings.Contains(g.Outcome, "provider won") {
		t.Fatalf("dispute %+v: want settled, the receipt holds", g)
	}
	var after struct{ Balance types.Amount }
	runJSON(t, &after, "query", "balance", "carol", "--home", home)
	if lost := before.Balance - after.Balance; lost < types.MYC(2) || lost > types.MYC(2)+100_000 {
		t.Fatalf("carol lost %s, want the 2 MYC bond and the fees", lost)
	}
	var p struct {
		Faults uint64
		Jailed bool
	}
	runJSON(t, &p, "provider", "show", g.Receipt.Provider.String(), "--home", home)
	if p.Faults != 0 || p.Jailed {
		t.Fatalf("the honest provider was punished: %+v", p)
	}
}
