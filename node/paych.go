package node

import (
	"context"
	"fmt"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/chain/paych"
)

func (b *backend) Channel(_ context.Context, id uint64) (*paych.Channel, error) {
	c, ok := b.n.app.Channel(id)
	if !ok {
		return nil, fmt.Errorf("%w: no channel %d (see GET /v1/channels)", api.ErrNotFound, id)
	}
	return c, nil
}

func (b *backend) Channels(_ context.Context, f paych.Filter) ([]*paych.Channel, error) {
	return b.n.app.Channels(f), nil
}
