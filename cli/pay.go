package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
	"github.com/mycelnet/mycel/worker/provider"
)

// providerPayments makes a provider's models paid at price per generated
// token: it opens the provider's payee wallet in the home (the one mycel
// channel accept and watch use) for the node's chain. A zero price
// returns nil: free.
func (e *env) providerPayments(ctx context.Context, c *client.Client, key ed25519.PrivateKey, price string) (*provider.Payments, func(), error) {
	p, err := types.ParseAmount(price)
	if err != nil {
		return nil, nil, fmt.Errorf("--price-per-token: %w", err)
	}
	if p == 0 {
		return nil, func() {}, nil
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, nil, err
	}
	addr := types.AddressFromPubKey(key.Public().(ed25519.PublicKey))
	w, err := paywallet.OpenPayee(e.walletDir(chainID, "payee", addr), chainID, addr, paywallet.PayeeOptions{})
	if err != nil {
		return nil, nil, err
	}
	return &provider.Payments{PricePerToken: p, Wallet: w, Chain: client.Payee{Client: c, Key: key}}, func() { w.Close() }, nil
}
