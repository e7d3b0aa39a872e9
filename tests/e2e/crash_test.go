package e2e

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/types"
)

// kill -9 the validator twenty times under a stream of transfers: each
// time it restarts at its last commit or replays blocks from CometBFT's
// store, and in the end its app hash at every height matches that of a
// full node that was never killed.
func TestKillNineUnderLoad(t *testing.T) {
	homes, clients := testnet(t, 1, 1, "100ms")
	val := start(t, "node", "start", "--home", homes[0])
	full := start(t, "node", "start", "--home", homes[1])
	_ = full
	waitHeight(t, clients[0], 2, 60*time.Second)
	waitHeight(t, clients[1], 2, 60*time.Second)

	key, err := keyring.Open(filepath.Join(homes[0], "keyring")).Get("node0")
	if err != nil {
		t.Fatal(err)
	}
	// The stream goes through the full node, which keeps accepting
	// transactions while the validator is down and gossips them to it.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	sent := 0
	go func() {
		defer wg.Done()
		to := types.ModuleAddress("e2e-sink")
		for ctx.Err() == nil {
			msg := tx.Msg{Kind: bank.KindSend, Body: bank.MsgSend{To: to, Amount: 1}.Encode()}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if _, err := clients[1].Broadcast(cctx, key.Private, []tx.Msg{msg}, client.TxOptions{}); err == nil {
				sent++
			}
			cancel()
			time.Sleep(20 * time.Millisecond)
		}
	}()

	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 20; i++ {
		time.Sleep(time.Duration(200+rng.IntN(1000)) * time.Millisecond)
		val.kill(syscall.SIGKILL)
		val = start(t, "node", "start", "--home", homes[0])
		waitHeight(t, clients[0], 1, 60*time.Second)
	}
	stop()
	wg.Wait()

	// Let both settle at a common height, then compare every height's app
	// hash as each node's own application computed it.
	st, err := clients[0].Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	top := st.Height
	waitHeight(t, clients[1], top, 60*time.Second)
	for h := int64(1); h <= top; h++ {
		a, err := clients[0].Block(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		b, err := clients[1].Block(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		if a.ResultAppHash == nil || b.ResultAppHash == nil {
			t.Fatalf("height %d: no app hash recorded (validator %v, full node %v)", h, a.ResultAppHash, b.ResultAppHash)
		}
		if *a.ResultAppHash != *b.ResultAppHash {
			t.Fatalf("height %d: the killed validator computed %s, the full node %s", h, a.ResultAppHash, b.ResultAppHash)
		}
	}
	acc, err := clients[1].Account(context.Background(), key.Address, false)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Sequence < 20 {
		t.Fatalf("only %d transfers committed (%d accepted) under the kills", acc.Sequence, sent)
	}
	t.Logf("%d heights agree after 20 kills; %d transfers committed", top, acc.Sequence)
}
