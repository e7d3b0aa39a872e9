package client

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// RegistryModels lists registered models: all of them in hash order, or
// those named f.Name in registration order, narrowed to f.Owner if set.
// Pass the last hash of a page as f.After for the next.
func (c *Client) RegistryModels(ctx context.Context, f model.Filter) ([]*model.Model, error) {
	v := url.Values{}
	if f.Name != "" {
		v.Set("name", f.Name)
	}
	if f.Owner != nil {
		v.Set("owner", f.Owner.String())
	}
	if !f.After.IsZero() {
		v.Set("after", f.After.String())
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	var ms []*model.Model
	err := c.do(ctx, http.MethodGet, "/v1/registry/models?"+v.Encode(), nil, nil, &ms)
	return ms, err
}

// RegistryModel reads a registered model; IsNotFound(err) when the hash
// is not registered.
func (c *Client) RegistryModel(ctx context.Context, h types.Hash) (*model.Model, error) {
	var m model.Model
	if err := c.do(ctx, http.MethodGet, "/v1/registry/models/"+h.String(), nil, nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// RegisterModel signs and submits a registration of a model owned by
// key. The file's bytes go to the blob store separately (PutBlob).
func (c *Client) RegisterModel(ctx context.Context, key ed25519.PrivateKey, m model.MsgRegisterModel, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: model.KindRegisterModel, Body: m.Encode()}}, o)
}

// UpdateModel signs and submits a new name, license and description of a
// model key owns.
func (c *Client) UpdateModel(ctx context.Context, key ed25519.PrivateKey, m model.MsgUpdateModel, o TxOptions) (api.SubmitResult, error) {
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: model.KindUpdateModel, Body: m.Encode()}}, o)
}

// TransferModel signs and submits the transfer of a model key owns.
func (c *Client) TransferModel(ctx context.Context, key ed25519.PrivateKey, h types.Hash, to types.Address, o TxOptions) (api.SubmitResult, error) {
	m := model.MsgTransferModel{Hash: h, NewOwner: to}
	return c.Broadcast(ctx, key, []tx.Msg{{Kind: model.KindTransferModel, Body: m.Encode()}}, o)
}
