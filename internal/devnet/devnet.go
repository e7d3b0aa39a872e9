// Package devnet starts whole mycel networks in one process: the single
// validator of `mycel devnet`, and networks of N validators on free
// loopback ports with temporary homes for tests. The nodes are real: each
// runs CometBFT with the mycel application, its HTTP API and its blob
// store, and they talk to each other over TCP.
package devnet

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/client"
	examples "github.com/mycelnet/mycel/examples/wasm"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/types"
	"github.com/mycelnet/mycel/worker/provider"
	rtexec "github.com/mycelnet/mycel/worker/provider/executor/runtime"
	"github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// DevAccounts are the funded keys of a devnet.
var DevAccounts = []string{"alice", "bob", "carol"}

// Options describe a network.
type Options struct {
	// Home is the node's home for one validator, or the parent of
	// node0, node1, ... for several.
	Home       string
	ChainID    string
	Validators int
	// Addresses of a single node (host:port); empty picks the defaults
	// for one node and free ports for several.
	APIAddr, RPCAddr, P2PAddr string
	BlockTime                 time.Duration
	// Reset wipes Home first.
	Reset bool
	// Accounts are funded keys in the first node's keyring; nil means
	// alice, bob and carol with 1,000,000 MYC each.
	Accounts        []node.Account
	UnbondingBlocks int64
	Logger          *slog.Logger
	CometMetrics    bool
	CometInfoLogs   bool
	CheckInvariants bool
	// Provider runs a compute provider worker (key "provider") against the
	// first node's API, as a separate worker would.
	Provider bool
	// ProviderPrice is its price per compute unit (default 1umyc).
	ProviderPrice types.Amount
	// ProviderPricePerToken, if not zero, makes the built-in provider's
	// model paid (umyc per generated token, with payment channel
	// vouchers); its payee wallet is in Home/paywallet. It redeems when a
	// payer settles, and once a lane has grown by ProviderRedeemAbove if
	// that is set.
	ProviderPricePerToken types.Amount
	ProviderRedeemAbove   types.Amount

	// ChannelSettleBlocks is the payment channels' challenge period
	// (default 20 blocks: a development chain's, not a network's).
	ChannelSettleBlocks int64
}

// Network is a running network.
type Network struct {
	Nodes []*node.Node
	Homes []string
	// Created says whether the network was laid out by this Start
	// (rather than resumed from an existing home).
	Created bool
	// Provider is the built-in provider's account, when it runs.
	Provider types.Address
	// Model is the model the built-in provider serves (models.KJV), on
	// Engine.
	Model  inference.ModelInfo
	Engine *rtexec.Engine

	stopWorkers context.CancelFunc
	workers     sync.WaitGroup
	executor    *wasm.Executor
	wallet      *paywallet.Payee
}

func (o *Options) defaults() {
	if o.ChainID == "" {
		o.ChainID = "mycel-devnet"
	}
	if o.Validators <= 0 {
		o.Validators = 1
	}
	if o.BlockTime <= 0 {
		o.BlockTime = time.Second
	}
	if o.Accounts == nil {
		for _, n := range DevAccounts {
			o.Accounts = append(o.Accounts, node.Account{Name: n, Amount: types.MYC(1_000_000)})
		}
		o.Accounts = append(o.Accounts, node.Account{Name: ProviderKey, Amount: types.MYC(1_000)})
	}
	if o.ProviderPrice == 0 {
		o.ProviderPrice = 1
	}
	if o.UnbondingBlocks <= 0 {
		o.UnbondingBlocks = 20
	}
	if o.ChannelSettleBlocks <= 0 {
		o.ChannelSettleBlocks = 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Homes returns the node homes of a network under o.Home.
func (o Options) homes() []string {
	if o.Validators == 1 {
		return []string{o.Home}
	}
	out := make([]string, o.Validators)
	for i := range out {
		out[i] = filepath.Join(o.Home, "node"+strconv.Itoa(i))
	}
	return out
}

// Start lays the network out (unless its homes already hold it) and starts
// every node.
func Start(ctx context.Context, o Options) (*Network, error) {
	o.defaults()
	if o.Home == "" {
		return nil, errors.New("devnet: no home directory")
	}
	homes := o.homes()
	if o.Reset {
		if err := wipe(o.Home); err != nil {
			return nil, err
		}
	}
	net := &Network{Homes: homes}
	if !node.IsInitialized(homes[0]) {
		if err := layout(o, homes); err != nil {
			return nil, err
		}
		net.Created = true
	}
	for i, h := range homes {
		n, err := node.Start(ctx, h, node.Options{
			Logger:          o.Logger.With("node", i),
			CometMetrics:    o.CometMetrics && i == 0,
			CometInfoAsInfo: o.CometInfoLogs,
			CheckInvariants: o.CheckInvariants,
		})
		if err != nil {
			net.Stop()
			return nil, err
		}
		net.Nodes = append(net.Nodes, n)
	}
	if o.Provider {
		if err := net.startProvider(ctx, o); err != nil {
			net.Stop()
			return nil, err
		}
	}
	return net, nil
}

// ProviderKey is the name of the built-in provider's key.
const ProviderKey = "provider"

// startProvider runs the built-in provider: a real worker that talks to
// the first node through its HTTP API, not a shortcut inside the node.
func (n *Network) startProvider(ctx context.Context, o Options) error {
	key, err := keyring.Open(node.KeyringDir(n.Homes[0])).Get(ProviderKey)
	if err != nil {
		return fmt.Errorf("built-in provider: %w (a devnet made before providers existed lacks it: start over with --reset)", err)
	}
	ex, err := wasm.New(ctx, wasm.Options{})
	if err != nil {
		return err
	}
	n.executor = ex
	// The built-in provider serves mycel's own model through the gateway.
	engine := rtexec.New(cpu.New(0))
	info, err := engine.Add(models.KJV(), models.KJVName)
	if err != nil {
		return fmt.Errorf("built-in provider: load %s: %w", models.KJVName, err)
	}
	n.Model, n.Engine = info, engine
	pay, err := n.payments(key.Private, o)
	if err != nil {
		return err
	}
	n.Provider = types.AddressFromPubKey(key.Private.Public().(ed25519.PublicKey))
	wctx, cancel := context.WithCancel(context.Background())
	n.stopWorkers = cancel
	n.workers.Add(1)
	go func() {
		defer n.workers.Done()
		// Measuring the machine takes a second or two the first time (it
		// is cached in the home): the network is up meanwhile.
		profile := provider.Detect(wctx)
		score, err := provider.CachedBenchmark(wctx, provider.WasmExecutor{E: ex}, examples.Kernel(), []byte("128"), profile,
			filepath.Join(n.Homes[0], "provider", "score.json"))
		if err != nil {
			if wctx.Err() == nil {
				o.Logger.Error("built-in provider: benchmark failed; it does not run", "err", err)
			}
			return
		}
		profile.Score = score
		p, err := provider.New(provider.Config{
			Client: client.New(n.Nodes[0].APIURL()), Key: key.Private, Profile: profile, Price: o.ProviderPrice,
			Tier: compute.TierConsumer, Region: "devnet", Slots: max(int(profile.Cores)/2, 1),
			Executors: map[compute.Kind]provider.Executor{compute.KindWasm: provider.WasmExecutor{E: ex},
				compute.KindInference: provider.InferenceExecutor{E: engine}, compute.KindCheck: provider.CheckExecutor{E: engine}},
			StateFile: filepath.Join(n.Homes[0], "provider", ProviderKey+".json"),
			Logger:    o.Logger.With("worker", "provider"), Poll: 10 * time.Second, Grace: 5 * time.Second,
			Engine: engine, ServeSlots: 4, Payments: pay, RedeemAbove: o.ProviderRedeemAbove,
		})
		if err != nil {
			o.Logger.Error("built-in provider: it does not run", "err", err)
			return
		}
		// The registered model's file goes into the node's blob store,
		// where anyone can fetch it by its hash.
		c := client.New(n.Nodes[0].APIURL())
		if _, err := c.PutBlob(wctx, models.KJV(), key.Private); err != nil {
			o.Logger.Warn("built-in provider: could not upload the model's file to the blob store", "err", err)
		}
		// The node may still be making its first block.
		for wctx.Err() == nil {
			err := p.Run(wctx)
			if err == nil || wctx.Err() != nil {
				return
			}
			o.Logger.Warn("built-in provider stopped; retrying", "err", err)
			select {
			case <-wctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}()
	return nil
}

// payments opens the built-in provider's payee wallet when its model is
// paid: in Home/paywallet/{chain}/payee-{address}, where mycel channel
// finds it too.
func (n *Network) payments(key ed25519.PrivateKey, o Options) (*provider.Payments, error) {
	if o.ProviderPricePerToken == 0 {
		return nil, nil
	}
	addr := types.AddressFromPubKey(key.Public().(ed25519.PublicKey))
	dir := filepath.Join(n.Homes[0], "paywallet", n.Nodes[0].ChainID(), "payee-"+addr.String())
	w, err := paywallet.OpenPayee(dir, n.Nodes[0].ChainID(), addr, paywallet.PayeeOptions{})
	if err != nil {
		return nil, fmt.Errorf("built-in provider: %w", err)
	}
	n.wallet = w
	return &provider.Payments{PricePerToken: o.ProviderPricePerToken, Wallet: w}, nil
}

func layout(o Options, homes []string) error {
	kjv := models.KJV()
	spec := node.NetworkSpec{
		ChainID: o.ChainID, Accounts: o.Accounts,
		OperatorBalance: types.MYC(1_000_000), OperatorBond: types.MYC(100_000),
		BlockTime: o.BlockTime, UnbondingBlocks: o.UnbondingBlocks, ChannelSettleBlocks: o.ChannelSettleBlocks,
		// mycel's own model is in the registry from the first block.
		Models: []model.Model{{Hash: sha256.Sum256(kjv), Owner: models.Owner, Name: models.KJVName, Format: model.FormatGGUF,
			Size: uint64(len(kjv)), License: models.KJVLicense,
			Description: "mycel's own 4M-parameter Llama, trained on the King James Bible (models/kjv)"}},
	}
	for i, h := range homes {
		ns := node.NodeSpec{Home: h, Moniker: "node" + strconv.Itoa(i), Host: "127.0.0.1", Validator: true}
		if len(homes) == 1 {
			ns.Moniker = "validator"
			var err error
			if ns.APIPort, err = portOf(o.APIAddr, node.DefaultAPIAddr); err != nil {
				return err
			}
			if ns.RPCPort, err = portOf(o.RPCAddr, node.DefaultRPCAddr); err != nil {
				return err
			}
			if ns.P2PPort, err = portOf(o.P2PAddr, node.DefaultP2PAddr); err != nil {
				return err
			}
		} else {
			ports, err := FreePorts(3)
			if err != nil {
				return err
			}
			ns.P2PPort, ns.RPCPort, ns.APIPort = ports[0], ports[1], ports[2]
		}
		spec.Nodes = append(spec.Nodes, ns)
	}
	return node.InitNetwork(spec)
}

func portOf(addr, def string) (int, error) {
	if addr == "" {
		addr = def
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return 0, fmt.Errorf("address %q: bad port", addr)
	}
	if port == 0 {
		ps, err := FreePorts(1)
		if err != nil {
			return 0, err
		}
		return ps[0], nil
	}
	return port, nil
}

// wipe removes a devnet home, refusing directories that do not look like
// one so a mistyped --home cannot delete something else.
func wipe(home string) error {
	entries, err := os.ReadDir(home)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	known := map[string]bool{"config": true, "data": true, "keyring": true}
	for _, e := range entries {
		if !known[e.Name()] && !(len(e.Name()) > 4 && e.Name()[:4] == "node") {
			return fmt.Errorf("--reset: %s holds %q, which a mycel home does not; remove it yourself if you mean to", home, e.Name())
		}
	}
	return os.RemoveAll(home)
}

// FreePorts returns n TCP ports that were free a moment ago. Another
// process may take one before it is used: callers that bind retry.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		out[i] = l.Addr().(*net.TCPAddr).Port
	}
	return out, nil
}

// Stop stops the workers, then every node.
func (n *Network) Stop() error {
	if n.stopWorkers != nil {
		n.stopWorkers()
		n.workers.Wait()
	}
	if n.executor != nil {
		n.executor.Close(context.Background())
	}
	if n.wallet != nil {
		n.wallet.Close()
	}
	var errs []error
	for _, nd := range n.Nodes {
		errs = append(errs, nd.Stop())
	}
	return errors.Join(errs...)
}

// WaitHeight waits until every node has committed height h.
func (n *Network) WaitHeight(ctx context.Context, h int64) error {
	for _, nd := range n.Nodes {
		for nd.Height() < h {
			select {
			case <-ctx.Done():
				return fmt.Errorf("node at %s stuck at height %d, waiting for %d", nd.APIURL(), nd.Height(), h)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}
