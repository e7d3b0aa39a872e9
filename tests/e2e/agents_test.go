package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mycelnet/mycel/types"
)

var buildExamples sync.Once

// exampleBin builds the example agents once, beside the mycel binary.
func exampleBin(t *testing.T, name string) string {
	t.Helper()
	var err error
	buildExamples.Do(func() {
		for _, n := range []string{"oracle", "manager"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, n), "github.com/mycelnet/mycel/examples/agents/"+n)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if e := cmd.Run(); e != nil {
				err = fmt.Errorf("build %s: %v\n%s", n, e, out.String())
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(binDir, name)
}

// startAgent runs an example agent and waits for the line that names its
// id.
func startAgent(t *testing.T, name string, args ...string) (*proc, uint64) {
	t.Helper()
	bin := exampleBin(t, name)
	p := &proc{t: t, cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.kill(syscall.SIGINT) })
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, line := range strings.Split(p.out.String(), "\n") {
			var v struct{ Agent uint64 }
			if strings.HasPrefix(line, `{"agent"`) && json.Unmarshal([]byte(line), &v) == nil && v.Agent != 0 {
				return p, v.Agent
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("%s exited: %v\n%s", name, err, p.out.String())
		default:
		}
	}
	t.Fatalf("%s did not say its agent id:\n%s", name, p.out.String())
	return nil, 0
}

// The agent platform end to end, with the built binaries: a devnet that
// checks its invariants after every block (supply included) and serves
// its model; two example agents as processes of their own, the oracle
// behind the node's mailbox (it answers with the devnet's model through
// the gateway) and a manager with its own host; discovery; a collective
// of the two; a paid task through the manager, routed to the oracle, its
// pay split on chain as agreed; a rating; the A2A relay; a sale that
// revokes the oracle's key; the mailbox read with the new key. The
// balances of everyone involved add up, every fee counted from the
// blocks' results.
func TestAgentsEndToEnd(t *testing.T) {
	home, c, rpc, _ := devnetWithProvider(t, "--check-invariants")
	ctx := t.Context()
	node := c.URL()
	mycel := func(args ...string) string {
		out, _ := run(t, false, append(args, "--home", home)...)
		return out
	}
	mycelJSON := func(v any, args ...string) { runJSON(t, v, append(args, "--home", home)...) }

	_, oracle := startAgent(t, "oracle", "--node", node, "--home", home, "--owner", "bob")
	_, manager := startAgent(t, "manager", "--node", node, "--home", home, "--owner", "alice", "--price", "1myc")
	o, m := strconv.FormatUint(oracle, 10), strconv.FormatUint(manager, 10)

	// Discovery finds both by their skill, with their cards' names; the
	// oracle's card (from any node) sends A2A clients to the node.
	var found struct {
		Agents []struct {
			ID   uint64 `json:"id,string"`
			Name string `json:"name"`
		} `json:"agents"`
	}
	mycelJSON(&found, "agent", "find", "--skill", "ask")
	names := map[uint64]string{}
	for _, a := range found.Agents {
		names[a.ID] = a.Name
	}
	if names[oracle] != "KJV Oracle" || names[manager] != "Crew manager" {
		t.Fatalf("discovery: %+v", found)
	}
	card := mycel("agent", "show", o, "--card")
	if !strings.Contains(card, node+"/agents/"+o+"/a2a") || !strings.Contains(card, "urn:mycel:a2a:agentmsg:v1") {
		t.Fatalf("oracle's card:\n%s", card)
	}

	// A message straight to the oracle's mailbox, answered there.
	out := mycel("agent", "send", o, "--text", "What is wisdom?", "--wait", "60s", "--from", "carol", "-o", "json")
	var sent struct {
		ID       string `json:"id"`
		Answered bool   `json:"answered"`
		State    string `json:"state"`
		Text     string `json:"text"`
		Mailbox  string `json:"mailbox"`
	}
	if err := json.Unmarshal([]byte(out), &sent); err != nil || !sent.Answered || sent.State != "completed" || sent.Text == "" || sent.Mailbox == "" {
		t.Fatalf("send to the oracle: %v\n%s", err, out)
	}

	// The collective: the manager and the oracle, 20% and 80%.
	crew := filepath.Join(t.TempDir(), "crew.json")
	if err := writeFile(crew, mycel("agent", "show", m, "--card")); err != nil {
		t.Fatal(err)
	}
	var coll struct {
		ID string `json:"id"`
	}
	mycelJSON(&coll, "collective", "create", "--manager", m, "--name", "crew", "--card", crew, "--split", m+"=2000,"+o+"=8000",
		"--from", "alice", "--fee", "1myc")
	mycel("collective", "join", coll.ID, "--agent", o, "--from", "bob", "--fee", "1myc")

	// The window whose balances are accounted for.
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h0 := st.Height + 1
	before := map[string]types.Amount{}
	for _, k := range []string{"alice", "bob", "carol"} {
		before[k] = balanceOf(t, c, k, home)
	}
	supply0, err := c.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Carol pays the manager per task through a channel to alice, its
	// owner. The manager checks the voucher, routes the task to the
	// oracle through its mailbox, answers, and pays the collective.
	var opened struct{ ID string }
	mycelJSON(&opened, "channel", "open", "--to", "alice", "--amount", "10myc", "--from", "carol", "--fee", "1myc")
	out = mycel("agent", "send", m, "--text", "Who made the heaven?", "--pay", "1myc", "--channel", opened.ID, "--from", "carol", "-o", "json")
	sent.Mailbox = ""
	if err := json.Unmarshal([]byte(out), &sent); err != nil || !sent.Answered || sent.State != "completed" || sent.Text == "" || sent.Mailbox != "" {
		t.Fatalf("paid task through the manager: %v\n%s", err, out)
	}
	t.Logf("the crew answered %q", sent.Text)
	// Unpaid, the same task is refused before any work.
	out = mycel("agent", "send", m, "--text", "free?", "--from", "carol", "-o", "json")
	if !strings.Contains(out, `"state": "rejected"`) || !strings.Contains(out, "voucher") {
		t.Fatalf("unpaid task:\n%s", out)
	}

	// The split: bob (the oracle's owner) got 80% of the task's 1myc.
	waitBalance(t, home, "bob", before["bob"]+types.MYC(1)*8/10)

	// A rating of the task, with a payment behind it.
	mycel("agent", "rate", m, "--stars", "5", "--pay", "0.1myc", "--task", sent.ID, "--from", "carol", "--fee", "1myc")
	var shown struct {
		Rep struct {
			Count uint64 `json:"count"`
		} `json:"rep"`
	}
	mycelJSON(&shown, "agent", "show", m)
	if shown.Rep.Count != 1 {
		t.Fatalf("rating count %d", shown.Rep.Count)
	}

	// An A2A 1.0 client reaches the oracle through the node's relay.
	body := `{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"e2e","role":"ROLE_USER","parts":[{"text":"And God said"}]}}}`
	resp, err := http.Post(node+"/agents/"+o+"/a2a", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(rb), "TASK_STATE_COMPLETED") {
		t.Fatalf("A2A through the relay: %s", rb)
	}

	// The sale: bob sells the oracle to carol in one transaction; its
	// signing key is revoked at once.
	mycel("market", "sell", o, "--price", "50myc", "--from", "bob", "--fee", "1myc")
	mycel("market", "buy", o, "--from", "carol", "--fee", "1myc")
	if _, stderr := run(t, true, "agent", "inbox", "--agent", o, "--from", "bob-oracle", "--home", home); !strings.Contains(stderr, "another key") {
		t.Fatalf("the old key reads the mailbox: %s", stderr)
	}

	// The manager's watcher redeems the voucher: the channel paid 1myc.
	ch := waitPaid(t, c, mustUint(t, opened.ID), types.MYC(1))
	st, err = c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h1 := st.Height
	after := map[string]types.Amount{}
	for _, k := range []string{"alice", "bob", "carol"} {
		after[k] = balanceOf(t, c, k, home)
	}
	supply1, err := c.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var fees types.Amount
	addrs := map[string]types.Address{}
	for _, k := range []string{"alice", "bob", "carol"} {
		var key struct{ Address types.Address }
		mycelJSON(&key, "keys", "show", k)
		addrs[k] = key.Address
		fees += flows(t, rpc, key.Address, h0, h1).fees
	}
	// Everything that left the three accounts went to fees, the
	// channel's escrow (its deposit less what it paid) or was burned (a
	// tenth of the rating); nothing else came in.
	in := int64(after["alice"]+after["bob"]+after["carol"]) - int64(before["alice"]+before["bob"]+before["carol"])
	escrow := int64(ch.Deposit - ch.Paid)
	burned := int64(supply1.Burned - supply0.Burned)
	if in+int64(fees)+escrow+burned != 0 {
		t.Fatalf("balances do not add up: accounts %+d, fees %d, escrow %d, burned %d (before %v, after %v)", in, fees, escrow, burned, before, after)
	}
	// Bob's exact flows: 80% of the task, the sale, two fees (join was
	// before the window; sell is in it).
	if got, want := after["bob"], before["bob"]+types.MYC(1)*8/10+types.MYC(50)-types.MYC(1); got != want {
		t.Fatalf("bob: %s, want %s", got, want)
	}

	// Carol, the oracle's owner now, gives it a signing key of hers and
	// runs it: at start it registers a card with the encryption key of
	// the new signing key, and answers again.
	const keyName = "carol-oracle"
	mycel("keys", "add", keyName)
	mycel("agent", "set-key", o, "--signing-key", keyName, "--from", "carol", "--fee", "1myc")
	again, id := startAgent(t, "oracle", "--node", node, "--home", home, "--owner", "carol", "--signing-key", keyName, "--id", o)
	if id != oracle {
		t.Fatalf("the oracle came back as agent %d", id)
	}
	out = mycel("agent", "send", o, "--text", "Who is the owner?", "--wait", "60s", "--from", "alice", "-o", "json")
	sent = struct {
		ID       string `json:"id"`
		Answered bool   `json:"answered"`
		State    string `json:"state"`
		Text     string `json:"text"`
		Mailbox  string `json:"mailbox"`
	}{}
	if err := json.Unmarshal([]byte(out), &sent); err != nil || sent.State != "completed" {
		t.Fatalf("the oracle under its new owner: %v\n%s", err, out)
	}
	// With the oracle stopped, a message waits in its mailbox; carol
	// reads it with the agent's key, verified, and acknowledges it.
	again.kill(syscall.SIGINT)
	mycel("agent", "send", o, "--text", "under new ownership", "--from", "alice")
	var inbox []struct {
		Verified bool   `json:"verified"`
		Problem  string `json:"problem"`
		Text     string `json:"text"`
		Sender   string `json:"sender"`
	}
	mycelJSON(&inbox, "agent", "inbox", "--agent", o, "--wait", "5s", "--ack", "--from", keyName)
	if len(inbox) != 1 || !inbox[0].Verified || inbox[0].Text != "under new ownership" || inbox[0].Sender != addrs["alice"].String() {
		t.Fatalf("inbox: %+v", inbox)
	}
	inbox = nil
	mycelJSON(&inbox, "agent", "inbox", "--agent", o, "--from", keyName)
	if len(inbox) != 0 {
		t.Fatalf("acknowledged messages still there: %+v", inbox)
	}
	// The chain checked its invariants after every block and is still
	// making them.
	waitHeight(t, c, h1+3, 30*time.Second)
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitBalance waits until a key's balance is want.
func waitBalance(t *testing.T, home, name string, want types.Amount) {
	t.Helper()
	var got types.Amount
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var b struct{ Balance types.Amount }
		runJSON(t, &b, "query", "balance", name, "--home", home)
		if got = b.Balance; got == want {
			return
		}
	}
	t.Fatalf("%s's balance is %s, want %s", name, got, want)
}
