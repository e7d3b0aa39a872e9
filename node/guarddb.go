package node

import (
	"errors"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
)

// errClosed is what writes to a closed guarded database get.
var errClosed = errors.New("database closed")

// guardedDB lets CometBFT's databases be closed at shutdown while its
// goroutines still use them. CometBFT v1.0.1 never closes the transaction
// index, and its indexer goroutine may still be writing when the node has
// stopped, so closing it directly can crash the process; and it closes the
// block store while the consensus reactor's queryMaj23Routine, which
// checks that the node runs only before each 2-second sleep, may still
// read a commit from it, which crashes the process ("pebble: closed")
// seconds after the node stopped. Reads and writes hold a read lock;
// Close takes the write lock, so it waits for one in flight; later writes
// fail cleanly and later reads find nothing.
type guardedDB struct {
	dbm.DB
	mu     sync.RWMutex
	closed bool
}

func (g *guardedDB) guard(f func() error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errClosed
	}
	return f()
}

func (g *guardedDB) Set(k, v []byte) error { return g.guard(func() error { return g.DB.Set(k, v) }) }
func (g *guardedDB) SetSync(k, v []byte) error {
	return g.guard(func() error { return g.DB.SetSync(k, v) })
}
func (g *guardedDB) Delete(k []byte) error { return g.guard(func() error { return g.DB.Delete(k) }) }
func (g *guardedDB) DeleteSync(k []byte) error {
	return g.guard(func() error { return g.DB.DeleteSync(k) })
}

// Get finds nothing once the database is closed: CometBFT panics on a
// read error.
func (g *guardedDB) Get(k []byte) (v []byte, err error) {
	err = g.guard(func() error { v, err = g.DB.Get(k); return err })
	if errors.Is(err, errClosed) {
		return nil, nil
	}
	return v, err
}

func (g *guardedDB) Has(k []byte) (ok bool, err error) {
	err = g.guard(func() error { ok, err = g.DB.Has(k); return err })
	if errors.Is(err, errClosed) {
		return false, nil
	}
	return ok, err
}

func (g *guardedDB) NewBatch() dbm.Batch { return &guardedBatch{Batch: g.DB.NewBatch(), g: g} }

// Close closes the database once no write is in flight.
func (g *guardedDB) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return g.DB.Close()
}

type guardedBatch struct {
	dbm.Batch
	g *guardedDB
}

func (b *guardedBatch) Write() error     { return b.g.guard(b.Batch.Write) }
func (b *guardedBatch) WriteSync() error { return b.g.guard(b.Batch.WriteSync) }
