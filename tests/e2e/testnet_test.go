package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mycelnet/mycel/types"
)

// Four validators on loopback: blocks advance, a transfer sent through
// node 1 is visible on node 3, the chain goes on with one validator
// stopped, and the stopped one catches up when restarted.
func TestFourValidators(t *testing.T) {
	homes, clients := testnet(t, 4, 0, "200ms")
	procs := make([]*proc, 4)
	for i, h := range homes {
		procs[i] = start(t, "node", "start", "--home", h)
	}
	for _, c := range clients {
		waitHeight(t, c, 3, 60*time.Second)
	}

	// A transfer signed by node1's key, sent through node 1, shows on
	// node 3 (to a new key made in node 3's keyring).
	var k struct{ Address types.Address }
	runJSON(t, &k, "keys", "add", "dave", "--home", homes[3])
	run(t, false, "--home", homes[1], "tx", "send", k.Address.String(), "7myc", "--from", "node1")
	var bal struct{ Balance types.Amount }
	runJSON(t, &bal, "query", "balance", "dave", "--home", homes[3])
	if bal.Balance != types.MYC(7) {
		t.Fatalf("node 3 shows %s for dave, want the 7myc sent through node 1", bal.Balance)
	}
	// An explicit --node wins over the home's address.
	out, _ := run(t, false, "status", "--home", homes[3], "--node", clients[2].URL())
	if !strings.Contains(out, clients[2].URL()) {
		t.Fatalf("status with --node %s went elsewhere:\n%s", clients[2].URL(), out)
	}

	// Stop validator 2 cleanly: the other three (3/4 of the power) go on.
	if err := procs[2].kill(syscall.SIGINT); err != nil {
		t.Fatalf("node 2 did not stop cleanly: %v\n%s", err, procs[2].out.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	s, err := clients[0].Status(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(t, clients[0], s.Height+5, 60*time.Second)

	// Restarted, it catches up.
	procs[2] = start(t, "node", "start", "--home", homes[2])
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	s, err = clients[0].Status(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(t, clients[2], s.Height, 60*time.Second)
	runJSON(t, &bal, "query", "balance", k.Address.String(), "--home", homes[2])
	if bal.Balance != types.MYC(7) {
		t.Fatalf("restarted node 2 shows %s", bal.Balance)
	}
	for _, p := range procs {
		if err := p.kill(syscall.SIGINT); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}

// A full node's operator bonds validator stake: the node's consensus key
// is bound to the account and the node gets voting power.
func TestFullNodeBecomesValidator(t *testing.T) {
	homes, clients := testnet(t, 1, 1, "100ms")
	start(t, "node", "start", "--home", homes[0])
	start(t, "node", "start", "--home", homes[1])
	waitHeight(t, clients[1], 2, 60*time.Second)

	var op struct{ Address types.Address }
	runJSON(t, &op, "keys", "add", "op", "--home", homes[1])
	// Sent through the full node, so that it has the block when the
	// command returns.
	run(t, false, "--home", homes[0], "--node", clients[1].URL(), "tx", "send", op.Address.String(), "200myc", "--from", "node0")
	run(t, false, "--home", homes[1], "stake", "bond", "150myc", "--purpose", "validator", "--from", "op")

	// The update takes effect two blocks later.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct {
			Validator struct{ Power int64 }
		}
		runJSON(t, &st, "status", "--home", homes[1])
		if st.Validator.Power == 150 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new validator's power is %d, want 150", st.Validator.Power)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, _ := run(t, false, "query", "validators", "--home", homes[0])
	if !strings.Contains(out, op.Address.String()) {
		t.Fatalf("validator set lacks the new operator:\n%s", out)
	}
	// Its consensus key is now bound: bonding again adds to the bond.
	run(t, false, "--home", homes[1], "stake", "bond", "10myc", "--purpose", "validator", "--from", "op")
}
