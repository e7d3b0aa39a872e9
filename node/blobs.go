package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/mycelnet/mycel/blobstore"
	"github.com/mycelnet/mycel/types"
)

// fetcher brings blobs this node lacks from its peers' blob stores, so
// that a provider and its client may use different nodes.
type fetcher struct {
	blobs *blobstore.Store
	peers []string
	http  *http.Client
	// One fetch per blob at a time.
	mu       sync.Mutex
	inflight map[types.Hash]chan struct{}
}

func newFetcher(blobs *blobstore.Store, peers []string) *fetcher {
	return &fetcher{blobs: blobs, peers: peers, http: &http.Client{Timeout: 60 * time.Second}, inflight: map[types.Hash]chan struct{}{}}
}

// fetch makes the blob local, asking each peer in turn (for what it holds
// itself, so requests never loop) and checking the content's hash.
func (f *fetcher) fetch(ctx context.Context, h types.Hash) error {
	if f.blobs.Has(h) {
		return nil
	}
	f.mu.Lock()
	if ch, ok := f.inflight[h]; ok {
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.blobs.Has(h) {
			return nil
		}
		return fmt.Errorf("%w: %s on no peer", blobstore.ErrNotFound, h)
	}
	ch := make(chan struct{})
	f.inflight[h] = ch
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.inflight, h)
		f.mu.Unlock()
		close(ch)
	}()
	var errs []error
	for _, p := range f.peers {
		if err := f.fetchFrom(ctx, p, h); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return fmt.Errorf("%w: %s on none of %d peers: %v", blobstore.ErrNotFound, h, len(f.peers), errors.Join(errs...))
}

func (f *fetcher) fetchFrom(ctx context.Context, peer string, h types.Hash) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, peer+"/v1/blobs/"+h.String()+"?local=1", nil)
	if err != nil {
		return err
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", peer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", peer, resp.Status)
	}
	return f.blobs.PutFetched(h, resp.Body, time.Now())
}
