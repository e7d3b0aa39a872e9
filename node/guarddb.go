package node

import (
	"errors"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
)

// errClosed is what writes to a closed guarded database get.
var errClosed = errors.New("database closed")

// guardedDB lets CometBFT's transaction index be closed at shutdown.
// CometBFT v1.0.1 never closes it, and its indexer goroutine may still be
// writing when the node has stopped, so closing it directly can crash the
// process. Writes hold a read lock; Close takes the write lock, so it
// waits for a write in flight, and later writes fail cleanly.
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

func (g *guardedDB) Get(k []byte) (v []byte, err error) {
	err = g.guard(func() error { v, err = g.DB.Get(k); return err })
	return v, err
}

func (g *guardedDB) Has(k []byte) (ok bool, err error) {
	err = g.guard(func() error { ok, err = g.DB.Has(k); return err })
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
