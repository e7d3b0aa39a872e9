package app

import (
	"github.com/mycelnet/mycel/chain/paych"
)

var _ paych.Bank = bankKeeper{}

// paychKeeper is the payment channels module wired to the bank.
func paychKeeper() paych.Keeper { return paych.Keeper{Bank: bankKeeper{}} }

// Channel reads a payment channel with its lanes.
func (a *App) Channel(id uint64) (*paych.Channel, bool) {
	c := paych.Get(a.db.State(), id)
	return c, c != nil
}

// Channels lists payment channels, by payer, payee or both, in id order.
func (a *App) Channels(f paych.Filter) []*paych.Channel {
	snap := a.db.Snapshot()
	defer snap.Close()
	return paych.List(snap.State(), f)
}

// PaychParams returns the payment channels' rules.
func (a *App) PaychParams() paych.Params { return paych.GetParams(a.db.State()) }
