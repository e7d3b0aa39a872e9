package cpu

import (
	"runtime"
	"sync/atomic"
)

// pool is a CPU's helper goroutines. Waking a parked goroutine takes tens
// of microseconds on some machines (virtual ones especially), as long as
// a whole small matrix-vector product, so a helper spins (yielding its
// processor each turn) for a while after each task before it parks, and
// the caller spins while it waits for the helpers: back-to-back kernel
// calls, as in decoding, then start at once. Which goroutine computes
// which rows never changes what is computed.
type pool struct {
	workers []*worker
}

// spinTurns is how many yields a helper spins before it parks: a few
// hundred microseconds.
const spinTurns = 2000

type worker struct {
	ready    atomic.Bool // a task is waiting in task
	sleeping atomic.Bool // the worker is parked, or about to park, on wake
	task     func()
	wake     chan struct{} // closed to stop the worker
}

func newPool(n int) *pool {
	p := &pool{workers: make([]*worker, n)}
	for i := range p.workers {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers[i] = w
		go w.loop()
	}
	return p
}

func (w *worker) loop() {
	for {
		for turn := 0; !w.ready.Load(); turn++ {
			if turn < spinTurns {
				runtime.Gosched()
				continue
			}
			// Park. Announce it before the last look at ready, so that a
			// dispatch either is seen here or sees sleeping and wakes us.
			w.sleeping.Store(true)
			if w.ready.Load() {
				w.sleeping.Store(false)
				break
			}
			if _, ok := <-w.wake; !ok {
				return
			}
			w.sleeping.Store(false)
			turn = 0
		}
		f := w.task
		w.task = nil
		w.ready.Store(false)
		f()
	}
}

// run runs fs[0] on the calling goroutine and fs[i] on helper i-1, and
// returns when all are done.
func (p *pool) run(fs []func()) {
	var pending atomic.Int32
	pending.Store(int32(len(fs) - 1))
	for i, f := range fs[1:] {
		w := p.workers[i]
		w.task = func() {
			f()
			pending.Add(-1)
		}
		w.ready.Store(true)
		if w.sleeping.Load() {
			select {
			case w.wake <- struct{}{}:
			default: // a wake is already pending
			}
		}
	}
	fs[0]()
	for pending.Load() > 0 {
		runtime.Gosched()
	}
}

// stop ends the helpers (once the CPU that owns the pool is unreachable).
func (p *pool) stop() {
	for _, w := range p.workers {
		close(w.wake)
	}
}
