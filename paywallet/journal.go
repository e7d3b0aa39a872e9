package paywallet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/mycelnet/mycel/chain/codec"
)

// journalMagic begins every journal file.
const journalMagic = "mycel-paywallet/1\n"

const (
	journalName = "journal"
	// maxRecord bounds a record's payload: more than any valid record.
	maxRecord = 64 << 10
	// compactAfter is the least number of records in the file before a
	// rewrite is considered; then the file is rewritten once it holds
	// four times the live records.
	compactAfter = 4096
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrWalletClosed is returned by a wallet after Close.
var ErrWalletClosed = errors.New("paywallet: wallet is closed")

// journal is an append-only log of records with group commit: callers
// append under the owner's lock and then wait until their record is
// durable; whoever waits first while no write is under way writes and
// fsyncs everything appended so far, for everyone.
type journal struct {
	mu   *sync.Mutex // the owner's lock
	cond *sync.Cond
	dir  string
	f    *os.File

	pending  []byte // encoded records not yet written
	npending int
	seq      uint64 // records appended
	durable  uint64 // records written and fsynced
	flushing bool
	err      error // a failed write: the wallet refuses everything after

	records   int // records in the file
	syncs     int // fsyncs of the file, for tests
	compactAt int // records in the file before a rewrite is considered
	// beforeWrite, when set (by tests), runs in the leader of a group
	// before it writes, without the lock.
	beforeWrite func()

	// live returns the records that rebuild the owner's state, for a
	// rewrite; called with mu held.
	live func() [][]byte
}

// frame encodes one record.
func frame(dst, payload []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, crcTable))
	return append(dst, payload...)
}

// openJournal opens or creates the journal in dir and calls replay for
// each record. A torn or corrupt record ends the journal: it and anything
// after it are cut off, since no record after a torn one was ever
// acknowledged. first is written as the first record of a new journal.
func openJournal(dir string, mu *sync.Mutex, first []byte, replay func([]byte) error) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("paywallet: %w", err)
	}
	j := &journal{mu: mu, cond: sync.NewCond(mu), dir: dir, compactAt: compactAfter}
	path := filepath.Join(dir, journalName)
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		f, err := j.rewrite([][]byte{first})
		if err != nil {
			return nil, fmt.Errorf("paywallet: %w", err)
		}
		j.install(f, 1)
		// The wallet's directory may be new too: make its entry durable.
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("paywallet: %w", err)
		}
		return j, replay(first)
	}
	if err != nil {
		return nil, fmt.Errorf("paywallet: %w", err)
	}
	good, n, err := scan(f, replay)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("paywallet: journal %s: %w", path, err)
	}
	if st, err := f.Stat(); err == nil && st.Size() > good {
		// A torn tail: cut it off, so that new records follow good ones.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("paywallet: journal %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("paywallet: journal %s: %w", path, err)
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	j.f, j.records = f, n
	return j, nil
}

// scan reads the records of a journal file and returns the offset after
// the last good one and how many there were.
func scan(f *os.File, replay func([]byte) error) (int64, int, error) {
	r := bufio.NewReaderSize(f, 64<<10)
	magic := make([]byte, len(journalMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != journalMagic {
		return 0, 0, fmt.Errorf("not a paywallet journal (it does not begin with %q)", journalMagic)
	}
	off, n := int64(len(journalMagic)), 0
	for {
		size, err := binary.ReadUvarint(r)
		if err != nil || size > maxRecord {
			return off, n, nil
		}
		var crc [4]byte
		if _, err := io.ReadFull(r, crc[:]); err != nil {
			return off, n, nil
		}
		payload := make([]byte, size)
		if _, err := io.ReadFull(r, payload); err != nil {
			return off, n, nil
		}
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(crc[:]) {
			return off, n, nil
		}
		if err := replay(payload); err != nil {
			return off, n, fmt.Errorf("record %d: %w", n, err)
		}
		off += int64(len(binary.AppendUvarint(nil, size))) + 4 + int64(size)
		n++
	}
}

// appendLocked queues records and returns the sequence number to wait
// for. The caller holds mu.
func (j *journal) appendLocked(payloads ...[]byte) uint64 {
	for _, p := range payloads {
		j.pending = frame(j.pending, p)
		j.npending++
		j.seq++
	}
	return j.seq
}

// waitLocked returns once the records up to seq are durable. The caller
// holds mu; it is released while writing or waiting.
func (j *journal) waitLocked(seq uint64) error {
	for j.durable < seq {
		switch {
		case j.err != nil:
			return j.err
		case j.f == nil:
			return ErrWalletClosed
		case j.flushing:
			j.cond.Wait()
			continue
		}
		// Lead this group: write and fsync everything appended so far.
		j.flushing = true
		buf, n, upto := j.pending, j.npending, j.seq
		j.pending, j.npending = nil, 0
		var live [][]byte
		if j.records+n > j.compactAt {
			if l := j.live(); 4*len(l) < j.records+n {
				live = l // the state already holds every appended record
			}
		}
		hook := j.beforeWrite
		j.mu.Unlock()
		if hook != nil {
			hook()
		}
		// The file is the leader's alone until it takes the lock again:
		// the fields it changes are set under the lock, after.
		var err error
		var nf *os.File
		if live != nil {
			nf, err = j.rewrite(live)
		} else {
			err = j.write(buf)
		}
		j.mu.Lock()
		j.flushing = false
		switch {
		case err == nil && nf != nil:
			j.install(nf, len(live))
		case err == nil:
			j.records += n
			j.syncs++
		}
		if err != nil {
			j.err = fmt.Errorf("paywallet: journal %s: %w (the wallet refuses everything until it is reopened)", j.dir, err)
		} else {
			j.durable = upto
		}
		j.cond.Broadcast()
	}
	return j.err
}

// write appends records to the file and fsyncs it.
func (j *journal) write(buf []byte) error {
	if _, err := j.f.Write(buf); err != nil {
		return err
	}
	return j.f.Sync()
}

// install makes f, holding n records, the journal's file. The caller
// holds mu (or is alone with the journal).
func (j *journal) install(f *os.File, n int) {
	if j.f != nil {
		j.f.Close()
	}
	j.f, j.records = f, n
	j.syncs++
}

// rewrite replaces the journal with one holding exactly the given records:
// a new file, fsynced, renamed over the old, and the directory fsynced.
// It returns the new file, for install.
func (j *journal) rewrite(records [][]byte) (*os.File, error) {
	var b bytes.Buffer
	b.WriteString(journalMagic)
	var buf []byte
	for _, r := range records {
		buf = frame(buf[:0], r)
		b.Write(buf)
	}
	tmp := filepath.Join(j.dir, journalName+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, journalName)); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// closeLocked waits for pending records and closes the file.
func (j *journal) closeLocked() error {
	err := j.waitLocked(j.seq)
	if j.f != nil {
		if cerr := j.f.Close(); err == nil {
			err = cerr
		}
		j.f = nil
	}
	return err
}

// Record kinds. Never renumber.
const (
	recMeta    = 1 // chain id, role, owner
	recChannel = 2 // a channel as last seen
	recVoucher = 3 // a voucher: the payer's last or the payee's best of a lane
	recLane    = 4 // a lane given to a task
	recSpent   = 5 // what a payee's lane has spent of its vouchers
	recReserve = 6 // the nonces a payer's lane may use before its vouchers are written
)

// meta is the first record: what the wallet is for.
type meta struct {
	chainID string
	role    byte
	owner   []byte
}

const (
	rolePayer = 1
	rolePayee = 2
)

func (m meta) encode() []byte {
	w := codec.NewWriter(64)
	w.Byte(recMeta)
	w.String(m.chainID)
	w.Byte(m.role)
	w.LenBytes(m.owner)
	return w.Bytes()
}

func (m meta) check(r *codec.Reader) error {
	chainID, role, owner := r.String(256), r.Byte(), r.LenBytes(64)
	if err := r.Done(); err != nil {
		return err
	}
	switch {
	case role != m.role:
		return fmt.Errorf("the wallet is a %s's, not a %s's", roleName(role), roleName(m.role))
	case chainID != m.chainID:
		return fmt.Errorf("the wallet is for chain %q, not %q", chainID, m.chainID)
	case !bytes.Equal(owner, m.owner):
		return fmt.Errorf("the wallet belongs to %x, not %x", owner, m.owner)
	}
	return nil
}

func roleName(r byte) string {
	switch r {
	case rolePayer:
		return "payer"
	case rolePayee:
		return "payee"
	}
	return fmt.Sprintf("role %d", r)
}
