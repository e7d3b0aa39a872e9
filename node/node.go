package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/blobstore"
	"github.com/mycelnet/mycel/mailbox"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

// Options adjust how a node starts.
type Options struct {
	Logger *slog.Logger
	// CometLogLevel is the level CometBFT's own info logs are shown at;
	// by default they are demoted to debug, and its errors stay errors.
	CometInfoAsInfo bool
	// CometMetrics registers CometBFT's metrics. They go on Prometheus's
	// global registry, so only one node per process may have them.
	CometMetrics bool
	// APIListen overrides mycel.toml's API address.
	APIListen string
	// CheckInvariants makes the application verify its invariants after
	// every block (tests).
	CheckInvariants bool
	// Tune, if set, may change CometBFT's configuration before start.
	Tune func(*cmtcfg.Config)
}

// Node is a running mycel node.
type Node struct {
	Home    string
	log     *slog.Logger
	conf    *cmtcfg.Config
	cmt     *Comet
	app     *app.App
	db      *storage.DB
	rpc     *rpclocal.Local
	blobs   *blobstore.Store
	fetch   *fetcher
	httpSrv *http.Server
	apiAddr string
	mailbox *mailbox.Store
	agents  agentIndex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped sync.Once
}

// readPrivValidatorKey checks a consensus key file before CometBFT's
// loader, which exits the process on a bad file.
func readPrivValidatorKey(path string) (privval.FilePVKey, error) {
	var k privval.FilePVKey
	b, err := os.ReadFile(path)
	if err != nil {
		return k, fmt.Errorf("consensus key: %w", err)
	}
	if err := cmtjson.Unmarshal(b, &k); err != nil {
		return k, fmt.Errorf("consensus key %s: %w", path, err)
	}
	return k, nil
}

func loadPrivValidator(conf *cmtcfg.Config) (*privval.FilePV, error) {
	if _, err := readPrivValidatorKey(conf.PrivValidatorKeyFile()); err != nil {
		return nil, err
	}
	var st privval.FilePVLastSignState
	b, err := os.ReadFile(conf.PrivValidatorStateFile())
	if err != nil {
		return nil, fmt.Errorf("consensus key state: %w", err)
	}
	if err := cmtjson.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("consensus key state %s: %w", conf.PrivValidatorStateFile(), err)
	}
	return privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile()), nil
}

// NewComet makes and starts a CometBFT node over an application, with the
// configuration of a home. mycel's nodes run the mycel application; the
// ledger benchmark runs CometBFT's kvstore the same way as its baseline.
func NewComet(ctx context.Context, conf *cmtcfg.Config, a abci.Application, metrics bool, log cmtlog.Logger) (*Comet, error) {
	pv, err := loadPrivValidator(conf)
	if err != nil {
		return nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	// CometBFT's metrics live on Prometheus's global registry: only one
	// node per process may have them.
	mp := cmtnode.DefaultMetricsProvider(&cmtcfg.InstrumentationConfig{Prometheus: metrics, Namespace: "cometbft"})
	c := &Comet{}
	dbs := func(ctx *cmtcfg.DBContext) (dbm.DB, error) {
		db, err := openCometDB(ctx, slogOf(log))
		if err != nil {
			return nil, err
		}
		g := &guardedDB{DB: db}
		if ctx.ID == "tx_index" {
			c.txIndex = g
		}
		return g, nil
	}
	cmt, err := cmtnode.NewNode(ctx, conf, pv, nodeKey,
		// The application guards its own state, so CheckTx calls can run
		// beside each other and beside the consensus calls.
		proxy.NewUnsyncLocalClientCreator(a),
		cmtnode.DefaultGenesisDocProviderFunc(conf),
		dbs, mp, log)
	if err != nil {
		return nil, fmt.Errorf("start consensus: %w", err)
	}
	c.Node = cmt
	if err := cmt.Start(); err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("start consensus: %w (is another node running? its ports are in %s)", err, filepath.Join(conf.RootDir, "config", "config.toml"))
		}
		return nil, fmt.Errorf("start consensus: %w", err)
	}
	return c, nil
}

// openCometDB opens CometBFT's databases as its default provider does,
// but with Pebble's routine messages kept out of the node's output.
func openCometDB(ctx *cmtcfg.DBContext, log *slog.Logger) (dbm.DB, error) {
	if ctx.Config.DBBackend != string(dbm.PebbleDBBackend) {
		return cmtcfg.DefaultDBProvider(ctx)
	}
	return dbm.NewPebbleDBWithOpts(ctx.ID, ctx.Config.DBDir(), &pebble.Options{Logger: storage.Logger(log)})
}

// Comet is a running CometBFT node.
type Comet struct {
	*cmtnode.Node
	txIndex *guardedDB
}

// Shutdown stops the node and closes its databases, the transaction
// index included (CometBFT v1.0.1 leaves that one open).
func (c *Comet) Shutdown() error {
	var err error
	if c.IsRunning() {
		err = c.Stop()
		c.Wait()
	}
	if c.txIndex != nil {
		if e := c.txIndex.Close(); e != nil && err == nil {
			err = e
		}
		c.txIndex = nil
	}
	return err
}

// CometConfig reads a home's CometBFT configuration.
func CometConfig(home string) (*cmtcfg.Config, error) { return loadCometConfig(home) }

// Start starts the node in home and returns once CometBFT and the API are
// serving. Stop it with Stop.
func Start(ctx context.Context, home string, o Options) (*Node, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if !IsInitialized(home) {
		return nil, fmt.Errorf("%s holds no node: make one with `mycel testnet init` or run `mycel devnet`", home)
	}
	conf, err := loadCometConfig(home)
	if err != nil {
		return nil, err
	}
	if o.Tune != nil {
		o.Tune(conf)
	}
	mc, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	if o.APIListen != "" {
		mc.API.Listen = o.APIListen
	}
	db, err := storage.Open(filepath.Join(conf.DBDir(), "mycel"), o.Logger)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The availability tracker needs the app and the blob store; the app
	// asks it for each vote extension.
	var avail atomic.Pointer[availability]
	a := app.New(db, app.Options{Logger: o.Logger.With("module", "app"), Registerer: reg, CheckInvariants: o.CheckInvariants,
		Availability: func() []uint64 {
			if av := avail.Load(); av != nil {
				return av.held()
			}
			return nil
		}})

	var gatherer prometheus.Gatherer = reg
	if o.CometMetrics {
		gatherer = prometheus.Gatherers{reg, prometheus.DefaultGatherer}
	}
	cmt, err := NewComet(ctx, conf, a, o.CometMetrics, newCometLogger(o.Logger.With("module", "cometbft"), o.CometInfoAsInfo))
	if err != nil {
		db.Close()
		return nil, err
	}
	n := &Node{Home: home, log: o.Logger, conf: conf, cmt: cmt, app: a, db: db, rpc: rpclocal.New(cmt.Node)}

	genesis := cmt.GenesisDoc()
	n.blobs, err = blobstore.Open(filepath.Join(conf.DBDir(), "blobs"), genesis.ChainID, blobstore.Options{
		MaxBlobBytes: mc.Blobs.MaxBlobBytes, QuotaBytes: mc.Blobs.QuotaBytes, Retention: mc.Blobs.Retention.Duration,
	})
	if err != nil {
		n.Stop()
		return nil, err
	}
	n.fetch = newFetcher(n.blobs, mc.Blobs.Peers)
	av := newAvailability(a, n.fetch, o.Logger.With("module", "availability"))
	avail.Store(av)
	ln, err := net.Listen("tcp", mc.API.Listen)
	if err != nil {
		n.Stop()
		return nil, fmt.Errorf("API address %s: %w (is another node running? pick another with --api)", mc.API.Listen, err)
	}
	n.apiAddr = ln.Addr().String()
	messaging, err := n.openMessaging(genesis.ChainID)
	if err != nil {
		ln.Close()
		n.Stop()
		return nil, err
	}
	handler := api.Handler(api.Config{
		Backend: &backend{n: n}, Blobs: n.blobs, Gatherer: gatherer, Registerer: reg,
		Logger: o.Logger.With("module", "api"), Messaging: messaging,
	})
	n.httpSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	bg, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(3)
	go func() {
		defer n.wg.Done()
		av.run(bg)
	}()
	go func() {
		defer n.wg.Done()
		if err := n.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("API server stopped", "err", err)
		}
	}()
	go func() {
		defer n.wg.Done()
		n.collectBlobs(bg, time.Hour)
	}()
	n.collectMail(bg)
	return n, nil
}

// collectBlobs deletes, every interval, the blobs past their retention
// that no unfinished job refers to.
func (n *Node) collectBlobs(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			refs := n.app.ReferencedBlobs()
			if k, err := n.blobs.Collect(now, func(h types.Hash) bool { return refs[h] }); err != nil {
				n.log.Error("collect blobs", "err", err)
			} else if k > 0 {
				n.log.Info("collected unreferenced blobs", "count", k)
			}
		}
	}
}

// APIAddr returns the address the API listens on.
func (n *Node) APIAddr() string { return n.apiAddr }

// APIURL returns the API's base URL.
func (n *Node) APIURL() string { return "http://" + dialable(n.apiAddr) }

// RPCAddr returns CometBFT's RPC listen address.
func (n *Node) RPCAddr() string { return n.conf.RPC.ListenAddress }

// P2PAddr returns CometBFT's P2P listen address.
func (n *Node) P2PAddr() string { return n.conf.P2P.ListenAddress }

// ChainID returns the network's chain id.
func (n *Node) ChainID() string { return n.cmt.GenesisDoc().ChainID }

// NodeID returns the P2P node id.
func (n *Node) NodeID() string { return string(n.cmt.NodeInfo().ID()) }

// App returns the application (for tests and in-process tools).
func (n *Node) App() *app.App { return n.app }

// BroadcastTxSync submits a transaction through CometBFT's mempool and
// returns its CheckTx verdict.
func (n *Node) BroadcastTxSync(ctx context.Context, raw []byte) (*coretypes.ResultBroadcastTx, error) {
	return n.rpc.BroadcastTxSync(ctx, raw)
}

// Comet returns the in-process CometBFT node.
func (n *Node) Comet() *cmtnode.Node { return n.cmt.Node }

// Height returns the last committed height.
func (n *Node) Height() int64 { return n.cmt.BlockStore().Height() }

// Stop shuts the node down: the API first, then consensus, then the
// state database. It is safe to call more than once.
func (n *Node) Stop() error {
	var err error
	n.stopped.Do(func() {
		if n.cancel != nil {
			n.cancel()
		}
		if n.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = n.httpSrv.Shutdown(ctx)
			cancel()
		}
		if e := n.cmt.Shutdown(); e != nil {
			err = fmt.Errorf("stop consensus: %w", e)
		}
		n.wg.Wait()
		if n.mailbox != nil {
			if e := n.mailbox.Close(); e != nil && err == nil {
				err = fmt.Errorf("close mailboxes: %w", e)
			}
		}
		if e := n.db.Close(); e != nil && err == nil {
			err = fmt.Errorf("close state database: %w", e)
		}
	})
	return err
}
