package cli

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/types"
)

type keyView struct {
	Name    string        `json:"name"`
	Address types.Address `json:"address"`
	PubKey  string        `json:"pub_key"`
	// PrivateSeed is shown only with --private.
	PrivateSeed string `json:"private_key_seed,omitempty"`
}

func viewKey(k keyring.Key) keyView {
	return keyView{Name: k.Name, Address: k.Address, PubKey: hex.EncodeToString(k.PubKey())}
}

func (e *env) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the account keys in --home's keyring"}
	var recover bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Make a new key (or, with --recover, import a 32-byte hex seed read from stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var k keyring.Key
			var err error
			if recover {
				line, rerr := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if rerr != nil && rerr != io.EOF {
					return rerr
				}
				seed, derr := hex.DecodeString(strings.TrimSpace(line))
				if derr != nil {
					return fmt.Errorf("--recover: stdin must hold the key's 32-byte seed in hex: %v", derr)
				}
				k, err = e.keyring().Import(args[0], seed)
			} else {
				k, err = e.keyring().Add(args[0])
			}
			if err != nil {
				return err
			}
			return e.print(viewKey(k), func(w io.Writer) {
				fmt.Fprintf(w, "added key %s\n  address %s\n  stored in %s\n", k.Name, k.Address, e.keyring().Dir())
			})
		},
	}
	add.Flags().BoolVar(&recover, "recover", false, "import the hex seed given on stdin instead of making a new key")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := e.keyring().List()
			if err != nil {
				return err
			}
			views := make([]keyView, 0, len(keys))
			for _, k := range keys {
				views = append(views, viewKey(k))
			}
			return e.print(views, func(w io.Writer) {
				if len(views) == 0 {
					fmt.Fprintf(w, "no keys in %s; make one with: mycel keys add NAME\n", e.keyring().Dir())
					return
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				for _, v := range views {
					fmt.Fprintf(tw, "%s\t%s\n", v.Name, v.Address)
				}
				tw.Flush()
			})
		},
	}

	var private bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a key's address and public key (its private seed only with --private)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := e.keyring().Get(args[0])
			if err != nil {
				return err
			}
			v := viewKey(k)
			if private {
				v.PrivateSeed = hex.EncodeToString(k.Seed())
			}
			return e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "name     %s\naddress  %s\npub key  %s\n", v.Name, v.Address, v.PubKey)
				if private {
					fmt.Fprintf(w, "private key seed  %s\n(anyone with this seed controls the account)\n", v.PrivateSeed)
				}
			})
		},
	}
	show.Flags().BoolVar(&private, "private", false, "also print the private key seed")
	cmd.AddCommand(add, list, show)
	return cmd
}
