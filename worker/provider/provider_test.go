package provider_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	examples "github.com/mycelnet/mycel/examples/wasm"
	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
	"github.com/mycelnet/mycel/worker/provider"
	"github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// counting runs the real executor and counts the runs; after the first
// it calls stop, to take the provider down at a chosen point.
type counting struct {
	ex   provider.Executor
	runs atomic.Int32
	stop func()
}

func (c *counting) Run(ctx context.Context, program, input []byte, lim provider.Limits) (provider.Outcome, error) {
	out, err := c.ex.Run(ctx, program, input, lim)
	if c.runs.Add(1) == 1 && c.stop != nil {
		c.stop()
	}
	return out, err
}

func TestProviderResumesWithoutRunningTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	home := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	net, err := devnet.Start(ctx, devnet.Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Stop()
	kr := keyring.Open(node.KeyringDir(home))
	alice, _ := kr.Get("alice")
	pk, _ := kr.Get(devnet.ProviderKey)
	c := client.New(net.Nodes[0].APIURL())
	ex, err := wasm.New(ctx, wasm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close(context.Background())

	first, stopFirst := context.WithCancel(ctx)
	exec := &counting{ex: provider.WasmExecutor{E: ex}, stop: stopFirst}
	cfg := provider.Config{Client: c, Key: pk.Private, Price: 1, Slots: 1, Poll: time.Second, Grace: time.Second,
		Profile:   compute.Profile{CPUModel: "test", Cores: 2, MemoryMB: 2048, Score: 100},
		Executors: map[compute.Kind]provider.Executor{compute.KindWasm: exec},
		StateFile: filepath.Join(t.TempDir(), "state.json"), Logger: quiet}
	p, err := provider.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(first) }()

	input := []byte("b a b")
	prog, err := c.PutBlob(ctx, examples.WordFreq(), alice.Private)
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.PutBlob(ctx, input, alice.Private)
	if err != nil {
		t.Fatal(err)
	}
	// The provider registers before it takes work.
	for {
		if info, err := c.Provider(ctx, p.Address()); err == nil && info.Available {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	m := compute.MsgSubmitJob{Kind: compute.KindWasm, Program: prog.SHA256, Input: in.SHA256, MaxPrice: types.MYC(1), GasLimit: 1e9, Redundancy: 1}
	sub, err := c.Broadcast(ctx, alice.Private, []tx.Msg{{Kind: compute.KindSubmitJob, Body: m.Encode()}}, client.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.WaitTx(ctx, sub.Hash)
	if err != nil {
		t.Fatal(err)
	}
	idStr, _ := client.Event(r, "job_submitted", "id")
	id, _ := strconv.ParseUint(idStr, 10, 64)

	// The first run is stopped as soon as the job has run: shutdown lets
	// the job upload its output and send its commit, then stops before the
	// reveal.
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if j, _ := c.Job(ctx, id); j.State != compute.Assigned && j.State != compute.Committed {
		t.Fatalf("after the stop the job is %s", j.State)
	}
	// Started again from the same state file, it commits and reveals what
	// it saved, without running the job again.
	exec.stop = nil
	p2, err := provider.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	second, stopSecond := context.WithCancel(ctx)
	defer stopSecond()
	go func() { done <- p2.Run(second) }()
	var j *compute.Job
	for {
		if j, err = c.Job(ctx, id); err != nil {
			t.Fatal(err)
		}
		if j.State.Finished() {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job stuck in %s", j.State)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if j.State != compute.Succeeded {
		t.Fatalf("job %s: %s", j.State, j.Reason)
	}
	if n := exec.runs.Load(); n != 1 {
		t.Fatalf("the job ran %d times", n)
	}
	out, err := c.GetBlob(ctx, j.Output)
	if err != nil || string(out) != "2 b\n1 a\n" {
		t.Fatalf("output %q, %v", out, err)
	}
	stopSecond()
	<-done
}
