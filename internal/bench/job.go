package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	examples "github.com/mycelnet/mycel/examples/wasm"
	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// JobOptions size the job latency benchmark.
type JobOptions struct {
	Runs      int           `json:"runs"`
	BlockTime time.Duration `json:"block_time_ns"`
	Progress  io.Writer     `json:"-"`
}

// JobRun is one job's latency.
type JobRun struct {
	Blocks  int64   `json:"blocks"`
	Seconds float64 `json:"seconds"`
}

// JobResult is the benchmark's outcome. The baseline is the same job run
// on this machine's executor without the network; Ratio is that time
// over the network's median latency (higher is better).
type JobResult struct {
	Runs          []JobRun   `json:"runs"`
	MedianSeconds float64    `json:"median_seconds"`
	MedianBlocks  int64      `json:"median_blocks"`
	LocalSeconds  float64    `json:"local_seconds"`
	Ratio         float64    `json:"ratio"`
	Options       JobOptions `json:"options"`
	Settings      string     `json:"settings"`
}

// JobLatency starts a devnet with its built-in provider on this machine
// and measures how long a small WebAssembly job (the wordfreq example on
// a short text) takes from submission to a settled result, in blocks and
// seconds.
func JobLatency(ctx context.Context, o JobOptions) (JobResult, error) {
	if o.Runs <= 0 {
		o.Runs = 5
	}
	if o.BlockTime <= 0 {
		o.BlockTime = time.Second
	}
	res := JobResult{Options: o, Settings: fmt.Sprintf(
		"one-validator devnet in process, timeout_commit %s, its built-in provider; the wordfreq example on 2 KB of text; submit, assign, acknowledge, commit, reveal, attest, settle", o.BlockTime)}
	home, err := os.MkdirTemp("", "mycel-bench-job-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(home)
	net, err := devnet.Start(ctx, devnet.Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: o.BlockTime, Logger: quiet(), Provider: true})
	if err != nil {
		return res, err
	}
	defer net.Stop()
	c := client.New(net.Nodes[0].APIURL())
	alice, err := keyring.Open(node.KeyringDir(home)).Get("alice")
	if err != nil {
		return res, err
	}
	// Wait for the built-in provider to register.
	for {
		if p, err := c.Provider(ctx, net.Provider); err == nil && p.Available {
			break
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	program := examples.WordFreq()
	var input []byte
	for len(input) < 2000 {
		input = append(input, "the quick brown fox jumps over the lazy dog and the cat "...)
	}
	prog, err := c.PutBlob(ctx, program, alice.Private)
	if err != nil {
		return res, err
	}
	in, err := c.PutBlob(ctx, input, alice.Private)
	if err != nil {
		return res, err
	}
	for i := 0; i < o.Runs; i++ {
		say(o.Progress, "job: run %d of %d ...", i+1, o.Runs)
		m := compute.MsgSubmitJob{Kind: compute.KindWasm, Program: prog.SHA256, Input: in.SHA256, MaxPrice: 100_000, GasLimit: 1e9, Redundancy: 1}
		start := time.Now()
		sub, err := c.Broadcast(ctx, alice.Private, []tx.Msg{{Kind: compute.KindSubmitJob, Body: m.Encode()}}, client.TxOptions{})
		if err != nil {
			return res, err
		}
		r, err := c.WaitTx(ctx, sub.Hash)
		if err != nil {
			return res, err
		}
		idStr, _ := client.Event(r, "job_submitted", "id")
		id, _ := strconv.ParseUint(idStr, 10, 64)
		for {
			j, err := c.Job(ctx, id)
			if err != nil {
				return res, err
			}
			if j.State.Finished() {
				if j.State != compute.Succeeded {
					return res, fmt.Errorf("job %d %s: %s", id, j.State, j.Reason)
				}
				res.Runs = append(res.Runs, JobRun{Blocks: j.Finished - r.Height, Seconds: time.Since(start).Seconds()})
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	secs := make([]float64, len(res.Runs))
	blocks := make([]int64, len(res.Runs))
	for i, r := range res.Runs {
		secs[i], blocks[i] = r.Seconds, r.Blocks
	}
	sort.Float64s(secs)
	sort.Slice(blocks, func(i, j int) bool { return blocks[i] < blocks[j] })
	res.MedianSeconds, res.MedianBlocks = secs[len(secs)/2], blocks[len(blocks)/2]

	// The baseline: the same job on this machine's executor, compiled.
	ex, err := wasm.New(ctx, wasm.Options{})
	if err != nil {
		return res, err
	}
	defer ex.Close(context.Background())
	lim := wasm.Limits{Gas: 1e9, MemoryPages: 4096, MaxOutputBytes: 1 << 20, Timeout: time.Minute}
	if _, err := ex.Run(ctx, program, input, lim); err != nil {
		return res, err
	}
	start := time.Now()
	if _, err := ex.Run(ctx, program, input, lim); err != nil {
		return res, err
	}
	res.LocalSeconds = time.Since(start).Seconds()
	if res.MedianSeconds > 0 {
		res.Ratio = res.LocalSeconds / res.MedianSeconds
	}
	return res, nil
}
