// Package apitest holds what tests of the API's clients and providers
// share: a chain behind the API with only what the gateway's free routes
// ask of it.
package apitest

import (
	"context"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/types"
)

// OneProvider is a chain with one registered provider, Addr, and no
// registered models. Its other Backend methods are nil (calling one
// panics): a test that reaches them needs a real node.
type OneProvider struct {
	api.Backend
	Addr types.Address
}

// Provider returns the one provider.
func (b OneProvider) Provider(_ context.Context, a types.Address) (app.ProviderInfo, error) {
	if a != b.Addr {
		return app.ProviderInfo{}, api.ErrNotFound
	}
	return app.ProviderInfo{}, nil
}

// RegistryModel finds no model.
func (OneProvider) RegistryModel(context.Context, types.Hash) (*model.Model, error) {
	return nil, api.ErrNotFound
}
