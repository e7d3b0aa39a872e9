package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/types"
)

func (e *env) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the node's chain, height and addresses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := e.client()
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			return e.print(s, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "chain\t%s\n", s.ChainID)
				fmt.Fprintf(tw, "height\t%d (%s ago)\n", s.Height, time.Since(s.LatestBlockTime).Round(time.Second))
				fmt.Fprintf(tw, "app hash\t%s\n", s.AppHash)
				fmt.Fprintf(tw, "node\t%s (%s), %d peers%s\n", s.NodeID, s.Moniker, s.Peers, map[bool]string{true: ", catching up", false: ""}[s.CatchingUp])
				fmt.Fprintf(tw, "validator\t%s, voting power %d\n", s.Validator.Address, s.Validator.Power)
				fmt.Fprintf(tw, "API\t%s\n", c.URL())
				fmt.Fprintf(tw, "CometBFT RPC\t%s\n", httpAddr(s.RPCAddress))
				fmt.Fprintf(tw, "P2P\t%s\n", s.P2PAddress)
				fmt.Fprintf(tw, "version\t%s\n", s.Version)
				tw.Flush()
			})
		},
	}
}

func (e *env) queryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Read the chain's state"}
	balance := &cobra.Command{
		Use:   "balance ADDRESS_OR_KEY",
		Short: "Show an account's balance",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.resolveAddress(args[0])
			if err != nil {
				return err
			}
			acc, err := e.client().Account(cmd.Context(), a, false)
			if err != nil {
				return err
			}
			v := map[string]any{"address": a, "balance": acc.Balance, "denom": types.BaseDenom, "height": acc.Height}
			return e.print(v, func(w io.Writer) { fmt.Fprintf(w, "%s\n", acc.Balance) })
		},
	}
	var prove bool
	account := &cobra.Command{
		Use:   "account ADDRESS_OR_KEY",
		Short: "Show an account: balance, sequence, stakes, unbonding, rewards",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.resolveAddress(args[0])
			if err != nil {
				return err
			}
			acc, err := e.client().Account(cmd.Context(), a, prove)
			if err != nil {
				return err
			}
			var verified string
			if prove {
				if verified, err = e.verifyAccountProofs(cmd.Context(), acc); err != nil {
					return err
				}
			}
			return e.print(acc, func(w io.Writer) { printAccount(w, acc, verified) })
		},
	}
	account.Flags().BoolVar(&prove, "prove", false, "fetch Merkle proofs of the balance and account and check them against the next block header's app hash")
	txq := &cobra.Command{
		Use:   "tx HASH",
		Short: "Show a committed transaction and its outcome",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := types.ParseHash(strings.ToLower(args[0]))
			if err != nil {
				return err
			}
			r, err := e.client().Tx(cmd.Context(), h)
			if err != nil {
				return err
			}
			return e.print(r, func(w io.Writer) {
				status := "succeeded"
				if !r.OK() {
					status = fmt.Sprintf("FAILED (%s code %d): %s", r.Codespace, r.Code, r.Log)
				}
				fmt.Fprintf(w, "transaction %s in block %d %s\n", r.Hash, r.Height, status)
				if r.Tx != nil {
					fmt.Fprintf(w, "  signer %s, sequence %d, fee %s\n", r.Tx.Signer, r.Tx.Sequence, r.Tx.Fee)
					for _, m := range r.Tx.Msgs {
						fmt.Fprintf(w, "  %s %s\n", m.Kind, m.Body)
					}
				}
				for _, ev := range r.Events {
					fmt.Fprintf(w, "  event %s:", ev.Type)
					for _, at := range ev.Attrs {
						fmt.Fprintf(w, " %s=%s", at.Key, at.Value)
					}
					fmt.Fprintln(w)
				}
			})
		},
	}
	supply := &cobra.Command{
		Use:   "supply",
		Short: "Show the token supply: genesis, minted, burned, bonded, reward pools",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := e.client().Supply(cmd.Context())
			if err != nil {
				return err
			}
			return e.print(s, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "total\t%s\t(at height %d)\n", s.Total, s.Height)
				fmt.Fprintf(tw, "genesis\t%s\n", s.Genesis)
				fmt.Fprintf(tw, "minted\t%s\n", s.Minted)
				fmt.Fprintf(tw, "burned\t%s\n", s.Burned)
				fmt.Fprintf(tw, "bonded\t%s\n", s.Bonded)
				fmt.Fprintf(tw, "provider reward pool\t%s\n", s.ProviderPool)
				fmt.Fprintf(tw, "next block reward\t%s\n", s.NextReward)
				tw.Flush()
			})
		},
	}
	validators := &cobra.Command{
		Use:   "validators",
		Short: "Show the active validator set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := e.client().Validators(cmd.Context())
			if err != nil {
				return err
			}
			return e.print(vs, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "OPERATOR\tPOWER\tBONDED\n")
				for _, v := range vs {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", v.Operator, v.Power, v.Bonded)
				}
				tw.Flush()
			})
		},
	}
	params := &cobra.Command{
		Use:   "params",
		Short: "Show the chain's rules: fee schedule, stake and emission parameters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := e.client().Params(cmd.Context())
			if err != nil {
				return err
			}
			return e.print(p, func(w io.Writer) { printParams(w, p) })
		},
	}
	cmd.AddCommand(balance, account, txq, supply, validators, params)
	return cmd
}

func printAccount(w io.Writer, a app.AccountState, verified string) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "address\t%s\n", a.Address)
	fmt.Fprintf(tw, "balance\t%s\n", a.Balance)
	fmt.Fprintf(tw, "sequence\t%d (next %d)\n", a.Sequence, a.NextSequence)
	if a.RewardsEarned > 0 {
		fmt.Fprintf(tw, "rewards earned\t%s\n", a.RewardsEarned)
	}
	for _, b := range a.Bonds {
		line := fmt.Sprintf("%s since height %d", b.Amount, b.Since)
		if b.Tombstoned {
			line += ", BANNED (tombstoned)"
		} else if b.Jailed {
			line += fmt.Sprintf(", jailed until height %d", b.JailedUntil)
		}
		fmt.Fprintf(tw, "bonded (%s)\t%s\n", b.Purpose, line)
	}
	for _, u := range a.Unbonding {
		fmt.Fprintf(tw, "unbonding (%s)\t%s, paid out at height %d\n", u.Purpose, u.Amount, u.CompleteHeight)
	}
	fmt.Fprintf(tw, "at height\t%d\n", a.Height)
	if verified != "" {
		fmt.Fprintf(tw, "proof\t%s\n", verified)
	}
	tw.Flush()
}

func printParams(w io.Writer, p app.Params) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "fees\tbase %s + %s per byte + per message:\n", p.Auth.BaseFee, p.Auth.FeePerByte)
	for _, k := range types.SortedKeys(p.Auth.MsgFees) {
		fmt.Fprintf(tw, "\t  %s\t%s\n", k, p.Auth.MsgFees[k])
	}
	fmt.Fprintf(tw, "\t  other\t%s\n", p.Auth.DefaultMsgFee)
	fmt.Fprintf(tw, "max transaction\t%d bytes\n", p.Auth.MaxTxBytes)
	fmt.Fprintf(tw, "block reward\t%s, halving every %d blocks, %s to the provider pool\n", p.Mint.InitialReward, p.Mint.HalvingBlocks, p.Mint.ProviderShare)
	fmt.Fprintf(tw, "unbonding\t%d blocks and %ds\n", p.Stake.UnbondingBlocks, p.Stake.UnbondingSeconds)
	fmt.Fprintf(tw, "validators\tat most %d, each bonding at least %s\n", p.Stake.MaxValidators, p.Stake.MinValidatorBond)
	fmt.Fprintf(tw, "slashing\tdouble sign %s (and banned), reporter paid %s of a slash\n", p.Stake.DoubleSignSlash, p.Stake.ReporterReward)
	fmt.Fprintf(tw, "payment channels\tchallenge period %d blocks, deposit at least %s\n", p.Paych.SettleBlocks, p.Paych.MinDeposit)
	if p.Agent.MinDeposit > 0 {
		fmt.Fprintf(tw, "agents\tdeposit at least %s, listed %d blocks a registration, refunded %d blocks after deregistering; ratings pay at least %s\n",
			p.Agent.MinDeposit, p.Agent.RegistrationBlocks, p.Agent.UnbondingBlocks, p.Agent.MinRatingPayment)
	}
	tw.Flush()
}

// verifyAccountProofs checks an account's proofs against the app hash in
// the header of the block after the one the account was read at.
func (e *env) verifyAccountProofs(ctx context.Context, acc app.AccountState) (string, error) {
	c := e.client()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := c.WaitBlock(ctx, acc.Height+1)
	if err != nil {
		return "", err
	}
	if b.AppHash != acc.AppHash {
		return "", fmt.Errorf("block %d carries app hash %s, the account was read under %s", b.Height, b.AppHash, acc.AppHash)
	}
	if err := acc.VerifyProofs(b.AppHash); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d proofs verified against the app hash in block %d's header", len(acc.Proofs), b.Height), nil
}
