package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

const (
	prefixState = 's'
	prefixNode  = 'n'
	prefixMeta  = 'm'
)

var (
	keyHeight  = []byte("m/height")
	keyRoot    = []byte("m/root")
	prefixHist = []byte("m/apphash/")
)

// DB is the application's Pebble database.
type DB struct {
	db    *pebble.DB
	cache *readCache
}

// Open opens (or creates) the database in dir. Pebble's errors go to log.
func Open(dir string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.Default()
	}
	cache := pebble.NewCache(64 << 20)
	defer cache.Unref()
	return open(dir, &pebble.Options{Cache: cache}, log)
}

// OpenInMemory opens a database that lives in memory only, for tests.
func OpenInMemory() (*DB, error) {
	return open("", &pebble.Options{FS: vfs.NewMem()}, slog.Default())
}

func open(dir string, opts *pebble.Options, log *slog.Logger) (*DB, error) {
	opts.Logger = Logger(log)
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", dir, err)
	}
	return &DB{db: db, cache: newReadCache(1 << 18)}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Height returns the last committed height (0 before the first block).
func (d *DB) Height() int64 { return view{d.db}.height() }

// Root returns the committed app hash.
func (d *DB) Root() types.Hash { return view{d.db}.root() }

// AppHashAt returns the app hash committed at height.
func (d *DB) AppHashAt(height int64) (types.Hash, bool) {
	var h types.Hash
	v := view{d.db}.get(histKey(height))
	if v == nil {
		return h, false
	}
	copy(h[:], v)
	return h, true
}

// State reads the latest committed state, through a cache of recent
// reads.
func (d *DB) State() store.Reader { return cachedState{stateView{view{d.db}}, d.cache} }

// Nodes reads the latest committed tree nodes.
func (d *DB) Nodes() store.NodeReader { return nodeView{view{d.db}} }

// Block is everything one block commits.
type Block struct {
	Height  int64
	Root    types.Hash
	Changes []store.Change
	Nodes   []store.NodeWrite
}

// Commit writes a block atomically and durably.
func (d *DB) Commit(b Block) error {
	batch := d.db.NewBatch()
	defer batch.Close()
	for _, c := range b.Changes {
		k := prefixed(prefixState, c.Key)
		var err error
		if c.Value == nil {
			err = batch.Delete(k, nil)
		} else {
			err = batch.Set(k, c.Value, nil)
		}
		if err != nil {
			return fmt.Errorf("commit height %d: %w", b.Height, err)
		}
	}
	for _, n := range b.Nodes {
		k := prefixed(prefixNode, n.PathKey)
		var err error
		if n.Node == nil {
			err = batch.Delete(k, nil)
		} else {
			err = batch.Set(k, n.Node, nil)
		}
		if err != nil {
			return fmt.Errorf("commit height %d: %w", b.Height, err)
		}
	}
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], uint64(b.Height))
	if err := errors.Join(
		batch.Set(keyHeight, h[:], nil),
		batch.Set(keyRoot, b.Root[:], nil),
		batch.Set(histKey(b.Height), b.Root[:], nil),
	); err != nil {
		return fmt.Errorf("commit height %d: %w", b.Height, err)
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit height %d: %w", b.Height, err)
	}
	d.cache.commit(func(put func(key, value []byte)) {
		for _, c := range b.Changes {
			put(c.Key, c.Value)
		}
	})
	return nil
}

// Snapshot is a consistent read-only view of one committed height, for
// queries that read several keys and their proofs.
type Snapshot struct {
	s *pebble.Snapshot
}

// Snapshot returns a view of the latest committed height. Close it.
func (d *DB) Snapshot() *Snapshot { return &Snapshot{s: d.db.NewSnapshot()} }

// Height returns the snapshot's height.
func (s *Snapshot) Height() int64 { return view{s.s}.height() }

// Root returns the snapshot's app hash.
func (s *Snapshot) Root() types.Hash { return view{s.s}.root() }

// State reads the snapshot's state.
func (s *Snapshot) State() store.Reader { return stateView{view{s.s}} }

// Nodes reads the snapshot's tree nodes.
func (s *Snapshot) Nodes() store.NodeReader { return nodeView{view{s.s}} }

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.s.Close() }

func histKey(height int64) []byte {
	k := append([]byte(nil), prefixHist...)
	return binary.BigEndian.AppendUint64(k, uint64(height))
}

func prefixed(p byte, key []byte) []byte {
	k := make([]byte, 1+len(key))
	k[0] = p
	copy(k[1:], key)
	return k
}

// reader is what pebble.DB and pebble.Snapshot have in common.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

type view struct{ r reader }

// get returns a copy of the value, or nil. I/O errors panic: a node that
// cannot read its state must stop, not guess.
func (v view) get(key []byte) []byte {
	val, closer, err := v.r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		panic(fmt.Errorf("storage: read %q: %w", key, err))
	}
	out := make([]byte, len(val))
	copy(out, val)
	closer.Close()
	return out
}

func (v view) height() int64 {
	b := v.get(keyHeight)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func (v view) root() types.Hash {
	var h types.Hash
	copy(h[:], v.get(keyRoot))
	return h
}

type stateView struct{ v view }

func (s stateView) Get(key []byte) []byte { return s.v.get(prefixed(prefixState, key)) }

func (s stateView) Iterator(start, end []byte) store.Iterator {
	lo := prefixed(prefixState, start)
	var hi []byte
	if end != nil {
		hi = prefixed(prefixState, end)
	} else {
		hi = []byte{prefixState + 1}
	}
	it, err := s.v.r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		panic(fmt.Errorf("storage: iterate: %w", err))
	}
	it.First()
	return &iter{it: it}
}

type iter struct{ it *pebble.Iterator }

func (i *iter) Valid() bool   { return i.it.Valid() }
func (i *iter) Next()         { i.it.Next() }
func (i *iter) Key() []byte   { return i.it.Key()[1:] }
func (i *iter) Value() []byte { return i.it.Value() }
func (i *iter) Close() {
	if err := i.it.Close(); err != nil {
		panic(fmt.Errorf("storage: iterator: %w", err))
	}
}

// cachedState reads through the read cache; iteration goes to Pebble.
type cachedState struct {
	stateView
	c *readCache
}

func (s cachedState) Get(key []byte) []byte {
	v, gen, ok := s.c.get(key)
	if ok {
		if v.absent {
			return nil
		}
		return v.value
	}
	value := s.stateView.Get(key)
	s.c.fill(key, value, gen)
	return value
}

type nodeView struct{ v view }

func (n nodeView) GetNode(pathKey []byte) []byte { return n.v.get(prefixed(prefixNode, pathKey)) }

// Logger adapts a node's log for Pebble: Pebble's routine messages (WAL
// replays, compactions) are left out, its errors go to the log, and a
// fatal error stops the process.
func Logger(log *slog.Logger) pebble.Logger { return pebbleLogger{log} }

type pebbleLogger struct{ log *slog.Logger }

func (pebbleLogger) Infof(string, ...any) {}
func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("state database", "err", fmt.Sprintf(format, args...))
}
func (pebbleLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
