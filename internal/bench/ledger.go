// Package bench holds mycel's benchmarks: each measures a figure and, in
// the same run and under the same settings, the baseline it is compared
// with. `mycel bench NAME` and the Go benchmarks both call them.
package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

// LedgerOptions size the ledger benchmark.
type LedgerOptions struct {
	// Txs is the number of transactions each side commits.
	Txs int `json:"txs"`
	// Accounts is the number of senders, each submitting its own
	// transactions in sequence order, all of them at once.
	Accounts int
	// BlockTime is CometBFT's timeout_commit for both sides.
	BlockTime time.Duration `json:"timeout_commit_ns"`
	// Dir holds the nodes' homes; empty for a temporary directory.
	Dir string `json:"-"`
	// Progress, if set, receives a line per phase.
	Progress io.Writer `json:"-"`
	// Path is how transactions reach the node: "rpc" posts each to
	// CometBFT's RPC (broadcast_tx_sync over HTTP on loopback), as a
	// client would; "local" calls the same endpoint in process, which
	// leaves out the HTTP cost and so measures what the node itself can
	// absorb.
	Path string `json:"path"`
}

// Rate is one side's measurement.
type Rate struct {
	Txs       int     `json:"txs"`
	Blocks    int     `json:"blocks"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"tx_per_second"`
}

// LedgerResult is the benchmark's outcome. Ratio is mycel's rate over
// kvstore's: higher is better.
type LedgerResult struct {
	Mycel    Rate          `json:"mycel"`
	KVStore  Rate          `json:"kvstore"`
	Ratio    float64       `json:"ratio"`
	Options  LedgerOptions `json:"options"`
	Settings string        `json:"settings"`
}

// tune applies the consensus settings both sides run under.
func tune(conf *cmtcfg.Config, o LedgerOptions, rpcPort int) {
	conf.Consensus.TimeoutCommit = o.BlockTime
	conf.Mempool.Size = o.Txs + 1000
	conf.Mempool.MaxTxsBytes = 1 << 30
	conf.Mempool.CacheSize = 2 * o.Txs
	conf.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)
	conf.RPC.MaxOpenConnections = 0
	conf.P2P.ListenAddress = "tcp://127.0.0.1:0"
	conf.TxIndex.Indexer = "kv"
}

func (o *LedgerOptions) defaults() {
	if o.Txs <= 0 {
		o.Txs = 20000
	}
	if o.Accounts <= 0 {
		o.Accounts = 200
	}
	if o.Accounts > o.Txs {
		o.Accounts = o.Txs
	}
	if o.BlockTime <= 0 {
		o.BlockTime = 100 * time.Millisecond
	}
	if o.Path == "" {
		o.Path = "rpc"
	}
}

func (o LedgerOptions) say(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// Ledger measures signed transfers committed per second through a whole
// mycel node (CheckTx with signature checks, FinalizeBlock, Commit to
// Pebble with the Merkle tree), then CometBFT's kvstore example
// application (persistent, on Pebble) under the same consensus settings
// and submission path, and reports both.
func Ledger(ctx context.Context, o LedgerOptions) (LedgerResult, error) {
	o.defaults()
	how := "CometBFT's RPC broadcast_tx_sync over HTTP"
	if o.Path == "local" {
		how = "broadcast_tx_sync in process (no HTTP)"
	} else if o.Path != "rpc" {
		return LedgerResult{}, fmt.Errorf("path %q: use rpc or local", o.Path)
	}
	res := LedgerResult{Options: o, Settings: fmt.Sprintf(
		"one validator on loopback, timeout_commit %s, kv tx indexer on, %d senders at once, each in sequence order, through %s",
		o.BlockTime, o.Accounts, how)}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "mycel-bench-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	var err error
	o.say("mycel: %d signed transfers from %d accounts ...", o.Txs, o.Accounts)
	if res.Mycel, err = benchMycel(ctx, filepath.Join(dir, "mycel"), o); err != nil {
		return res, fmt.Errorf("mycel: %w", err)
	}
	o.say("mycel: %.0f tx/s", res.Mycel.PerSecond)
	o.say("kvstore: %d transactions from %d senders ...", o.Txs, o.Accounts)
	if res.KVStore, err = benchKVStore(ctx, filepath.Join(dir, "kvstore"), o); err != nil {
		return res, fmt.Errorf("kvstore: %w", err)
	}
	o.say("kvstore: %.0f tx/s", res.KVStore.PerSecond)
	if res.KVStore.PerSecond > 0 {
		res.Ratio = res.Mycel.PerSecond / res.KVStore.PerSecond
	}
	return res, nil
}

func benchKey(i int) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("mycel-bench-" + strconv.Itoa(i)))
	return ed25519.NewKeyFromSeed(s[:])
}

func layout(home string, o LedgerOptions, balances []app.GenesisAccount) error {
	ports := [3]int{} // filled by the kernel: the config asks for port 0
	return node.InitNetwork(node.NetworkSpec{
		ChainID: "mycel-bench", OperatorBalance: types.MYC(1000), OperatorBond: types.MYC(100), BlockTime: o.BlockTime,
		UnbondingBlocks: 100, Balances: balances, Accounts: []node.Account{},
		Nodes: []node.NodeSpec{{Home: home, Moniker: "bench", Host: "127.0.0.1", P2PPort: ports[0], RPCPort: ports[1], APIPort: ports[2], Validator: true}},
	})
}

// signTransfers signs, ahead of time, each account's transfers in
// sequence order.
func signTransfers(o LedgerOptions, chainID string, fee types.Amount) [][][]byte {
	per := o.Txs / o.Accounts
	out := make([][][]byte, o.Accounts)
	var wg sync.WaitGroup
	for a := 0; a < o.Accounts; a++ {
		wg.Add(1)
		go func(a int) {
			defer wg.Done()
			k := benchKey(a)
			to := types.AddressFromPubKey(benchKey((a + 1) % o.Accounts).Public().(ed25519.PublicKey))
			n := per
			if a < o.Txs%o.Accounts {
				n++
			}
			for s := 0; s < n; s++ {
				t := &tx.Tx{ChainID: chainID, Sequence: uint64(s), Fee: fee,
					Msgs: []tx.Msg{{Kind: bank.KindSend, Body: bank.MsgSend{To: to, Amount: 1}.Encode()}}}
				t.Sign(k)
				out[a] = append(out[a], t.Encode())
			}
		}(a)
	}
	wg.Wait()
	return out
}

type submitter func(ctx context.Context, raw []byte) error

// committedBlocks reports each block's transaction count once the
// application has committed it (CometBFT publishes NewBlockEvents after
// Commit).
func committedBlocks(ctx context.Context, cmt *cmtnode.Node) (<-chan cmttypes.EventDataNewBlockEvents, error) {
	sub, err := cmt.EventBus().Subscribe(ctx, "bench", cmttypes.EventQueryNewBlockEvents, 10000)
	if err != nil {
		return nil, err
	}
	out := make(chan cmttypes.EventDataNewBlockEvents, 10000)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-sub.Out():
				if ev, ok := m.Data().(cmttypes.EventDataNewBlockEvents); ok {
					out <- ev
				}
			}
		}
	}()
	return out, nil
}

// drive submits every sender's transactions concurrently (each sender in
// order) and returns when all are committed, with the time from the first
// submission to the commit of the last.
func drive(ctx context.Context, batches [][][]byte, submit submitter, cmt *cmtnode.Node) (Rate, error) {
	total := 0
	for _, b := range batches {
		total += len(b)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := committedBlocks(ctx, cmt)
	if err != nil {
		return Rate{}, err
	}
	start := time.Now()
	errc := make(chan error, len(batches))
	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Add(1)
		go func(txs [][]byte) {
			defer wg.Done()
			for _, raw := range txs {
				if err := submit(ctx, raw); err != nil {
					errc <- err
					return
				}
			}
		}(b)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	committed, nblocks := 0, 0
	var end time.Time
	timeout := time.After(10 * time.Minute)
	for committed < total {
		select {
		case err := <-errc:
			return Rate{}, err
		case <-ctx.Done():
			return Rate{}, ctx.Err()
		case <-timeout:
			return Rate{}, fmt.Errorf("only %d of %d transactions committed after 10 minutes", committed, total)
		case b := <-blocks:
			n := int(b.NumTxs)
			for _, e := range b.Events {
				if e.Type == "vote_extensions" {
					n-- // mycel's pseudo-transaction carrying the vote extensions
				}
			}
			if n > 0 {
				committed += n
				nblocks++
				end = time.Now()
			}
		}
	}
	<-done
	secs := end.Sub(start).Seconds()
	return Rate{Txs: committed, Blocks: nblocks, Seconds: secs, PerSecond: float64(committed) / secs}, nil
}

// retrying submits, waiting while the mempool is full.
func retrying(f func(ctx context.Context, raw []byte) (uint32, string, error)) submitter {
	return func(ctx context.Context, raw []byte) error {
		for {
			code, log, err := f(ctx, raw)
			if err == nil && code == 0 {
				return nil
			}
			if err == nil {
				return fmt.Errorf("transaction refused: code %d: %s", code, log)
			}
			if !isFull(err) {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// submitVia returns the submission path of o: CometBFT's RPC over HTTP,
// or the same call in process.
func submitVia(o LedgerOptions, rpcPort int, local *rpclocal.Local) submitter {
	if o.Path == "local" {
		return retrying(func(ctx context.Context, raw []byte) (uint32, string, error) {
			res, err := local.BroadcastTxSync(ctx, raw)
			if err != nil {
				return 0, "", err
			}
			return res.Code, res.Log, nil
		})
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Accounts, MaxIdleConns: o.Accounts}}
	url := fmt.Sprintf("http://127.0.0.1:%d", rpcPort)
	return retrying(func(ctx context.Context, raw []byte) (uint32, string, error) {
		body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_sync","params":{"tx":%q}}`, base64.StdEncoding.EncodeToString(raw))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var out struct {
			Result *struct {
				Code uint32 `json:"code"`
				Log  string `json:"log"`
			} `json:"result"`
			Error *struct {
				Message string `json:"message"`
				Data    string `json:"data"`
			} `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return 0, "", err
		}
		if out.Error != nil {
			return 0, "", errors.New(out.Error.Message + ": " + out.Error.Data)
		}
		if out.Result == nil {
			return 0, "", fmt.Errorf("empty RPC response")
		}
		return out.Result.Code, out.Result.Log, nil
	})
}

func isFull(err error) bool {
	s := err.Error()
	return strings.Contains(s, "mempool is full") || strings.Contains(s, "considered as full")
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func benchMycel(ctx context.Context, home string, o LedgerOptions) (Rate, error) {
	var balances []app.GenesisAccount
	for i := 0; i < o.Accounts; i++ {
		balances = append(balances, app.GenesisAccount{Address: types.AddressFromPubKey(benchKey(i).Public().(ed25519.PublicKey)), Amount: types.MYC(1_000_000)})
	}
	if err := layout(home, o, balances); err != nil {
		return Rate{}, err
	}
	ports, err := devnet.FreePorts(1)
	if err != nil {
		return Rate{}, err
	}
	rpcPort := ports[0]
	n, err := node.Start(ctx, home, node.Options{Logger: quiet(), APIListen: "127.0.0.1:0", Tune: func(c *cmtcfg.Config) { tune(c, o, rpcPort) }})
	if err != nil {
		return Rate{}, err
	}
	defer n.Stop()
	// One fee for all: the transfers all have the same size.
	p := n.App().Params()
	sample := signTransfers(LedgerOptions{Txs: 1, Accounts: 1}, n.ChainID(), types.MYC(1))[0][0]
	fee, err := p.Auth.RequiredFee([]uint16{bank.KindSend}, len(sample)+2)
	if err != nil {
		return Rate{}, err
	}
	batches := signTransfers(o, n.ChainID(), fee)
	for n.Height() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	r, err := drive(ctx, batches, submitVia(o, rpcPort, rpclocal.New(n.Comet())), n.Comet())
	if err != nil {
		return r, err
	}
	// Every transfer must have happened: each sender's sequence moved
	// past all of its transactions.
	for i, b := range batches {
		a := types.AddressFromPubKey(benchKey(i).Public().(ed25519.PublicKey))
		acc, err := n.App().Account(a, false)
		if err != nil {
			return r, err
		}
		if acc.Sequence != uint64(len(b)) {
			return r, fmt.Errorf("sender %d has sequence %d after %d transfers: some failed", i, acc.Sequence, len(b))
		}
	}
	return r, nil
}

func benchKVStore(ctx context.Context, home string, o LedgerOptions) (Rate, error) {
	if err := layout(home, o, nil); err != nil {
		return Rate{}, err
	}
	conf, err := node.CometConfig(home)
	if err != nil {
		return Rate{}, err
	}
	ports, err := devnet.FreePorts(1)
	if err != nil {
		return Rate{}, err
	}
	rpcPort := ports[0]
	tune(conf, o, rpcPort)
	kv := kvstore.NewPersistentApplication(filepath.Join(home, "data", "kvstore"))
	cmt, err := node.NewComet(ctx, conf, kv, false, cmtlog.NewNopLogger())
	if err != nil {
		return Rate{}, err
	}
	defer cmt.Shutdown()
	rpc := rpclocal.New(cmt.Node)
	batches := make([][][]byte, o.Accounts)
	for i := 0; i < o.Txs; i++ {
		a := i % o.Accounts
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], uint64(i))
		batches[a] = append(batches[a], []byte(fmt.Sprintf("k%x=v%d", k, i)))
	}
	for cmt.BlockStore().Height() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	return drive(ctx, batches, submitVia(o, rpcPort, rpc), cmt.Node)
}
