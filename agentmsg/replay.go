package agentmsg

import (
	"container/heap"
	"fmt"
	"sync"
	"time"
)

// Window refuses replayed envelopes: it remembers each admitted
// envelope's sender key and nonce until the envelope expires. Because
// CheckTime refuses envelopes that expire more than MaxLifetime ahead, an
// entry never needs to outlive that, and an expired envelope is refused by
// its time before the window is asked. Safe for concurrent use.
//
// NewWindow keeps it in memory; OpenWindow keeps it in a file too, so that
// a receiver that restarts still refuses what it took before.
type Window struct {
	mu    sync.Mutex
	seen  map[replayKey]int64
	byExp expiryHeap
	max   int
	j     *journal // nil in memory
}

type replayKey struct {
	key   [32]byte
	nonce Nonce
}

type entry struct {
	k   replayKey
	exp int64
}

type expiryHeap []entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// DefaultWindowSize is how many live envelopes a window remembers unless
// told otherwise: about 80 MiB at most.
const DefaultWindowSize = 1 << 20

// NewWindow returns a window of at most max live entries (DefaultWindowSize
// if max <= 0).
func NewWindow(max int) *Window {
	if max <= 0 {
		max = DefaultWindowSize
	}
	return &Window{seen: map[replayKey]int64{}, max: max}
}

// Admit checks e's expiry against now and admits it once: a second
// envelope with the same key and nonce before the first expires is
// refused with ErrReplayed. A full window refuses with ErrBusy rather than
// forget a live nonce. A window on disk returns once the entry is written
// and fsynced; if that fails, it refuses this envelope and every later
// one (ErrBusy), since it can no longer promise to remember them.
func (w *Window) Admit(e *Envelope, now time.Time) error {
	if err := e.CheckTime(now); err != nil {
		return err
	}
	k := replayKey{key: e.Key, nonce: e.Nonce}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expireLocked(now.Unix())
	if _, ok := w.seen[k]; ok {
		return fmt.Errorf("%w: nonce %s of key %x was seen before", ErrReplayed, e.Nonce, e.Key[:8])
	}
	if len(w.seen) >= w.max {
		return fmt.Errorf("%w: %d envelopes live; retry later", ErrBusy, len(w.seen))
	}
	if w.j != nil && w.j.err != nil {
		return fmt.Errorf("%w: %v", ErrBusy, w.j.err)
	}
	w.seen[k] = e.Expires
	heap.Push(&w.byExp, entry{k: k, exp: e.Expires})
	if w.j != nil {
		w.j.pending = encodeRecord(w.j.pending, k, e.Expires)
		w.j.appended++
		if err := w.waitLocked(w.j.appended); err != nil {
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
	}
	return nil
}

// Seen reports whether e's key and nonce are in the window.
func (w *Window) Seen(e *Envelope) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.seen[replayKey{key: e.Key, nonce: e.Nonce}]
	return ok
}

// Forget drops e's key and nonce, for a receiver that could not take an
// envelope it admitted (a full mailbox), so that the sender may retry it.
func (w *Window) Forget(e *Envelope) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := replayKey{key: e.Key, nonce: e.Nonce}
	if _, ok := w.seen[k]; !ok {
		return
	}
	delete(w.seen, k)
	if w.j != nil && w.j.err == nil {
		// Written with the next Admit's fsync or at Close: a Forget lost
		// to a crash only refuses a retry, which is the safe side.
		w.j.pending = encodeRecord(w.j.pending, k, 0)
		w.j.appended++
	}
}

// Len is the number of live entries.
func (w *Window) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.seen)
}

func (w *Window) expireLocked(now int64) {
	for len(w.byExp) > 0 && w.byExp[0].exp < now {
		e := heap.Pop(&w.byExp).(entry)
		if exp, ok := w.seen[e.k]; ok && exp == e.exp {
			delete(w.seen, e.k)
		}
	}
}
