package agentmsg

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// A window kept on disk (OpenWindow) is an append-only file: a header,
// then one fixed-size record per admitted envelope, written and fsynced
// before Admit returns, so an agent that restarts (or crashes) refuses
// what it took before. Concurrent Admits share one fsync. When most
// records in the file have expired, the file is rewritten with the live
// ones (a new file, fsynced, renamed over the old, the directory fsynced).
//
// A record is 60 bytes: the sender key (32), the nonce (16), the expiry
// (int64 big-endian unix seconds; 0 marks a Forget) and a CRC-32C of those
// 56 bytes. Fixed-size records make a torn tail easy to find: opening cuts
// the file after its last good record, and refuses a file with a bad
// record before a good one (that is damage, not a crash mid-append).

var windowMagic = []byte("mycel/replay/v1\n")

const (
	recordSize = 32 + 16 + 8 + 4
	// compactMin is how many records a file holds at least before a
	// rewrite is worth it: about 240 KiB.
	compactMin = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// journal is a Window's file. Its fields are guarded by the Window's mu
// (cond is on it), except f while a leader writes (syncing).
type journal struct {
	path       string
	f          *os.File
	cond       *sync.Cond
	pending    []byte // records appended, not yet written
	appended   uint64 // records appended so far
	durable    uint64 // records written and fsynced
	syncing    bool   // a leader is writing pending's predecessor
	records    int    // records in the file
	err        error  // sticky: after a failed write nothing is admitted
	compactMin int
	syncs      int // fsyncs of the file, for tests
}

func encodeRecord(dst []byte, k replayKey, exp int64) []byte {
	var r [recordSize]byte
	copy(r[:32], k.key[:])
	copy(r[32:48], k.nonce[:])
	binary.BigEndian.PutUint64(r[48:56], uint64(exp))
	binary.BigEndian.PutUint32(r[56:], crc32.Checksum(r[:56], castagnoli))
	return append(dst, r[:]...)
}

func decodeRecord(r []byte) (replayKey, int64, bool) {
	var k replayKey
	if binary.BigEndian.Uint32(r[56:]) != crc32.Checksum(r[:56], castagnoli) {
		return k, 0, false
	}
	copy(k.key[:], r[:32])
	copy(k.nonce[:], r[32:48])
	return k, int64(binary.BigEndian.Uint64(r[48:56])), true
}

// OpenWindow returns a window of at most max live entries (DefaultWindowSize
// if max <= 0) kept in the file at path, created if missing, holding
// whatever the file admitted that has not expired by now. One process
// opens a file at a time. Close it when done.
func OpenWindow(path string, max int, now time.Time) (*Window, error) {
	w := NewWindow(max)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("replay window: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("replay window: %w", err)
	}
	j := &journal{path: path, f: f, cond: sync.NewCond(&w.mu), compactMin: compactMin}
	if err := w.load(j, now.Unix()); err != nil {
		f.Close()
		return nil, fmt.Errorf("replay window %s: %w", path, err)
	}
	w.j = j
	if j.records > compactMin && j.records > 2*len(w.seen) {
		w.mu.Lock()
		err = w.compactLocked()
		w.mu.Unlock()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("replay window %s: %w", path, err)
		}
	}
	return w, nil
}

// load reads j's file into w, cuts a torn tail, and leaves the file's
// offset at its end.
func (w *Window) load(j *journal, now int64) error {
	b, err := io.ReadAll(j.f)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		if _, err := j.f.Write(windowMagic); err != nil {
			return err
		}
		if err := j.f.Sync(); err != nil {
			return err
		}
		return syncDir(filepath.Dir(j.path))
	}
	if len(b) < len(windowMagic) || !bytes.Equal(b[:len(windowMagic)], windowMagic) {
		if len(b) < len(windowMagic) && bytes.HasPrefix(windowMagic, b) {
			return errors.New("the file ends inside its header: remove it to start an empty window")
		}
		return errors.New("not a replay window file")
	}
	body := b[len(windowMagic):]
	n := len(body) / recordSize
	good := n
	for i := 0; i < n; i++ {
		k, exp, ok := decodeRecord(body[i*recordSize : (i+1)*recordSize])
		if !ok {
			good = i
			break
		}
		switch {
		case exp == 0:
			delete(w.seen, k)
		case exp >= now:
			if old, ok := w.seen[k]; !ok || exp > old {
				w.seen[k] = exp
				w.byExp = append(w.byExp, entry{k: k, exp: exp})
			}
		}
	}
	for i := good + 1; i < n; i++ {
		if _, _, ok := decodeRecord(body[i*recordSize : (i+1)*recordSize]); ok {
			return fmt.Errorf("record %d is damaged and records after it are not: the file is corrupt", good)
		}
	}
	if end := int64(len(windowMagic) + good*recordSize); end != int64(len(b)) {
		// A crash in the middle of an append: what was cut was never
		// admitted (Admit returns after the fsync).
		if err := j.f.Truncate(end); err != nil {
			return err
		}
		if err := j.f.Sync(); err != nil {
			return err
		}
	}
	if _, err := j.f.Seek(int64(len(windowMagic)+good*recordSize), io.SeekStart); err != nil {
		return err
	}
	j.records = good
	heap.Init(&w.byExp)
	return nil
}

// waitLocked returns once record seq is durable: the first waiter writes
// and fsyncs everything appended so far, for everyone (with the lock
// released), and compacts the file when it is mostly dead records.
func (w *Window) waitLocked(seq uint64) error {
	j := w.j
	for j.durable < seq && j.err == nil {
		if j.syncing {
			j.cond.Wait()
			continue
		}
		buf, upto := j.pending, j.appended
		j.pending = nil
		j.syncing = true
		w.mu.Unlock()
		_, err := j.f.Write(buf)
		if err == nil {
			err = j.f.Sync()
		}
		w.mu.Lock()
		j.syncing = false
		j.syncs++
		if err != nil {
			j.err = fmt.Errorf("replay window %s: %w", j.path, err)
		} else {
			j.durable = upto
			j.records += len(buf) / recordSize
			if j.records > j.compactMin && j.records > 2*len(w.seen) {
				if err := w.compactLocked(); err != nil {
					j.err = fmt.Errorf("replay window %s: compact: %w", j.path, err)
				}
			}
		}
		j.cond.Broadcast()
	}
	return j.err
}

// compactLocked rewrites the file with the live entries (those admitted
// and not yet written among them), which makes everything appended
// durable. Called with no leader writing.
func (w *Window) compactLocked() error {
	j := w.j
	buf := make([]byte, 0, len(windowMagic)+len(w.seen)*recordSize)
	buf = append(buf, windowMagic...)
	for k, exp := range w.seen {
		buf = encodeRecord(buf, k, exp)
	}
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(j.path))
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	j.f.Close()
	j.f = f
	j.syncs++
	j.pending, j.durable, j.records = nil, j.appended, len(w.seen)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close writes what is pending (Forgets) and closes the file of a window
// opened with OpenWindow; nothing for one in memory.
func (w *Window) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	j := w.j
	if j == nil {
		return nil
	}
	if errors.Is(j.err, errClosed) {
		return nil
	}
	err := w.waitLocked(j.appended)
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.err = errClosed // Admit refuses from now on
	return err
}

var errClosed = errors.New("replay window closed")
