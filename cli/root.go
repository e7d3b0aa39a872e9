// Package cli is every mycel command as a library: Run parses the
// arguments and runs the command, writing to the given streams, and
// returns the process's exit code. cmd/mycel only calls Run.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

// env is what every command shares: the global flags and the streams.
type env struct {
	stdout, stderr io.Writer
	home           string
	nodeURL        string
	output         string
	from           string
	logLevel       string
}

// Run runs the mycel command line and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	root := e.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		if e.output == "json" {
			_ = json.NewEncoder(stdout).Encode(map[string]any{"error": map[string]string{"message": err.Error()}})
		}
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}

func defaultHome() string {
	if h := os.Getenv("MYCEL_HOME"); h != "" {
		return h
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		return ".mycel"
	}
	return filepath.Join(dir, ".mycel")
}

func (e *env) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "mycel",
		Short: "mycel: a permissionless network of compute, data and agents, on a token ledger",
		Long: `mycel pools compute, data and AI agents, coordinated by a token ledger on CometBFT.

Start a whole network on this machine with:   mycel devnet
then, in another terminal, try:               mycel status`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if e.output != "text" && e.output != "json" {
				return fmt.Errorf("-o %q: use text or json", e.output)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&e.home, "home", defaultHome(), "node home: configuration, data and keyring (env MYCEL_HOME)")
	pf.StringVar(&e.nodeURL, "node", "", "URL of the node's API (default: the API of the node in --home, else http://127.0.0.1:8844)")
	pf.StringVarP(&e.output, "output", "o", "text", "output format: text or json")
	pf.StringVar(&e.from, "from", "", "name of the key in the keyring that signs")
	root.AddCommand(e.devnetCmd(), e.statusCmd(), e.keysCmd(), e.txCmd(), e.queryCmd(), e.stakeCmd(),
		e.testnetCmd(), e.nodeCmd(), e.benchCmd(), e.versionCmd(), e.providerCmd(), e.jobCmd(), e.modelCmd(),
		e.channelCmd(), e.disputeCmd(), e.withMessaging(e.agentCmd()), e.marketCmd(), e.collectiveCmd())
	return root
}

// client returns a client of the node: --node if given, else the API of
// the node whose home is --home, else the default address.
func (e *env) client() *client.Client {
	if e.nodeURL != "" {
		u := e.nodeURL
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		return client.New(u)
	}
	if u, ok := node.APIURL(e.home); ok {
		return client.New(u)
	}
	return client.New("http://" + node.DefaultAPIAddr)
}

func (e *env) keyring() *keyring.Keyring { return keyring.Open(node.KeyringDir(e.home)) }

// signer loads the --from key.
func (e *env) signer() (keyring.Key, error) {
	if e.from == "" {
		return keyring.Key{}, errors.New("no signer: pass --from KEY (see mycel keys list)")
	}
	return e.keyring().Get(e.from)
}

// resolveAddress takes an address or the name of a key in the keyring.
func (e *env) resolveAddress(s string) (types.Address, error) {
	if strings.HasPrefix(s, types.AddressPrefix+"1") {
		return types.ParseAddress(s)
	}
	k, err := e.keyring().Get(s)
	if err != nil {
		return types.Address{}, fmt.Errorf("%q is neither an address (myc1...) nor a key in %s: %w", s, e.keyring().Dir(), err)
	}
	return k.Address, nil
}

// print writes v as JSON with -o json, or calls text otherwise.
func (e *env) print(v any, text func(w io.Writer)) error {
	if e.output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(e.stdout)
	return nil
}

// progress writes a line for people to stderr (never into JSON output).
func (e *env) progress(format string, args ...any) {
	fmt.Fprintf(e.stderr, format+"\n", args...)
}

func (e *env) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(e.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", e.logLevel)
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl})), nil
}

func (e *env) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print mycel's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := map[string]any{"version": Version, "app_protocol": 1}
			return e.print(v, func(w io.Writer) { fmt.Fprintf(w, "mycel %s (app protocol 1)\n", Version) })
		},
	}
}

// Version is the release of this binary.
const Version = "0.1.0-dev"
