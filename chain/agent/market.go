package agent

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// delist ends an agent's market listing, if it has one.
func delist(kv store.KV, a *Agent) {
	if a.ForSale {
		kv.Delete(saleKey(a.ID))
	}
	a.ForSale, a.SalePrice = false, 0
}

// checkChannels refuses a sale while the owner has payment channels that
// can still move funds.
func (k Keeper) checkChannels(ctx exec.Ctx, a *Agent, what string) error {
	if k.Channels == nil {
		return nil
	}
	if ids := k.Channels.Open(ctx.KV, ctx.Block.Height, a.Owner); len(ids) > 0 {
		return ErrOpenChannels.Wrapf("cannot %s agent %d: its owner %s has payment channel %s open; settle them (mycel channel settle ID) and try again after their settle height",
			what, a.ID, a.Owner, idList(ids))
	}
	return nil
}

// HandleListForSale lists an agent the signer owns on the market, or
// changes its price.
func (k Keeper) HandleListForSale(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgListForSale(body)
	if err != nil {
		return err
	}
	a, err := owned(ctx, signer, m.Agent, "sell it", Active, Expired)
	if err != nil {
		return err
	}
	if m.Price == 0 {
		return ErrInvalidAmount.Wrapf("a sale price must be positive; to give the agent away, transfer it")
	}
	if err := k.checkChannels(ctx, a, "list"); err != nil {
		return err
	}
	a.ForSale, a.SalePrice = true, m.Price
	ctx.KV.Set(saleKey(a.ID), []byte{})
	save(ctx.KV, a, ctx.Block.Height)
	ctx.Emit(types.NewEvent("agent_listed", "id", idStr(a.ID), "owner", a.Owner.String(), "price", amt(a.SalePrice)))
	return nil
}

// HandleDelist takes an agent the signer owns off the market.
func (k Keeper) HandleDelist(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgAgent(body)
	if err != nil {
		return err
	}
	a, err := owned(ctx, signer, m.Agent, "delist it", Active, Expired)
	if err != nil {
		return err
	}
	if !a.ForSale {
		return ErrNotForSale.Wrapf("agent %d is not listed", a.ID)
	}
	delist(ctx.KV, a)
	save(ctx.KV, a, ctx.Block.Height)
	ctx.Emit(types.NewEvent("agent_delisted", "id", idStr(a.ID)))
	return nil
}

// HandleBuy buys a listed agent in one step: the buyer pays the seller the
// sale price, the agent (with its deposit, reputation and memberships)
// becomes the buyer's, and its signing key is cleared until the buyer
// sets one.
func (k Keeper) HandleBuy(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgBuy(body)
	if err != nil {
		return err
	}
	a := Get(ctx.KV, m.Agent)
	if a == nil {
		return ErrUnknownAgent.Wrapf("no agent %d", m.Agent)
	}
	if !a.ForSale {
		return ErrNotForSale.Wrapf("agent %d is not listed (see mycel market list)", a.ID)
	}
	if err := allow(a, "buy it", Active, Expired); err != nil {
		return err
	}
	if signer == a.Owner {
		return ErrInvalidOwner.Wrapf("%s already owns agent %d", signer, a.ID)
	}
	if a.SalePrice > m.MaxPrice {
		return ErrPriceMoved.Wrapf("agent %d sells for %s, more than the %s offered", a.ID, a.SalePrice, m.MaxPrice)
	}
	if err := k.checkChannels(ctx, a, "buy"); err != nil {
		return err
	}
	price, seller := a.SalePrice, a.Owner
	if err := k.Bank.Send(ctx.KV, signer, seller, price); err != nil {
		return err
	}
	h := ctx.Block.Height
	changeOwner(ctx.KV, a, signer, h)
	save(ctx.KV, a, h)
	ctx.Emit(types.NewEvent("agent_sold", "id", idStr(a.ID), "owner", a.Owner.String(), "previous_owner", seller.String(),
		"price", amt(price)))
	return nil
}
