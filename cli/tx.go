package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/types"
)

// txFlags are the flags of every command that sends a transaction.
type txFlags struct {
	fee     string
	memo    string
	async   bool
	timeout time.Duration
	seq     int64
}

func (f *txFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.fee, "fee", "", "fee to pay (default: the least the chain's fee schedule asks)")
	fl.StringVar(&f.memo, "memo", "", "a note stored with the transaction (at most 256 bytes)")
	fl.BoolVar(&f.async, "async", false, "return once the node has accepted the transaction into its mempool, without waiting for a block")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "how long to wait for the transaction to be committed")
	fl.Int64Var(&f.seq, "sequence", -1, "sign with this sequence instead of the account's next one")
}

// broadcast signs msgs with --from, submits them and, unless --async,
// waits for the block that commits them, and prints the outcome. A
// refused or failed transaction is an error.
func (e *env) broadcast(ctx context.Context, f *txFlags, msgs []tx.Msg, describe string) error {
	r, err := e.submit(ctx, f, msgs, describe)
	if err != nil || f.async {
		return err
	}
	return e.print(r, func(w io.Writer) { printTxResult(w, r, describe) })
}

// submit is broadcast without printing a committed result, for commands
// that print something of their own.
func (e *env) submit(ctx context.Context, f *txFlags, msgs []tx.Msg, describe string) (api.TxResult, error) {
	key, err := e.signer()
	if err != nil {
		return api.TxResult{}, err
	}
	c := e.client()
	var o client.TxOptions
	o.Memo = f.memo
	if f.fee != "" {
		fee, err := types.ParseAmount(f.fee)
		if err != nil {
			return api.TxResult{}, fmt.Errorf("--fee: %w", err)
		}
		o.Fee = &fee
	}
	if f.seq >= 0 {
		s := uint64(f.seq)
		o.Sequence = &s
	}
	t, raw, err := c.BuildTx(ctx, key.Private, msgs, o)
	if err != nil {
		return api.TxResult{}, err
	}
	res, err := c.SubmitTx(ctx, raw)
	if err != nil {
		return api.TxResult{}, fmt.Errorf("%s refused: %w", describe, err)
	}
	if f.async {
		return api.TxResult{Hash: res.Hash}, e.print(res, func(w io.Writer) {
			fmt.Fprintf(w, "submitted %s: transaction %s (fee %s); look it up with: mycel query tx %s\n", describe, res.Hash, t.Fee, res.Hash)
		})
	}
	e.progress("submitted transaction %s (fee %s), waiting for a block ...", res.Hash, t.Fee)
	wctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	r, err := c.WaitTx(wctx, res.Hash)
	if err != nil {
		return r, err
	}
	if !r.OK() {
		if e.output == "json" {
			_ = e.print(r, nil)
		}
		return r, fmt.Errorf("%s: transaction %s FAILED in block %d (its fee was paid): %s", describe, r.Hash, r.Height, r.Log)
	}
	return r, nil
}

func printTxResult(w io.Writer, r api.TxResult, describe string) {
	fee := ""
	if r.Tx != nil {
		fee = ", fee " + r.Tx.Fee.String()
	}
	fmt.Fprintf(w, "%s: committed in block %d (transaction %s%s)\n", describe, r.Height, r.Hash, fee)
}

func (e *env) txCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Sign and send transactions"}
	var f txFlags
	send := &cobra.Command{
		Use:   "send TO AMOUNT",
		Short: "Send tokens: TO is an address or a key name, AMOUNT like 5myc or 5000000umyc",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			to, err := e.resolveAddress(args[0])
			if err != nil {
				return err
			}
			amt, err := types.ParseAmount(args[1])
			if err != nil {
				return err
			}
			if amt == 0 {
				return fmt.Errorf("amount must be positive")
			}
			msg := tx.Msg{Kind: bank.KindSend, Body: bank.MsgSend{To: to, Amount: amt}.Encode()}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{msg}, fmt.Sprintf("send %s to %s", amt, to))
		},
	}
	f.register(send)
	cmd.AddCommand(send)
	return cmd
}
