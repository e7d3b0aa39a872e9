package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

func (e *env) devnetCmd() *cobra.Command {
	var apiAddr, rpcAddr, p2pAddr string
	var blockTime time.Duration
	var reset, noProvider, checkInvariants bool
	var providerPrice, pricePerToken, redeemAbove string
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a single-validator network with every role in one process",
		Long: `Run a single-validator mycel network on this machine: CometBFT with the mycel
application, the HTTP API, and funded dev keys alice, bob and carol in the
keyring of --home. State is kept in --home across restarts; --reset starts over.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := e.logger()
			if err != nil {
				return err
			}
			price, err := types.ParseAmount(providerPrice)
			if err != nil {
				return fmt.Errorf("--provider-price: %w", err)
			}
			perToken, err := types.ParseAmount(pricePerToken)
			if err != nil {
				return fmt.Errorf("--provider-price-per-token: %w", err)
			}
			above, err := types.ParseAmount(redeemAbove)
			if err != nil {
				return fmt.Errorf("--provider-redeem-above: %w", err)
			}
			if !node.IsInitialized(e.home) || reset {
				e.progress("laying out a new devnet in %s ...", e.home)
			} else {
				e.progress("resuming the devnet in %s ...", e.home)
				if cmd.Flags().Changed("api") {
					if err := setAPIAddr(e.home, apiAddr); err != nil {
						return err
					}
				}
			}
			net, err := devnet.Start(cmd.Context(), devnet.Options{
				Home: e.home, APIAddr: apiAddr, RPCAddr: rpcAddr, P2PAddr: p2pAddr, BlockTime: blockTime,
				Reset: reset, Logger: log, CometMetrics: true, CometInfoLogs: e.logLevel == "debug", Provider: !noProvider,
				ProviderPrice: price, CheckInvariants: checkInvariants, ProviderPricePerToken: perToken, ProviderRedeemAbove: above,
			})
			if err != nil {
				if cmd.Context().Err() != nil {
					e.progress("stopped while starting")
					return nil
				}
				return err
			}
			n := net.Nodes[0]
			// Show the banner once the first block is in, so that what it
			// suggests works at once.
			wctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			_ = net.WaitHeight(wctx, 1)
			cancel()
			if err := e.devnetBanner(n, net.Created, !noProvider); err != nil {
				net.Stop()
				return err
			}
			<-cmd.Context().Done()
			e.progress("stopping ...")
			h := n.Height()
			if err := net.Stop(); err != nil {
				return err
			}
			e.progress("stopped at height %d; `mycel devnet` resumes with every balance kept", h)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&apiAddr, "api", node.DefaultAPIAddr, "address of the HTTP API")
	f.StringVar(&rpcAddr, "rpc", node.DefaultRPCAddr, "address of CometBFT's RPC (used when laying out a new devnet)")
	f.StringVar(&p2pAddr, "p2p", node.DefaultP2PAddr, "address of CometBFT's P2P listener (used when laying out a new devnet)")
	f.DurationVar(&blockTime, "block-time", time.Second, "pause after each block (CometBFT's timeout_commit; used when laying out a new devnet)")
	f.BoolVar(&reset, "reset", false, "delete the devnet's state and keys in --home and start a new chain")
	f.BoolVar(&noProvider, "no-provider", false, "do not run the built-in compute provider")
	f.StringVar(&providerPrice, "provider-price", "1umyc", "the built-in provider's price per compute unit")
	f.StringVar(&pricePerToken, "provider-price-per-token", "0umyc", "make the built-in provider's model paid: this much per generated token, with payment channel vouchers (docs/gateway.md)")
	f.StringVar(&redeemAbove, "provider-redeem-above", "0umyc", "with --provider-price-per-token: the built-in provider also redeems a channel lane once it has grown this much")
	f.StringVar(&e.logLevel, "log-level", "info", "log level: debug (includes CometBFT), info, warn or error")
	f.BoolVar(&checkInvariants, "check-invariants", false, "verify the supply, stake, escrow and channel invariants after every block, and halt if one breaks (slower; for tests)")
	return cmd
}

// setAPIAddr records a new API address in a home, so that the CLI pointed
// at the home finds the node.
func setAPIAddr(home, addr string) error {
	c, err := node.LoadConfig(home)
	if err != nil {
		return err
	}
	c.API.Listen = addr
	return node.SaveConfig(home, c)
}

func (e *env) devnetBanner(n *node.Node, created, serving bool) error {
	keys, err := e.keyring().List()
	if err != nil {
		return err
	}
	type keyInfo struct {
		Name    string        `json:"name"`
		Address types.Address `json:"address"`
		Balance types.Amount  `json:"balance"`
	}
	var infos []keyInfo
	for _, k := range keys {
		acc, err := n.App().Account(k.Address, false)
		if err != nil {
			return err
		}
		infos = append(infos, keyInfo{k.Name, k.Address, acc.Balance})
	}
	v := map[string]any{
		"chain_id": n.ChainID(), "api": n.APIURL(), "rpc": httpAddr(n.RPCAddr()), "p2p": n.P2PAddr(),
		"home": e.home, "keys": infos, "created": created, "height": n.Height(), "openai_base_url": n.APIURL() + "/v1",
	}
	return e.print(v, func(w io.Writer) {
		fmt.Fprintf(w, "\nmycel devnet is running: chain %s, one validator, height %d\n\n", n.ChainID(), n.Height())
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  API\t%s\tthe mycel CLI and HTTP API; metrics at /metrics\n", n.APIURL())
		if serving {
			fmt.Fprintf(tw, "  OpenAI API\t%s/v1\tany OpenAI client; the built-in provider serves %s\n", n.APIURL(), models.KJVName)
		}
		fmt.Fprintf(tw, "  CometBFT RPC\t%s\t\n", httpAddr(n.RPCAddr()))
		fmt.Fprintf(tw, "  P2P\t%s\t\n", n.P2PAddr())
		fmt.Fprintf(tw, "  home\t%s\tkeys in %s\n", e.home, filepath.Join(e.home, "keyring"))
		tw.Flush()
		fmt.Fprintf(w, "\nKeys in the devnet's keyring:\n")
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, k := range infos {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", k.Name, k.Address, k.Balance)
		}
		tw.Flush()
		home := ""
		if e.home != defaultHome() {
			home = " --home " + e.home
		}
		fmt.Fprintf(w, "\nTry, in another terminal:\n")
		for _, c := range []string{"status", "query balance alice", "tx send bob 5myc --from alice",
			"stake bond 10myc --purpose provider --from carol", "query account carol", "keys add dave",
			"job submit --wasm examples/wasm/wordfreq.wasm --input README.md --max-price 1myc --from alice --wait",
			"provider list"} {
			fmt.Fprintf(w, "  mycel%s %s\n", home, c)
		}
		if serving {
			fmt.Fprintf(w, "\nAnd the model, with any OpenAI client or:\n")
			fmt.Fprintf(w, "  curl -s %s/v1/chat/completions -d '{\"model\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": \"And God said\"}], \"max_tokens\": 48}'\n", n.APIURL(), models.KJVName)
		}
		fmt.Fprintf(w, "\nCtrl-C stops the node; `mycel devnet` again resumes it with every balance kept (--reset starts over).\n\n")
	})
}

// httpAddr turns CometBFT's tcp://host:port into a URL to browse.
func httpAddr(laddr string) string { return "http://" + strings.TrimPrefix(laddr, "tcp://") }

func (e *env) nodeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Run a node of a network laid out with `mycel testnet init`"}
	var apiAddr string
	start := &cobra.Command{
		Use:   "start",
		Short: "Start the node in --home and run until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := e.logger()
			if err != nil {
				return err
			}
			n, err := node.Start(cmd.Context(), e.home, node.Options{Logger: log, APIListen: apiAddr, CometMetrics: true,
				CometInfoAsInfo: e.logLevel == "debug"})
			if err != nil {
				return err
			}
			v := map[string]any{"home": e.home, "chain_id": n.ChainID(), "node_id": n.NodeID(), "api": n.APIURL(),
				"rpc": httpAddr(n.RPCAddr()), "p2p": n.P2PAddr()}
			_ = e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "node %s of chain %s started from %s\n  API %s  RPC %s  P2P %s\n",
					n.NodeID(), n.ChainID(), e.home, n.APIURL(), httpAddr(n.RPCAddr()), n.P2PAddr())
			})
			<-cmd.Context().Done()
			h := n.Height()
			err = n.Stop()
			e.progress("stopped at height %d", h)
			return err
		},
	}
	start.Flags().StringVar(&apiAddr, "api", "", "address of the HTTP API (default: from the home's mycel.toml)")
	start.Flags().StringVar(&e.logLevel, "log-level", "info", "log level: debug (includes CometBFT), info, warn or error")
	cmd.AddCommand(start)
	return cmd
}

func (e *env) testnetCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "testnet", Short: "Lay out multi-validator networks"}
	var validators, fullNodes, basePort, apiPort int
	var out, chainID, hosts string
	var blockTime time.Duration
	var unbonding int64
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Write the homes of an N-validator network (DIR/node0 ...)",
		Long: `Write the homes of an N-validator network: DIR/node0 to DIR/node(N-1), each with
its configuration, its consensus key and a funded, bonded operator key named
after the node (node0 ...) in its keyring. --full-nodes adds nodes that follow
the chain without validating. Start each with
  mycel node start --home DIR/nodeI
Node i listens for P2P on base-port+10i and for RPC on base-port+10i+1, and
serves the API on api-port+i. With --hosts (one per node) the nodes listen on
all interfaces and reach each other at those hosts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if validators < 1 {
				return fmt.Errorf("--validators %d: need at least one", validators)
			}
			if out == "" {
				return fmt.Errorf("--out DIR is required")
			}
			if fullNodes < 0 {
				return fmt.Errorf("--full-nodes %d: cannot be negative", fullNodes)
			}
			total := validators + fullNodes
			var hostList []string
			if hosts != "" {
				hostList = strings.Split(hosts, ",")
				if len(hostList) != total {
					return fmt.Errorf("--hosts lists %d hosts for %d nodes", len(hostList), total)
				}
			}
			spec := node.NetworkSpec{ChainID: chainID, OperatorBalance: types.MYC(1_000_000), OperatorBond: types.MYC(100_000),
				BlockTime: blockTime, UnbondingBlocks: unbonding, Accounts: []node.Account{}}
			for i := 0; i < total; i++ {
				ns := node.NodeSpec{Home: filepath.Join(out, "node"+strconv.Itoa(i)), Moniker: "node" + strconv.Itoa(i),
					Host: "127.0.0.1", P2PPort: basePort + 10*i, RPCPort: basePort + 10*i + 1, APIPort: apiPort + i, Validator: i < validators}
				if hostList != nil {
					ns.Host, ns.ListenAll = strings.TrimSpace(hostList[i]), true
					if net.ParseIP(ns.Host) == nil && ns.Host == "" {
						return fmt.Errorf("--hosts: empty host for node %d", i)
					}
				}
				spec.Nodes = append(spec.Nodes, ns)
			}
			if err := node.InitNetwork(spec); err != nil {
				return err
			}
			type nodeOut struct {
				Home string `json:"home"`
				API  string `json:"api"`
				RPC  string `json:"rpc"`
				P2P  string `json:"p2p"`
			}
			var outs []nodeOut
			for _, ns := range spec.Nodes {
				outs = append(outs, nodeOut{ns.Home, fmt.Sprintf("http://%s:%d", ns.Host, ns.APIPort),
					fmt.Sprintf("http://%s:%d", ns.Host, ns.RPCPort), fmt.Sprintf("%s:%d", ns.Host, ns.P2PPort)})
			}
			return e.print(map[string]any{"chain_id": chainID, "nodes": outs}, func(w io.Writer) {
				fmt.Fprintf(w, "laid out chain %s with %d validators and %d full nodes in %s\n", chainID, validators, fullNodes, out)
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				for _, o := range outs {
					fmt.Fprintf(tw, "  %s\tAPI %s\tRPC %s\tP2P %s\n", o.Home, o.API, o.RPC, o.P2P)
				}
				tw.Flush()
				fmt.Fprintf(w, "start each node with:  mycel node start --home %s\n", filepath.Join(out, "nodeN"))
			})
		},
	}
	f := initCmd.Flags()
	f.IntVar(&validators, "validators", 4, "number of validators")
	f.IntVar(&fullNodes, "full-nodes", 0, "number of nodes that follow the chain without validating (after the validators)")
	f.StringVar(&out, "out", "", "directory to write the homes into")
	f.StringVar(&chainID, "chain-id", "mycel-testnet", "chain id")
	f.StringVar(&hosts, "hosts", "", "comma-separated host of each node, for networks across machines (default: all on 127.0.0.1)")
	f.IntVar(&basePort, "base-port", 26656, "first P2P port; node i uses base-port+10i (P2P) and base-port+10i+1 (RPC)")
	f.IntVar(&apiPort, "api-port", 8844, "first API port; node i uses api-port+i")
	f.DurationVar(&blockTime, "block-time", time.Second, "pause after each block (CometBFT's timeout_commit)")
	f.Int64Var(&unbonding, "unbonding-blocks", 100, "unbonding period in blocks (the evidence max age is set to match)")
	cmd.AddCommand(initCmd)
	return cmd
}
