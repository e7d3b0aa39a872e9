package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/compute"
)

// availability tracks which revealed job outputs this node's blob store
// holds, fetching them from peers, for its validator's vote extensions:
// a job's output counts only once validators with two thirds of the power
// can fetch it.
type availability struct {
	app   *app.App
	fetch *fetcher
	log   *slog.Logger

	mu   sync.Mutex
	have map[uint64]bool
}

func newAvailability(a *app.App, f *fetcher, log *slog.Logger) *availability {
	return &availability{app: a, fetch: f, log: log, have: map[uint64]bool{}}
}

// held lists the jobs whose outputs this node holds.
func (av *availability) held() []uint64 {
	av.mu.Lock()
	defer av.mu.Unlock()
	out := make([]uint64, 0, len(av.have))
	for id := range av.have {
		out = append(out, id)
	}
	return out
}

// run checks the revealed jobs after each block until ctx ends.
func (av *availability) run(ctx context.Context) {
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		h := av.app.Height()
		if h == last {
			continue
		}
		last = h
		av.check(ctx, av.app.RevealedJobs(512))
	}
}

func (av *availability) check(ctx context.Context, jobs []*compute.Job) {
	now := map[uint64]bool{}
	for _, j := range jobs {
		av.mu.Lock()
		held := av.have[j.ID]
		av.mu.Unlock()
		if !held {
			fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := av.fetch.fetch(fctx, j.Output)
			cancel()
			if err != nil {
				av.log.Debug("revealed output not available yet", "job", j.ID, "output", j.Output, "err", err)
				continue
			}
		}
		now[j.ID] = true
	}
	av.mu.Lock()
	av.have = now
	av.mu.Unlock()
}
