package cli

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

func (e *env) stakeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "stake", Short: "Bond, unbond and unjail stake"}
	var f txFlags
	var purpose, consHome string
	bond := &cobra.Command{
		Use:   "bond AMOUNT --purpose P",
		Short: "Bond stake for a purpose: validator, provider, agent or crawler",
		Long: `Bond stake for a purpose: validator, provider, agent or crawler.

A first validator bond binds a consensus key to the signing account: the key
in --consensus-home (default --home) signs that it agrees, so nobody can bind
a key they do not hold.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			amt, p, err := parseStake(args[0], purpose)
			if err != nil {
				return err
			}
			m := stake.MsgBond{Purpose: p, Amount: amt}
			if p == stake.Validator {
				key, err := e.signer()
				if err != nil {
					return err
				}
				acc, err := e.client().Account(cmd.Context(), key.Address, false)
				if err != nil {
					return err
				}
				bound := false
				for _, b := range acc.Bonds {
					bound = bound || (b.Purpose == stake.Validator && b.ConsensusKey != nil)
				}
				if !bound {
					if consHome == "" {
						consHome = e.home
					}
					ck, err := node.ConsensusKeyOf(consHome)
					if err != nil {
						return fmt.Errorf("a first validator bond needs the node's consensus key: %w (pass --consensus-home)", err)
					}
					chainID, err := e.client().ChainID(cmd.Context())
					if err != nil {
						return err
					}
					m.ConsensusKey = ck.Public().(ed25519.PublicKey)
					m.ConsensusSig = ed25519.Sign(ck, stake.ConsensusKeyProofBytes(chainID, key.Address))
				}
			}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{{Kind: stake.KindBond, Body: m.Encode()}},
				fmt.Sprintf("bond %s for %s", amt, p))
		},
	}
	bond.Flags().StringVar(&purpose, "purpose", "", "validator, provider, agent or crawler")
	bond.Flags().StringVar(&consHome, "consensus-home", "", "home of the node whose consensus key a validator bond binds (default --home)")
	f.register(bond)

	var uf txFlags
	var upurpose string
	unbond := &cobra.Command{
		Use:   "unbond AMOUNT --purpose P",
		Short: "Start unbonding stake; it is paid back after the unbonding period",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			amt, p, err := parseStake(args[0], upurpose)
			if err != nil {
				return err
			}
			m := stake.MsgUnbond{Purpose: p, Amount: amt}
			return e.broadcast(cmd.Context(), &uf, []tx.Msg{{Kind: stake.KindUnbond, Body: m.Encode()}},
				fmt.Sprintf("unbond %s of %s stake", amt, p))
		},
	}
	unbond.Flags().StringVar(&upurpose, "purpose", "", "validator, provider, agent or crawler")
	uf.register(unbond)

	var jf txFlags
	var jpurpose string
	unjail := &cobra.Command{
		Use:   "unjail --purpose P",
		Short: "Lift an expired jail from a bond",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := stake.ParsePurpose(jpurpose)
			if err != nil {
				return fmt.Errorf("--purpose: %w", err)
			}
			m := stake.MsgUnjail{Purpose: p}
			return e.broadcast(cmd.Context(), &jf, []tx.Msg{{Kind: stake.KindUnjail, Body: m.Encode()}},
				fmt.Sprintf("unjail %s bond", p))
		},
	}
	unjail.Flags().StringVar(&jpurpose, "purpose", "", "validator, provider, agent or crawler")
	jf.register(unjail)
	cmd.AddCommand(bond, unbond, unjail)
	return cmd
}

func parseStake(amount, purpose string) (types.Amount, stake.Purpose, error) {
	if purpose == "" {
		return 0, 0, fmt.Errorf("--purpose is required: validator, provider, agent or crawler")
	}
	p, err := stake.ParsePurpose(purpose)
	if err != nil {
		return 0, 0, fmt.Errorf("--purpose: %w", err)
	}
	amt, err := types.ParseAmount(amount)
	if err != nil {
		return 0, 0, err
	}
	if amt == 0 {
		return 0, 0, fmt.Errorf("amount must be positive")
	}
	return amt, p, nil
}
