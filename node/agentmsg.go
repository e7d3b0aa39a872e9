package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/blobstore"
	"github.com/mycelnet/mycel/mailbox"
)

// openMessaging opens the agents' mailboxes under the node's data
// directory and gives the API what messaging needs: the registry as the
// chain has it, the mailboxes, and a relay key, new at every start, that
// signs the envelopes the node relays from A2A clients (agents see them
// as coming from an anonymous sender).
func (n *Node) openMessaging(chainID string) (*api.Messaging, error) {
	store, err := mailbox.Open(filepath.Join(n.conf.DBDir(), "mailbox"), mailbox.Options{}, n.log.With("module", "mailbox"))
	if err != nil {
		return nil, err
	}
	n.mailbox = store
	_, relay, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	return &api.Messaging{ChainID: chainID, Agents: agentDirectory{n}, Mailbox: store, RelayKey: relay}, nil
}

// collectMail deletes expired mailbox messages every minute.
func (n *Node) collectMail(ctx context.Context) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if k, err := n.mailbox.Collect(now); err != nil {
					n.log.Error("collect expired mail", "err", err)
				} else if k > 0 {
					n.log.Debug("collected expired mail", "count", k)
				}
			}
		}
	}()
}

// agentDirectory is the agent registry as messaging sees it.
type agentDirectory struct{ n *Node }

var _ api.AgentDirectory = agentDirectory{}

func (d agentDirectory) AgentRecord(_ context.Context, id uint64) (api.AgentRecord, error) {
	info, ok := d.n.app.Agent(id)
	if !ok || info.Agent == nil {
		return api.AgentRecord{}, fmt.Errorf("%w: no agent %d (see GET /v1/agents)", api.ErrNotFound, id)
	}
	return api.AgentRecord{ID: id, Owner: info.Owner, SigningKey: [32]byte(info.SigningKey), Endpoint: info.Endpoint,
		Listed: info.Listed(d.n.Height())}, nil
}

func (d agentDirectory) AgentCard(ctx context.Context, id uint64) ([]byte, error) {
	info, ok := d.n.app.Agent(id)
	if !ok || info.Agent == nil {
		return nil, fmt.Errorf("%w: no agent %d", api.ErrNotFound, id)
	}
	f, _, err := d.n.blobs.Open(info.CardHash)
	if errors.Is(err, blobstore.ErrNotFound) {
		if ferr := d.n.fetch.fetch(ctx, info.CardHash); ferr == nil {
			f, _, err = d.n.blobs.Open(info.CardHash)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("agent %d's card %s: %w", id, info.CardHash, err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(info.CardSize)+1))
}
