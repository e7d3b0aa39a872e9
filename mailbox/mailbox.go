// Package mailbox is a node's store of envelopes for agents that cannot
// be reached directly (behind NAT, or offline for a while): a Pebble
// database under the node's data directory, with a depth and a size
// bound per agent and a size bound for the whole store, so that nobody
// fills a node's disk through it.
//
// Each agent's messages get increasing sequence numbers. An agent fetches
// the messages after a sequence number it names and acknowledges, in a
// later fetch, everything up to the last one it handled; only then are
// they deleted. An agent that crashes before its acknowledgement fetches
// the same messages again, and its replay window drops what it had
// already handled. Messages are also deleted when their envelope expires.
// The store checks no signatures: the API does that before Put.
package mailbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/storage"
)

// Errors of the store.
var (
	// ErrTooLarge: a payload above MaxMessageBytes.
	ErrTooLarge = errors.New("message too large for the mailbox")
	// ErrFull: the agent's mailbox holds MaxDepth messages or
	// MaxAgentBytes already.
	ErrFull = errors.New("mailbox full")
	// ErrStoreFull: the node's mailboxes hold MaxTotalBytes already.
	ErrStoreFull = errors.New("node's mailboxes full")
)

// Options bound the store.
type Options struct {
	// MaxMessageBytes bounds one message's payload (default 256 KiB, at
	// most agentmsg.MaxPayload).
	MaxMessageBytes int
	// MaxDepth bounds the messages waiting for one agent (default 256).
	MaxDepth int
	// MaxAgentBytes bounds the bytes waiting for one agent (default 16
	// MiB).
	MaxAgentBytes int64
	// MaxTotalBytes bounds the bytes of all mailboxes (default 1 GiB).
	MaxTotalBytes int64
	// MaxFetchBytes bounds one fetch's answer (default 4 MiB; one message
	// is always returned however large).
	MaxFetchBytes int64
}

// Defaults of Options.
const (
	DefaultMaxMessageBytes = 256 << 10
	DefaultMaxDepth        = 256
	DefaultMaxAgentBytes   = 16 << 20
	DefaultMaxTotalBytes   = 1 << 30
	DefaultMaxFetchBytes   = 4 << 20
)

func (o *Options) fill() {
	if o.MaxMessageBytes <= 0 || o.MaxMessageBytes > agentmsg.MaxPayload {
		o.MaxMessageBytes = min(DefaultMaxMessageBytes, agentmsg.MaxPayload)
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxAgentBytes <= 0 {
		o.MaxAgentBytes = DefaultMaxAgentBytes
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.MaxFetchBytes <= 0 {
		o.MaxFetchBytes = DefaultMaxFetchBytes
	}
}

// Store is the mailboxes of a node. Safe for concurrent use.
type Store struct {
	db   *pebble.DB
	opts Options

	mu     sync.Mutex
	boxes  map[uint64]*box
	total  int64
	closed bool
}

type box struct {
	count   int
	bytes   int64
	nextSeq uint64
	// arrived is closed (and replaced) when a message is put, to wake
	// waiting fetches.
	arrived chan struct{}
}

// Stored is a message in a mailbox.
type Stored struct {
	Seq      uint64           `json:"seq"`
	Received time.Time        `json:"received"`
	Message  agentmsg.Message `json:"message"`
}

// cost is what a stored record of n bytes counts against the limits: the
// record and its keys.
func cost(n int) int64 { return int64(n) + 64 }

// size is about what a message takes in a fetch's answer.
func size(m *agentmsg.Message) int64 { return int64(len(m.Payload)) + agentmsg.MaxEncodedLen }

// Open opens (or creates) the store in dir.
func Open(dir string, o Options, log *slog.Logger) (*Store, error) {
	return open(dir, &pebble.Options{Logger: storage.Logger(log)}, o)
}

// OpenInMemory opens a store that lives in memory, for tests.
func OpenInMemory(o Options) (*Store, error) {
	return open("", &pebble.Options{FS: vfs.NewMem(), Logger: storage.Logger(slog.Default())}, o)
}

func open(dir string, po *pebble.Options, o Options) (*Store, error) {
	o.fill()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("open mailbox store %s: %w", dir, err)
	}
	s := &Store{db: db, opts: o, boxes: map[uint64]*box{}}
	// Rebuild the counters; the store is bounded, so this is quick.
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixMsg}, UpperBound: []byte{prefixMsg + 1}})
	if err != nil {
		db.Close()
		return nil, err
	}
	for it.First(); it.Valid(); it.Next() {
		agent, seq := parseMsgKey(it.Key())
		b := s.boxLocked(agent)
		b.count++
		n := cost(len(it.Value()))
		b.bytes += n
		s.total += n
		b.nextSeq = max(b.nextSeq, seq+1)
	}
	if err := it.Close(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Options returns the store's bounds.
func (s *Store) Options() Options { return s.opts }

// Close closes the store; waiting fetches return.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, b := range s.boxes {
		close(b.arrived)
		b.arrived = make(chan struct{})
	}
	s.mu.Unlock()
	return s.db.Close()
}

// Keys: prefixMsg · agent (8 bytes) · seq (8 bytes) → the record;
// prefixExp · expires (8) · agent (8) · seq (8) → nothing, the expiry
// index. Big-endian, so both iterate in order.
const (
	prefixMsg = 'm'
	prefixExp = 'x'
)

func msgKey(agent, seq uint64) []byte {
	k := make([]byte, 17)
	k[0] = prefixMsg
	binary.BigEndian.PutUint64(k[1:], agent)
	binary.BigEndian.PutUint64(k[9:], seq)
	return k
}

// boxEnd is the upper bound of an agent's message keys.
func boxEnd(agent uint64) []byte {
	if agent == ^uint64(0) {
		return []byte{prefixMsg + 1}
	}
	return msgKey(agent+1, 0)
}

func parseMsgKey(k []byte) (agent, seq uint64) {
	return binary.BigEndian.Uint64(k[1:9]), binary.BigEndian.Uint64(k[9:17])
}

func expKey(exp int64, agent, seq uint64) []byte {
	k := make([]byte, 25)
	k[0] = prefixExp
	binary.BigEndian.PutUint64(k[1:], uint64(max(exp, 0)))
	binary.BigEndian.PutUint64(k[9:], agent)
	binary.BigEndian.PutUint64(k[17:], seq)
	return k
}

// record: received (unix ms, uvarint), the envelope (length-prefixed),
// the payload (the rest).
func encodeRecord(m *agentmsg.Message, received time.Time) []byte {
	w := codec.NewWriter(len(m.Payload) + agentmsg.MaxEncodedLen + 16)
	w.Uvarint(uint64(received.UnixMilli()))
	w.LenBytes(m.Envelope.Encode())
	w.Fixed(m.Payload)
	return w.Bytes()
}

func decodeRecord(b []byte) (agentmsg.Message, time.Time, error) {
	r := codec.NewReader(b)
	ms := r.Uvarint()
	env := r.LenBytes(agentmsg.MaxEncodedLen)
	payload := r.Fixed(r.Remaining())
	if err := r.Done(); err != nil {
		return agentmsg.Message{}, time.Time{}, fmt.Errorf("mailbox record: %w", err)
	}
	e, err := agentmsg.Decode(env)
	if err != nil {
		return agentmsg.Message{}, time.Time{}, fmt.Errorf("mailbox record: %w", err)
	}
	return agentmsg.Message{Envelope: e, Payload: append([]byte(nil), payload...)}, time.UnixMilli(int64(ms)), nil
}

func (s *Store) boxLocked(agent uint64) *box {
	b := s.boxes[agent]
	if b == nil {
		b = &box{nextSeq: 1, arrived: make(chan struct{})}
		s.boxes[agent] = b
	}
	return b
}

// Put stores a message for agent, durably, and returns its sequence
// number. It refuses a payload above MaxMessageBytes (ErrTooLarge), a
// message that would take the agent's mailbox past MaxDepth or
// MaxAgentBytes (ErrFull), or the store past MaxTotalBytes (ErrStoreFull).
func (s *Store) Put(agent uint64, m agentmsg.Message, now time.Time) (uint64, error) {
	if len(m.Payload) > s.opts.MaxMessageBytes {
		return 0, fmt.Errorf("%w: %d bytes, this node's mailboxes take at most %d", ErrTooLarge, len(m.Payload), s.opts.MaxMessageBytes)
	}
	rec := encodeRecord(&m, now)
	n := cost(len(rec))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, pebble.ErrClosed
	}
	b := s.boxLocked(agent)
	switch {
	case b.count >= s.opts.MaxDepth:
		return 0, fmt.Errorf("%w: agent %d has %d messages waiting, at most %d; it must fetch them first", ErrFull, agent, b.count, s.opts.MaxDepth)
	case b.bytes+n > s.opts.MaxAgentBytes:
		return 0, fmt.Errorf("%w: agent %d has %d bytes waiting, at most %d; it must fetch them first", ErrFull, agent, b.bytes, s.opts.MaxAgentBytes)
	case s.total+n > s.opts.MaxTotalBytes:
		return 0, fmt.Errorf("%w: %d of %d bytes in use; try another node or later", ErrStoreFull, s.total, s.opts.MaxTotalBytes)
	}
	seq := b.nextSeq
	batch := s.db.NewBatch()
	_ = batch.Set(msgKey(agent, seq), rec, nil)
	_ = batch.Set(expKey(m.Envelope.Expires, agent, seq), nil, nil)
	if err := batch.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("mailbox: %w", err)
	}
	b.nextSeq++
	b.count++
	b.bytes += n
	s.total += n
	close(b.arrived)
	b.arrived = make(chan struct{})
	return seq, nil
}

// Depth returns how many messages and bytes wait for agent.
func (s *Store) Depth(agent uint64) (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.boxes[agent]; b != nil {
		return b.count, b.bytes
	}
	return 0, 0
}

// Fetch returns up to limit messages of agent after sequence number
// after, in order, leaving out expired ones; together at most
// MaxFetchBytes (but always one, if any waits).
func (s *Store) Fetch(agent, after uint64, limit int, now time.Time) ([]Stored, error) {
	if limit <= 0 {
		return nil, nil
	}
	if after == ^uint64(0) {
		return nil, nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: msgKey(agent, after+1), UpperBound: boxEnd(agent)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Stored
	var bytes int64
	for it.First(); it.Valid() && len(out) < limit; it.Next() {
		_, seq := parseMsgKey(it.Key())
		m, received, err := decodeRecord(it.Value())
		if err != nil {
			return out, err
		}
		if m.Envelope.Expires < now.Unix() {
			continue
		}
		if len(out) > 0 && bytes+size(&m) > s.opts.MaxFetchBytes {
			break
		}
		bytes += size(&m)
		out = append(out, Stored{Seq: seq, Received: received, Message: m})
	}
	return out, it.Error()
}

// Wait returns when a message after sequence number after is in agent's
// mailbox, or ctx ends. It reports whether one is.
func (s *Store) Wait(ctx context.Context, agent, after uint64) bool {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return false
		}
		b := s.boxLocked(agent)
		ch := b.arrived
		// Sequence numbers only grow, so any message at or above after+1
		// that is still there is new to the caller.
		has := b.count > 0 && b.nextSeq > after+1
		s.mu.Unlock()
		if has {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Ack deletes agent's messages up to and including sequence number
// through, and returns how many it deleted.
func (s *Store) Ack(agent, through uint64) (int, error) {
	if through == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, pebble.ErrClosed
	}
	upper := boxEnd(agent)
	if through < ^uint64(0) {
		upper = msgKey(agent, through+1)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: msgKey(agent, 1), UpperBound: upper})
	if err != nil {
		return 0, err
	}
	return s.deleteLocked(it)
}

// deleteLocked deletes the messages an iterator over message keys yields.
func (s *Store) deleteLocked(it *pebble.Iterator) (int, error) {
	batch := s.db.NewBatch()
	type gone struct {
		agent uint64
		n     int64
	}
	var removed []gone
	for it.First(); it.Valid(); it.Next() {
		a, seq := parseMsgKey(it.Key())
		m, _, err := decodeRecord(it.Value())
		if err != nil {
			it.Close()
			return 0, err
		}
		_ = batch.Delete(append([]byte(nil), it.Key()...), nil)
		_ = batch.Delete(expKey(m.Envelope.Expires, a, seq), nil)
		removed = append(removed, gone{a, cost(len(it.Value()))})
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	if len(removed) == 0 {
		return 0, nil
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("mailbox: %w", err)
	}
	for _, g := range removed {
		b := s.boxLocked(g.agent)
		b.count--
		b.bytes -= g.n
		s.total -= g.n
	}
	return len(removed), nil
}

// Collect deletes every message whose envelope expired before now, and
// returns how many.
func (s *Store) Collect(now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, pebble.ErrClosed
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixExp}, UpperBound: expKey(now.Unix(), 0, 0)})
	if err != nil {
		return 0, err
	}
	var keys [][]byte
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		keys = append(keys, msgKey(binary.BigEndian.Uint64(k[9:17]), binary.BigEndian.Uint64(k[17:25])))
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		a, seq := parseMsgKey(k)
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: k, UpperBound: msgKey(a, seq+1)})
		if err != nil {
			return n, err
		}
		d, err := s.deleteLocked(it)
		n += d
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Total returns the bytes all mailboxes hold, as counted against
// MaxTotalBytes.
func (s *Store) Total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
