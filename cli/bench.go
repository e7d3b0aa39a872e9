package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (e *env) benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Run mycel's benchmarks against their baselines"}
	cmd.AddCommand(&cobra.Command{
		Use:   "ledger",
		Short: "Signed transfers committed per second through a whole node, against CometBFT's kvstore",
		RunE: func(cmd *cobra.Command, args []string) error {
			return fmt.Errorf("bench ledger: not built yet")
		},
	})
	return cmd
}
