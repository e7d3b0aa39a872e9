package paych

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Bank is what payment channels need of the bank.
type Bank interface {
	Send(kv store.KV, from, to types.Address, amount types.Amount) error
	Balance(r store.Reader, a types.Address) types.Amount
}

// Keeper is the payment channels module with the bank it moves funds
// through.
type Keeper struct {
	Bank Bank
}

func idStr(id uint64) string { return types.U64(id) }

// HandleOpen opens a channel from the signer, moving the deposit into
// escrow.
func (k Keeper) HandleOpen(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgOpen(body)
	if err != nil {
		return err
	}
	p := GetParams(ctx.KV)
	switch {
	case m.Payee.IsZero():
		return ErrInvalidPayee.Wrapf("the zero address cannot be paid")
	case m.Payee == signer:
		return ErrInvalidPayee.Wrapf("%s cannot open a channel to itself", signer)
	case m.Payee == Escrow:
		return ErrInvalidPayee.Wrapf("%s is the channels' escrow account", m.Payee)
	case m.VoucherKey.IsZero():
		return ErrInvalidKey.Wrapf("the zero key signs nothing; name the key that will sign vouchers")
	case m.Amount < p.MinDeposit:
		return ErrInvalidAmount.Wrapf("deposit %s is below the minimum of %s", m.Amount, p.MinDeposit)
	}
	if err := k.Bank.Send(ctx.KV, signer, Escrow, m.Amount); err != nil {
		return err
	}
	c := &Channel{ID: nextID(ctx.KV), Payer: signer, Payee: m.Payee, VoucherKey: m.VoucherKey, Deposit: m.Amount,
		Opened: ctx.Block.Height}
	putChannel(ctx.KV, c)
	ctx.KV.Set(payerKey(c.Payer, c.ID), []byte{})
	ctx.KV.Set(payeeKey(c.Payee, c.ID), []byte{})
	ctx.Emit(types.NewEvent("channel_opened", "id", idStr(c.ID), "payer", c.Payer.String(), "payee", c.Payee.String(),
		"amount", types.U64(uint64(c.Deposit))))
	return nil
}

// channel reads a channel that is not closed.
func channel(ctx exec.Ctx, id uint64) (*Channel, error) {
	c := getRecord(ctx.KV, id)
	if c == nil {
		return nil, ErrUnknownChannel.Wrapf("no channel %d", id)
	}
	if c.Collected != 0 {
		return nil, ErrClosed.Wrapf("channel %d was collected at height %d", id, c.Collected)
	}
	return c, nil
}

// HandleTopUp adds to the deposit of a channel the signer pays from, until
// it settles.
func (k Keeper) HandleTopUp(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgTopUp(body)
	if err != nil {
		return err
	}
	c, err := channel(ctx, m.Channel)
	if err != nil {
		return err
	}
	switch {
	case c.Payer != signer:
		return ErrNotPayer.Wrapf("channel %d is paid from %s, not %s", c.ID, c.Payer, signer)
	case c.SettlingAt != 0:
		return ErrSettling.Wrapf("channel %d settles at height %d; open a new channel", c.ID, c.SettlingAt)
	case m.Amount == 0:
		return ErrInvalidAmount.Wrapf("a top-up must be positive")
	}
	dep, err := c.Deposit.Add(m.Amount)
	if err != nil {
		return ErrOverflow.Wrapf("deposit %s + %s", c.Deposit, m.Amount)
	}
	if err := k.Bank.Send(ctx.KV, signer, Escrow, m.Amount); err != nil {
		return err
	}
	c.Deposit = dep
	putChannel(ctx.KV, c)
	ctx.Emit(types.NewEvent("channel_topped_up", "id", idStr(c.ID), "amount", types.U64(uint64(m.Amount)),
		"deposit", types.U64(uint64(c.Deposit))))
	return nil
}

// HandleRedeem redeems a voucher for the channel's payee: it pays what the
// voucher adds to its lane, at once.
func (k Keeper) HandleRedeem(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgRedeem(body)
	if err != nil {
		return err
	}
	v := m.Voucher
	c, err := channel(ctx, v.Channel)
	if err != nil {
		return err
	}
	h := ctx.Block.Height
	switch {
	case c.Payee != signer:
		return ErrNotPayee.Wrapf("channel %d pays %s; %s cannot redeem its vouchers", c.ID, c.Payee, signer)
	case c.SettlingAt != 0 && h >= c.SettlingAt:
		return ErrSettled.Wrapf("channel %d settled at height %d; no voucher counts any more (collect it)", c.ID, c.SettlingAt)
	}
	if err := v.Verify(ctx.Block.ChainID, c.VoucherKey); err != nil {
		return err
	}
	if v.Expiry != 0 && h > v.Expiry {
		return ErrVoucherExpired.Wrapf("voucher %s expired at height %d; the height is %d", v.Ref(), v.Expiry, h)
	}
	lane, existed := getLane(ctx.KV, c.ID, v.Lane)
	if v.Nonce <= lane.Nonce {
		return ErrStaleNonce.Wrapf("voucher %s: lane %d of channel %d is at nonce %d", v.Ref(), v.Lane, c.ID, lane.Nonce)
	}
	var pay types.Amount
	if v.Amount > lane.Redeemed {
		pay = v.Amount - lane.Redeemed
		paid, err := c.Paid.Add(pay)
		if err != nil {
			return ErrOverflow.Wrapf("paid %s + %s", c.Paid, pay)
		}
		if paid > c.Deposit {
			return ErrExceedsDeposit.Wrapf("voucher %s adds %s to the %s paid from channel %d, whose deposit is %s",
				v.Ref(), pay, c.Paid, c.ID, c.Deposit)
		}
		if err := k.Bank.Send(ctx.KV, Escrow, c.Payee, pay); err != nil {
			return err
		}
		c.Paid = paid
		lane.Redeemed = v.Amount
	}
	lane.Nonce = v.Nonce
	putLane(ctx.KV, c.ID, lane)
	if !existed {
		c.LaneCount++
	}
	if v.MinSettleHeight > c.MinSettleHeight {
		c.MinSettleHeight = v.MinSettleHeight
	}
	if c.SettlingAt != 0 && c.SettlingAt < v.MinSettleHeight {
		c.SettlingAt = v.MinSettleHeight
	}
	putChannel(ctx.KV, c)
	ctx.Emit(types.NewEvent("voucher_redeemed", "id", idStr(c.ID), "lane", types.U64(v.Lane), "nonce", types.U64(v.Nonce),
		"amount", types.U64(uint64(v.Amount)), "paid", types.U64(uint64(pay))))
	return nil
}

// party checks that the signer is the channel's payer or payee.
func party(c *Channel, signer types.Address) error {
	if signer != c.Payer && signer != c.Payee {
		return ErrNotParty.Wrapf("channel %d is between %s and %s, not %s", c.ID, c.Payer, c.Payee, signer)
	}
	return nil
}

// HandleSettle starts the challenge period of a channel, for its payer or
// payee.
func (k Keeper) HandleSettle(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgChannel(body)
	if err != nil {
		return err
	}
	c, err := channel(ctx, m.Channel)
	if err != nil {
		return err
	}
	if err := party(c, signer); err != nil {
		return err
	}
	if c.SettlingAt != 0 {
		return ErrSettling.Wrapf("channel %d already settles at height %d", c.ID, c.SettlingAt)
	}
	c.SettlingAt = max(ctx.Block.Height+GetParams(ctx.KV).SettleBlocks, c.MinSettleHeight)
	putChannel(ctx.KV, c)
	ctx.Emit(types.NewEvent("channel_settling", "id", idStr(c.ID), "by", signer.String(), "settling_at", types.U64(uint64(c.SettlingAt))))
	return nil
}

// HandleCollect closes a channel whose settle height has come, for its
// payer or payee: the rest of the deposit goes back to the payer (what
// vouchers paid left at redeem time).
func (k Keeper) HandleCollect(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgChannel(body)
	if err != nil {
		return err
	}
	c, err := channel(ctx, m.Channel)
	if err != nil {
		return err
	}
	if err := party(c, signer); err != nil {
		return err
	}
	switch {
	case c.SettlingAt == 0:
		return ErrNotSettled.Wrapf("channel %d is not settling; settle it first (mycel channel settle %d)", c.ID, c.ID)
	case ctx.Block.Height < c.SettlingAt:
		return ErrNotSettled.Wrapf("channel %d settles at height %d; the height is %d", c.ID, c.SettlingAt, ctx.Block.Height)
	}
	refund := c.Remaining()
	if refund > 0 {
		if err := k.Bank.Send(ctx.KV, Escrow, c.Payer, refund); err != nil {
			return err
		}
	}
	for _, l := range lanes(ctx.KV, c.ID) {
		ctx.KV.Delete(laneKey(c.ID, l.Lane))
	}
	c.Refunded, c.Collected, c.LaneCount = refund, ctx.Block.Height, 0
	putChannel(ctx.KV, c)
	ctx.Emit(types.NewEvent("channel_collected", "id", idStr(c.ID), "by", signer.String(), "paid", types.U64(uint64(c.Paid)),
		"refunded", types.U64(uint64(refund))))
	return nil
}
