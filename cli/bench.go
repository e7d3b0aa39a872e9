package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/internal/bench"
)

func (e *env) benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Run mycel's benchmarks, each against its baseline in the same run"}
	var o bench.LedgerOptions
	ledger := &cobra.Command{
		Use:   "ledger",
		Short: "Signed transfers committed per second through a whole node, against CometBFT's kvstore",
		Long: `Measure signed transfers committed per second through a whole mycel node
(CheckTx with signature checks, FinalizeBlock, Commit to Pebble with the Merkle
tree), then CometBFT's kvstore example application under the same consensus
settings and submission path, and print both and their ratio.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = e.stderr
			r, err := bench.Ledger(cmd.Context(), o)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "ledger: %s\n", r.Settings)
				fmt.Fprintf(w, "  mycel    %8.0f signed transfers/s  (%d in %.2fs, %d blocks)\n", r.Mycel.PerSecond, r.Mycel.Txs, r.Mycel.Seconds, r.Mycel.Blocks)
				fmt.Fprintf(w, "  kvstore  %8.0f tx/s                (%d in %.2fs, %d blocks)\n", r.KVStore.PerSecond, r.KVStore.Txs, r.KVStore.Seconds, r.KVStore.Blocks)
				fmt.Fprintf(w, "  ratio    %.2f (mycel / kvstore)\n", r.Ratio)
			})
		},
	}
	ledger.Flags().IntVar(&o.Txs, "txs", 20000, "transactions each side commits")
	ledger.Flags().IntVar(&o.Accounts, "accounts", 200, "concurrent senders")
	ledger.Flags().StringVar(&o.Path, "path", "rpc", "how transactions reach each node: rpc (CometBFT's RPC over HTTP, as clients send them) or local (in process, no HTTP)")
	ledger.Flags().DurationVar(&o.BlockTime, "block-time", 100*time.Millisecond, "CometBFT's timeout_commit for both sides")
	cmd.AddCommand(ledger)
	return cmd
}
