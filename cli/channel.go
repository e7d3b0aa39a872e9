package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

func (e *env) channelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channel",
		Short: "Payment channels: pay off chain with signed vouchers, settle on chain",
		Long: `Payment channels, after Filecoin's: a payer locks a deposit in a one-way channel
to a payee, then pays with vouchers (signed promises of a cumulative amount on a
lane) that need no transaction and no block. The payee redeems the best voucher
of each lane whenever it likes; either side settles, which starts a challenge
period during which the payee can still redeem; then collect returns the rest
of the deposit to the payer. See docs/paych.md.

The payer's wallet (the last voucher of each lane, so nonces never repeat) and
the payee's (the best voucher of each lane) live under --home/paywallet.`,
	}
	cmd.AddCommand(e.channelOpenCmd(), e.channelTopUpCmd(), e.channelListCmd(), e.channelShowCmd(), e.channelVoucherCmd(),
		e.channelRedeemCmd(), e.channelSettleCmd(), e.channelCollectCmd(), e.channelAcceptCmd(), e.channelWatchCmd())
	return cmd
}

// parseChannelID reads a channel id argument.
func parseChannelID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("channel %q: want a channel id, a number from 1 (see mycel channel list)", s)
	}
	return id, nil
}

// getChannel reads a channel from the node, with an error that says what
// to do when there is none.
func (e *env) getChannel(ctx context.Context, c *client.Client, id uint64) (*paych.Channel, error) {
	ch, err := c.Channel(ctx, id)
	if client.IsNotFound(err) {
		return nil, fmt.Errorf("no channel %d on this chain (see mycel channel list)", id)
	}
	return ch, err
}

// walletDir is where the wallets of one chain live.
func (e *env) walletDir(chainID, role string, a types.Address) string {
	return filepath.Join(e.home, "paywallet", chainID, role+"-"+a.String())
}

// eventValue reads an attribute of a transaction's event, or fails.
func eventValue(r api.TxResult, typ, key string) (string, error) {
	v, ok := client.Event(r, typ, key)
	if !ok {
		return "", fmt.Errorf("transaction %s has no %s event with a %s", r.Hash, typ, key)
	}
	return v, nil
}

func parsePositive(flag, s string) (types.Amount, error) {
	if s == "" {
		return 0, fmt.Errorf("%s is required, for example %s 10myc", flag, flag)
	}
	a, err := types.ParseAmount(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", flag, err)
	}
	if a == 0 {
		return 0, fmt.Errorf("%s must be positive", flag)
	}
	return a, nil
}

func (e *env) channelOpenCmd() *cobra.Command {
	var f txFlags
	var to, amount, voucherKey string
	cmd := &cobra.Command{
		Use:   "open --to ADDR_OR_KEY --amount AMOUNT [--voucher-key KEY] --from KEY",
		Short: "Open a channel to a payee, locking a deposit; prints the channel's id",
		Long: `Open a one-way payment channel from --from to --to, moving --amount into the
channels' escrow. --voucher-key names the key in the keyring that will sign the
channel's vouchers (default: --from); it is fixed for the channel's life, so a
hot key can pay while the account key stays cold. The channel goes into the
payer's wallet of that key, so vouchers can be made offline afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if to == "" {
				return errors.New("--to is required: the payee's address or key name")
			}
			payee, err := e.resolveAddress(to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			amt, err := parsePositive("--amount", amount)
			if err != nil {
				return err
			}
			payer, err := e.signer()
			if err != nil {
				return err
			}
			vk := payer
			if voucherKey != "" {
				if vk, err = e.keyring().Get(voucherKey); err != nil {
					return fmt.Errorf("--voucher-key: %w (see mycel keys list)", err)
				}
			}
			if payee == payer.Address {
				return fmt.Errorf("--to %s is the payer itself: a channel pays someone else", to)
			}
			m := paych.MsgOpen{Payee: payee, VoucherKey: paych.KeyOf(vk.Private), Amount: amt}
			sub := f
			sub.async = false
			r, err := e.submit(ctx, &sub, []tx.Msg{{Kind: paych.KindOpen, Body: m.Encode()}}, fmt.Sprintf("open a channel to %s", payee))
			if err != nil {
				return err
			}
			idStr, err := eventValue(r, "channel_opened", "id")
			if err != nil {
				return err
			}
			id, _ := strconv.ParseUint(idStr, 10, 64)
			if err := e.trackPayer(ctx, e.client(), vk, id); err != nil {
				e.progress("warning: the channel is open but not in the payer's wallet yet: %v", err)
			}
			out := map[string]any{"id": idStr, "payer": payer.Address, "payee": payee, "deposit": amt, "voucher_key": m.VoucherKey,
				"tx": r.Hash, "height": r.Height}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "opened channel %s from %s to %s with %s (block %d, transaction %s)\n", idStr, payer.Address, payee, amt, r.Height, r.Hash)
				fmt.Fprintf(w, "pay with: mycel channel voucher %s --amount AMOUNT --from %s\n", idStr, vk.Name)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&to, "to", "", "the payee: an address or a key name")
	fl.StringVar(&amount, "amount", "", "the deposit, like 10myc")
	fl.StringVar(&voucherKey, "voucher-key", "", "the key in the keyring that signs the channel's vouchers (default: --from)")
	f.register(cmd)
	return cmd
}

// openPayer opens the payer's wallet of a voucher key for the node's
// chain; offline, the one wallet of that key in the home.
func (e *env) openPayer(ctx context.Context, c *client.Client, key keyring.Key) (*paywallet.Payer, bool, error) {
	online := true
	chainID, err := c.ChainID(ctx)
	if err != nil {
		online = false
		dirs, _ := filepath.Glob(filepath.Join(e.home, "paywallet", "*", "payer-"+key.Address.String()))
		if len(dirs) != 1 {
			return nil, false, fmt.Errorf("%w; offline, the payer's wallet of %s needs the node once (found %d wallets)", err, key.Name, len(dirs))
		}
		chainID = filepath.Base(filepath.Dir(dirs[0]))
	}
	p, err := paywallet.OpenPayer(e.walletDir(chainID, "payer", key.Address), chainID, key.Private)
	return p, online, err
}

// trackPayer records a channel in the payer's wallet of its voucher key.
func (e *env) trackPayer(ctx context.Context, c *client.Client, key keyring.Key, id uint64) error {
	p, _, err := e.openPayer(ctx, c, key)
	if err != nil {
		return err
	}
	defer p.Close()
	ch, err := e.getChannel(ctx, c, id)
	if err != nil {
		return err
	}
	return p.Track(*ch)
}

func (e *env) channelTopUpCmd() *cobra.Command {
	var f txFlags
	var amount string
	cmd := &cobra.Command{
		Use:   "topup ID --amount AMOUNT --from KEY",
		Short: "Add to the deposit of a channel you pay from (until it settles)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseChannelID(args[0])
			if err != nil {
				return err
			}
			amt, err := parsePositive("--amount", amount)
			if err != nil {
				return err
			}
			m := paych.MsgTopUp{Channel: id, Amount: amt}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{{Kind: paych.KindTopUp, Body: m.Encode()}}, fmt.Sprintf("top up channel %d with %s", id, amt))
		},
	}
	cmd.Flags().StringVar(&amount, "amount", "", "what to add, like 5myc")
	f.register(cmd)
	return cmd
}

func (e *env) channelListCmd() *cobra.Command {
	var payer, payee string
	var after uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--payer ADDR_OR_KEY] [--payee ADDR_OR_KEY] [--after ID] [--limit N]",
		Short: "List payment channels, by payer, payee or both",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := paych.Filter{After: after, Limit: limit}
			for _, p := range []struct {
				flag, v string
				dst     **types.Address
			}{{"--payer", payer, &f.Payer}, {"--payee", payee, &f.Payee}} {
				if p.v == "" {
					continue
				}
				a, err := e.resolveAddress(p.v)
				if err != nil {
					return fmt.Errorf("%s: %w", p.flag, err)
				}
				*p.dst = &a
			}
			cs, err := e.client().Channels(cmd.Context(), f)
			if err != nil {
				return err
			}
			if cs == nil {
				cs = []*paych.Channel{}
			}
			return e.print(cs, func(w io.Writer) {
				if len(cs) == 0 {
					fmt.Fprintln(w, "no channels")
					return
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "ID\tSTATE\tPAYER\tPAYEE\tDEPOSIT\tPAID\tLANES\tSETTLES AT\n")
				for _, c := range cs {
					settles := "-"
					if c.SettlingAt != 0 {
						settles = strconv.FormatInt(c.SettlingAt, 10)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", c.ID, c.State(), c.Payer, c.Payee, c.Deposit, c.Paid, c.LaneCount, settles)
				}
				tw.Flush()
				if len(cs) == limit {
					e.progress("more may follow: add --after %d", cs[len(cs)-1].ID)
				}
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&payer, "payer", "", "only the channels this address or key pays from")
	fl.StringVar(&payee, "payee", "", "only the channels that pay this address or key")
	fl.Uint64Var(&after, "after", 0, "start after this channel id (the last of the previous page)")
	fl.IntVar(&limit, "limit", 100, "channels to list at most (up to 1000)")
	return cmd
}

func (e *env) channelShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a channel: parties, voucher key, deposit, what was paid, settlement and lanes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseChannelID(args[0])
			if err != nil {
				return err
			}
			c, err := e.getChannel(cmd.Context(), e.client(), id)
			if err != nil {
				return err
			}
			return e.print(c, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "channel\t%d\n", c.ID)
				fmt.Fprintf(tw, "state\t%s\n", c.State())
				fmt.Fprintf(tw, "payer\t%s\n", c.Payer)
				fmt.Fprintf(tw, "payee\t%s\n", c.Payee)
				fmt.Fprintf(tw, "voucher key\t%s\n", c.VoucherKey)
				fmt.Fprintf(tw, "deposit\t%s\n", c.Deposit)
				fmt.Fprintf(tw, "paid\t%s\n", c.Paid)
				fmt.Fprintf(tw, "opened\tat height %d\n", c.Opened)
				if c.MinSettleHeight != 0 {
					fmt.Fprintf(tw, "min settle height\t%d\n", c.MinSettleHeight)
				}
				switch c.State() {
				case paych.StateSettling:
					fmt.Fprintf(tw, "settles at\theight %d (collect from then on)\n", c.SettlingAt)
				case paych.StateClosed:
					fmt.Fprintf(tw, "collected\tat height %d, %s refunded\n", c.Collected, c.Refunded)
				}
				for _, l := range c.Lanes {
					fmt.Fprintf(tw, "lane %d\tnonce %d, %s redeemed\n", l.Lane, l.Nonce, l.Redeemed)
				}
				tw.Flush()
			})
		},
	}
}

func (e *env) channelVoucherCmd() *cobra.Command {
	var amount, add, task string
	var lane, nonce uint64
	var minSettle, expiry int64
	var unchecked bool
	cmd := &cobra.Command{
		Use:   "voucher ID (--amount TOTAL | --add AMOUNT) [--lane N | --task NAME] [--nonce N] [--min-settle H] [--expiry H] --from KEY",
		Short: "Make a signed voucher (no transaction): prints it, as JSON with -o json",
		Long: `Make a voucher of a channel, signed by --from, the channel's voucher key. It
needs no transaction: hand it to the payee, who checks it offline (mycel channel
accept) and redeems it on chain (mycel channel redeem) whenever it likes.

Amounts are cumulative per lane: --amount is the lane's new total, --add what
this voucher adds to the lane's last one. The payer's wallet in --home keeps the
last voucher of each lane, so the nonce goes up by one each time (or give
--nonce). --task gives each task (each request stream, each counterparty) a lane
of its own. The wallet refuses to promise more over all lanes than the deposit
as last seen; --unchecked skips its rules, to make vouchers the chain refuses.

The text output is the voucher's compact form (base64url of its binary
encoding); -o json prints its JSON form. Both are what --voucher FILE reads.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseChannelID(args[0])
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			if fl.Changed("amount") == fl.Changed("add") {
				return errors.New("give --amount TOTAL (the lane's new cumulative amount) or --add AMOUNT (added to the lane's last voucher)")
			}
			if fl.Changed("lane") && task != "" {
				return errors.New("give --lane or --task, not both")
			}
			req := paywallet.VoucherRequest{Channel: id, Lane: lane, Nonce: nonce, MinSettleHeight: minSettle, Expiry: expiry, Unchecked: unchecked}
			if fl.Changed("amount") {
				if req.Amount, err = types.ParseAmount(amount); err != nil {
					return fmt.Errorf("--amount: %w", err)
				}
			} else if req.Add, err = parsePositive("--add", add); err != nil {
				return err
			}
			if minSettle < 0 || expiry < 0 {
				return errors.New("--min-settle and --expiry are heights: 0 or more")
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			c := e.client()
			p, online, err := e.openPayer(ctx, c, key)
			if err != nil {
				return err
			}
			defer p.Close()
			if online {
				ch, err := e.getChannel(ctx, c, id)
				if err != nil {
					return err
				}
				if ch.VoucherKey != p.Key() {
					return fmt.Errorf("channel %d's vouchers are signed by key %s; --from %s is %s (pass the --voucher-key the channel was opened with)",
						id, ch.VoucherKey, key.Name, p.Key())
				}
				if err := p.Track(*ch); err != nil {
					return err
				}
			} else if _, ok := p.Channel(id); !ok {
				return fmt.Errorf("channel %d is not in %s's wallet and the node cannot be reached", id, key.Name)
			} else {
				e.progress("the node cannot be reached: using channel %d as last seen", id)
			}
			if task != "" {
				if req.Lane, err = p.Lane(id, task); err != nil {
					return fmt.Errorf("--task: %w", err)
				}
			}
			last, _ := p.Last(id, req.Lane)
			v, err := p.Make(req)
			if err != nil {
				return err
			}
			ch, _ := p.Channel(id)
			adds := "a lower amount than the lane's last: it pays nothing"
			if v.Amount >= last.Amount {
				adds = "adds " + (v.Amount - last.Amount).String()
			}
			e.progress("voucher %s: %s on lane %d (%s); the channel's lanes now promise %s of its %s deposit",
				v.Ref(), v.Amount, v.Lane, adds, p.Promised(id), ch.Deposit)
			e.progress("the payee redeems it with: mycel channel redeem %d --voucher FILE --from PAYEE_KEY", id)
			return e.print(v, func(w io.Writer) { fmt.Fprintln(w, v.String()) })
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&amount, "amount", "", "the lane's new cumulative amount, like 3myc")
	fl.StringVar(&add, "add", "", "the amount to add to the lane's last voucher")
	fl.Uint64Var(&lane, "lane", 0, "the lane")
	fl.StringVar(&task, "task", "", "a task label: the wallet gives each task a lane of its own")
	fl.Uint64Var(&nonce, "nonce", 0, "the nonce (default: the lane's next)")
	fl.Int64Var(&minSettle, "min-settle", 0, "a minimum settle height the voucher imposes once redeemed")
	fl.Int64Var(&expiry, "expiry", 0, "the last height at which the voucher may be redeemed (0: never expires)")
	fl.BoolVar(&unchecked, "unchecked", false, "skip the wallet's rules (to test the chain's refusals)")
	return cmd
}

// readVoucher reads a voucher file: its JSON or compact form; "-" is
// standard input.
func readVoucher(path string) (paych.Voucher, error) {
	if path == "" {
		return paych.Voucher{}, errors.New("--voucher FILE is required: a voucher from mycel channel voucher (JSON or compact)")
	}
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return paych.Voucher{}, fmt.Errorf("--voucher: %w", err)
	}
	v, err := paych.ParseVoucher(string(b))
	if err != nil {
		return v, fmt.Errorf("--voucher %s: %w", path, err)
	}
	return v, nil
}

// voucherFor reads a voucher file for a channel and checks it offline
// against the channel as the node shows it.
func (e *env) voucherFor(ctx context.Context, c *client.Client, id uint64, path string) (paych.Voucher, *paych.Channel, error) {
	v, err := readVoucher(path)
	if err != nil {
		return v, nil, err
	}
	if v.Channel != id {
		return v, nil, fmt.Errorf("--voucher %s is a voucher of channel %d, not of channel %d", path, v.Channel, id)
	}
	ch, err := e.getChannel(ctx, c, id)
	if err != nil {
		return v, nil, err
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return v, nil, err
	}
	if err := v.Verify(chainID, ch.VoucherKey); err != nil {
		return v, nil, fmt.Errorf("--voucher %s: %w (a voucher counts only as its payer signed it: same chain, channel, lane, nonce and amount)", path, err)
	}
	return v, ch, nil
}

func (e *env) channelRedeemCmd() *cobra.Command {
	var f txFlags
	var voucherPath string
	cmd := &cobra.Command{
		Use:   "redeem ID --voucher FILE --from KEY",
		Short: "Redeem a voucher on chain, as the channel's payee: it pays what it adds to its lane",
		Long: `Redeem a voucher (JSON or compact, as mycel channel voucher prints it; - for
standard input). Only the channel's payee may; the voucher must carry a nonce
above its lane's, and pays its amount less what the lane already redeemed, at
once. Until the channel's settle height the payee can redeem a better voucher
of the same lane later.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseChannelID(args[0])
			if err != nil {
				return err
			}
			c := e.client()
			v, ch, err := e.voucherFor(ctx, c, id, voucherPath)
			if err != nil {
				return err
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			if key.Address != ch.Payee {
				return fmt.Errorf("channel %d pays %s; --from %s is %s: only the payee redeems", id, ch.Payee, key.Name, key.Address)
			}
			sub := f
			sub.async = false
			r, err := e.submit(ctx, &sub, []tx.Msg{{Kind: paych.KindRedeem, Body: paych.MsgRedeem{Voucher: v}.Encode()}},
				fmt.Sprintf("redeem voucher %s", v.Ref()))
			if err != nil {
				return err
			}
			paidStr, err := eventValue(r, "voucher_redeemed", "paid")
			if err != nil {
				return err
			}
			paid, _ := strconv.ParseUint(paidStr, 10, 64)
			out := map[string]any{"channel": strconv.FormatUint(id, 10), "lane": strconv.FormatUint(v.Lane, 10),
				"nonce": strconv.FormatUint(v.Nonce, 10), "amount": v.Amount, "paid": types.Amount(paid), "tx": r.Hash, "height": r.Height}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "redeemed voucher %s: paid %s (lane %d now at %s) in block %d, transaction %s\n",
					v.Ref(), types.Amount(paid), v.Lane, v.Amount, r.Height, r.Hash)
			})
		},
	}
	cmd.Flags().StringVar(&voucherPath, "voucher", "", "the voucher's file (JSON or compact; - for standard input)")
	f.register(cmd)
	return cmd
}

func (e *env) channelSettleCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "settle ID --from KEY",
		Short: "Start a channel's challenge period, as its payer or payee; collect after it",
		Long: `Settle a channel: its settle height becomes now plus the challenge period, or
the highest minimum settle height of the vouchers redeemed if later. Until then
the payee can still redeem its best vouchers (its watcher does it at once); from
then on either side may collect.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseChannelID(args[0])
			if err != nil {
				return err
			}
			sub := f
			sub.async = false
			r, err := e.submit(cmd.Context(), &sub, []tx.Msg{{Kind: paych.KindSettle, Body: paych.MsgChannel{Channel: id}.Encode()}},
				fmt.Sprintf("settle channel %d", id))
			if err != nil {
				return err
			}
			at, err := eventValue(r, "channel_settling", "settling_at")
			if err != nil {
				return err
			}
			h, _ := strconv.ParseInt(at, 10, 64)
			out := map[string]any{"id": strconv.FormatUint(id, 10), "settling_at": h, "tx": r.Hash, "height": r.Height}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "channel %d settles at height %d (block %d, transaction %s); collect from then on with: mycel channel collect %d\n",
					id, h, r.Height, r.Hash, id)
			})
		},
	}
	f.register(cmd)
	return cmd
}

func (e *env) channelCollectCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "collect ID --from KEY",
		Short: "Close a settled channel: the rest of the deposit goes back to the payer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseChannelID(args[0])
			if err != nil {
				return err
			}
			sub := f
			sub.async = false
			r, err := e.submit(cmd.Context(), &sub, []tx.Msg{{Kind: paych.KindCollect, Body: paych.MsgChannel{Channel: id}.Encode()}},
				fmt.Sprintf("collect channel %d", id))
			if err != nil {
				return err
			}
			paidStr, err := eventValue(r, "channel_collected", "paid")
			if err != nil {
				return err
			}
			refStr, _ := eventValue(r, "channel_collected", "refunded")
			paid, _ := strconv.ParseUint(paidStr, 10, 64)
			ref, _ := strconv.ParseUint(refStr, 10, 64)
			out := map[string]any{"id": strconv.FormatUint(id, 10), "paid": types.Amount(paid), "refunded": types.Amount(ref),
				"tx": r.Hash, "height": r.Height}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "collected channel %d: %s paid to the payee in all, %s back to the payer (block %d, transaction %s)\n",
					id, types.Amount(paid), types.Amount(ref), r.Height, r.Hash)
			})
		},
	}
	f.register(cmd)
	return cmd
}

// openPayee opens the payee's wallet of key for the node's chain.
func (e *env) openPayee(ctx context.Context, c *client.Client, key keyring.Key) (*paywallet.Payee, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	return paywallet.OpenPayee(e.walletDir(chainID, "payee", key.Address), chainID, key.Address, paywallet.PayeeOptions{})
}

func (e *env) channelAcceptCmd() *cobra.Command {
	var voucherPath, price string
	cmd := &cobra.Command{
		Use:   "accept ID --voucher FILE [--price AMOUNT] --from KEY",
		Short: "Check a voucher offline as the payee and keep it as its lane's best (durably)",
		Long: `Check a voucher as the channel's payee, offline (no transaction): its signature
under the channel's key, a nonce above the lane's, an amount within the deposit
and, with --price, an increment over the lane's best voucher that covers it. A
voucher that passes is kept in the payee's wallet under --home, written and
synced before this command returns; mycel channel watch redeems the best of
each lane when the payer settles.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseChannelID(args[0])
			if err != nil {
				return err
			}
			v, err := readVoucher(voucherPath)
			if err != nil {
				return err
			}
			if v.Channel != id {
				return fmt.Errorf("--voucher %s is a voucher of channel %d, not of channel %d", voucherPath, v.Channel, id)
			}
			var want types.Amount
			if price != "" {
				if want, err = types.ParseAmount(price); err != nil {
					return fmt.Errorf("--price: %w", err)
				}
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			c := e.client()
			p, err := e.openPayee(ctx, c, key)
			if err != nil {
				return err
			}
			defer p.Close()
			ch, err := e.getChannel(ctx, c, id)
			if err != nil {
				return err
			}
			if err := p.Track(*ch); err != nil {
				return fmt.Errorf("%w: --from %s is not the channel's payee", err, key.Name)
			}
			if st, err := c.Status(ctx); err == nil {
				p.SetHeight(st.Height)
			}
			pay, err := p.Accept(v, want)
			if err != nil {
				return fmt.Errorf("voucher %s refused: %w", v.Ref(), err)
			}
			out := map[string]any{"channel": strconv.FormatUint(id, 10), "lane": strconv.FormatUint(v.Lane, 10),
				"nonce": strconv.FormatUint(v.Nonce, 10), "amount": v.Amount, "adds": pay}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "accepted voucher %s: adds %s to lane %d (now %s)\n", v.Ref(), pay, v.Lane, v.Amount)
			})
		},
	}
	cmd.Flags().StringVar(&voucherPath, "voucher", "", "the voucher's file (JSON or compact; - for standard input)")
	cmd.Flags().StringVar(&price, "price", "", "the least the voucher must add to its lane")
	return cmd
}

func (e *env) channelWatchCmd() *cobra.Command {
	var once bool
	var every time.Duration
	var fee, above string
	cmd := &cobra.Command{
		Use:   "watch [--once] [--every DUR] [--redeem-above AMOUNT] --from KEY",
		Short: "Watch the channels that pay you: redeem the best vouchers as soon as a payer settles",
		Long: `Run the payee's watcher: it follows the channels that pay --from and, as soon as
one is settling, redeems the best voucher of each lane (kept by mycel channel
accept) that the chain has not counted, before the settle height; vouchers whose
expiry comes near are redeemed too. --redeem-above also redeems a lane of an
open channel once it has grown that much past what the chain counted
(--redeem-above 1umyc --once: redeem everything now). --once does one round
and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			key, err := e.signer()
			if err != nil {
				return err
			}
			c := e.client()
			p, err := e.openPayee(ctx, c, key)
			if err != nil {
				return err
			}
			defer p.Close()
			chain := client.Payee{Client: c, Key: key.Private}
			if fee != "" {
				a, err := types.ParseAmount(fee)
				if err != nil {
					return fmt.Errorf("--fee: %w", err)
				}
				chain.Options.Fee = &a
			}
			var redeemAbove types.Amount
			if above != "" {
				if redeemAbove, err = types.ParseAmount(above); err != nil {
					return fmt.Errorf("--redeem-above: %w", err)
				}
			}
			var actions []string
			w := &paywallet.Watcher{Payee: p, Chain: chain, Every: every, RedeemAbove: redeemAbove,
				Logf: func(format string, args ...any) {
					msg := fmt.Sprintf(format, args...)
					actions = append(actions, msg)
					e.progress("%s", strings.TrimPrefix(msg, "paywallet: "))
				}}
			if !once {
				e.progress("watching the channels that pay %s (interrupt to stop) ...", key.Address)
				if err := w.Run(ctx); err != nil && ctx.Err() == nil {
					return err
				}
				return nil
			}
			if err := w.Poll(ctx); err != nil {
				return err
			}
			if actions == nil {
				actions = []string{}
			}
			out := map[string]any{"channels": len(p.Channels()), "actions": actions}
			return e.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "watched %d channels; %d actions\n", len(p.Channels()), len(actions))
			})
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "one round, then exit")
	cmd.Flags().DurationVar(&every, "every", 2*time.Second, "how often to poll the node")
	cmd.Flags().StringVar(&fee, "fee", "", "the fee of each redeem (default: the least the fee schedule asks)")
	cmd.Flags().StringVar(&above, "redeem-above", "", "also redeem a lane of an open channel once it has grown this much past what the chain counted")
	return cmd
}
