package devnet

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestSingleValidatorTransfer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	net, err := Start(ctx, Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: 100 * time.Millisecond, Logger: quiet(), CheckInvariants: true})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Stop()
	if err := net.WaitHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}
	kr := keyring.Open(node.KeyringDir(home))
	alice, err := kr.Get("alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := kr.Get("bob")
	c := client.New(net.Nodes[0].APIURL())
	res, err := c.Broadcast(ctx, alice.Private, []tx.Msg{{Kind: bank.KindSend, Body: bank.MsgSend{To: bob.Address, Amount: types.MYC(3)}.Encode()}}, client.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.WaitTx(ctx, res.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("transfer failed: %s", r.Log)
	}
	acc, err := c.Account(ctx, bob.Address, true)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Balance != types.MYC(1_000_003) {
		t.Fatalf("bob has %s", acc.Balance)
	}

	// The balance's proof verifies against the app hash that the header of
	// the next block carries, as CometBFT stored it.
	if err := net.WaitHeight(ctx, acc.Height+1); err != nil {
		t.Fatal(err)
	}
	header := net.Nodes[0].Comet().BlockStore().LoadBlockMeta(acc.Height + 1).Header
	var appHash types.Hash
	copy(appHash[:], header.AppHash)
	if err := acc.VerifyProofs(appHash); err != nil {
		t.Fatalf("proof against header %d: %v", acc.Height+1, err)
	}
	// A proof does not verify against another height's header.
	other := net.Nodes[0].Comet().BlockStore().LoadBlockMeta(acc.Height).Header
	copy(appHash[:], other.AppHash)
	if err := acc.VerifyProofs(appHash); err == nil {
		t.Fatal("the proof verified against the previous header too")
	}
	// Tampering with the shown balance is caught.
	acc.Balance++
	copy(appHash[:], header.AppHash)
	if err := acc.VerifyProofs(appHash); err == nil {
		t.Fatal("a balance other than the proven one passed")
	}
}

// Several validators in one process reach the same state.
func TestThreeValidatorsInProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	net, err := Start(ctx, Options{Home: t.TempDir(), Validators: 3, BlockTime: 100 * time.Millisecond, Logger: quiet(), CheckInvariants: true})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Stop()
	if err := net.WaitHeight(ctx, 5); err != nil {
		t.Fatal(err)
	}
	for h := int64(1); h <= 5; h++ {
		want, _ := net.Nodes[0].App().AppHashAt(h)
		for i, n := range net.Nodes[1:] {
			if got, _ := n.App().AppHashAt(h); got != want {
				t.Fatalf("height %d: node %d has app hash %s, node 0 %s", h, i+1, got, want)
			}
		}
	}
}
