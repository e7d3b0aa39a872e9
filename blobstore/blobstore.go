// Package blobstore is a node's content-addressed store for blobs that
// the chain refers to by hash (job inputs and outputs, models, WebAssembly
// modules, WARC files): the bytes live here, off chain.
//
// A blob is stored under its sha256 in a two-level directory, with a small
// JSON sidecar that records its size, who uploaded it and when it was
// last uploaded. Uploads are signed by an account that exists on chain;
// each account has a quota of stored bytes, and a blob larger than the
// size limit is refused. Blobs that nothing on chain refers to are
// collected once they are older than the retention period.
package blobstore

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mycelnet/mycel/types"
)

// Errors, each mapped to an HTTP status by the API.
var (
	ErrNotFound       = errors.New("blob not found")
	ErrTooLarge       = errors.New("blob too large")
	ErrQuota          = errors.New("upload quota exceeded")
	ErrBadSignature   = errors.New("upload signature does not verify")
	ErrExpired        = errors.New("upload authorization expired")
	ErrUnknownAccount = errors.New("uploader has no account on chain")
)

// Options configure a Store.
type Options struct {
	// MaxBlobBytes is the largest blob accepted.
	MaxBlobBytes int64
	// QuotaBytes is how many bytes one account may keep stored.
	QuotaBytes int64
	// Retention is how long an unreferenced blob is kept.
	Retention time.Duration
}

// DefaultOptions: 64 MiB blobs, 1 GiB per account, kept a day.
func DefaultOptions() Options {
	return Options{MaxBlobBytes: 64 << 20, QuotaBytes: 1 << 30, Retention: 24 * time.Hour}
}

// Upload is a signed authorization to upload.
type Upload struct {
	PubKey    ed25519.PublicKey
	Expires   int64 // unix seconds
	Signature []byte
}

type meta struct {
	Size     int64         `json:"size"`
	Uploader types.Address `json:"uploader"`
	Uploaded int64         `json:"uploaded_unix"`
}

// Store is a directory of blobs.
type Store struct {
	dir     string
	chainID string
	opts    Options

	mu    sync.Mutex
	usage map[types.Address]int64
}

// Open opens the store in dir for a chain, counting each account's usage.
func Open(dir, chainID string, o Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	s := &Store{dir: dir, chainID: chainID, opts: o, usage: map[types.Address]int64{}}
	err := s.walk(func(_ types.Hash, m meta) error {
		s.usage[m.Uploader] += m.Size
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Options returns the store's limits.
func (s *Store) Options() Options { return s.opts }

func (s *Store) path(h types.Hash) string {
	hs := h.String()
	return filepath.Join(s.dir, hs[:2], hs)
}

// Put stores the blob read from r if the upload is properly signed, within
// the size limit and within the uploader's quota. exists says whether an
// address has an account on chain.
func (s *Store) Put(r io.Reader, up Upload, now time.Time, exists func(types.Address) bool) (types.Hash, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "upload-*")
	if err != nil {
		return types.Hash{}, 0, fmt.Errorf("blob store: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, s.opts.MaxBlobBytes+1))
	if err != nil {
		return types.Hash{}, 0, fmt.Errorf("read upload: %w", err)
	}
	if n > s.opts.MaxBlobBytes {
		return types.Hash{}, 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, s.opts.MaxBlobBytes)
	}
	var sum types.Hash
	copy(sum[:], h.Sum(nil))

	if !types.VerifySignature(up.PubKey, types.BlobUploadSignBytes(s.chainID, sum, n, up.Expires), up.Signature) {
		return sum, n, fmt.Errorf("%w for blob %s of %d bytes on chain %s", ErrBadSignature, sum, n, s.chainID)
	}
	if up.Expires < now.Unix() {
		return sum, n, fmt.Errorf("%w at %s", ErrExpired, time.Unix(up.Expires, 0).UTC().Format(time.RFC3339))
	}
	uploader := types.AddressFromPubKey(up.PubKey)
	if !exists(uploader) {
		return sum, n, fmt.Errorf("%w: %s; fund it first", ErrUnknownAccount, uploader)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if m, err := s.readMeta(sum); err == nil {
		// Already here: refresh its retention, charge nobody again.
		m.Uploaded = now.Unix()
		return sum, n, s.writeMeta(sum, m)
	}
	if s.usage[uploader]+n > s.opts.QuotaBytes {
		return sum, n, fmt.Errorf("%w: %s stores %d bytes, the quota is %d", ErrQuota, uploader, s.usage[uploader], s.opts.QuotaBytes)
	}
	if err := tmp.Sync(); err != nil {
		return sum, n, fmt.Errorf("blob store: %w", err)
	}
	p := s.path(sum)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return sum, n, fmt.Errorf("blob store: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return sum, n, fmt.Errorf("blob store: %w", err)
	}
	if err := s.writeMeta(sum, meta{Size: n, Uploader: uploader, Uploaded: now.Unix()}); err != nil {
		os.Remove(p)
		return sum, n, err
	}
	s.usage[uploader] += n
	return sum, n, nil
}

// Open returns a reader of a blob and its size.
func (s *Store) Open(h types.Hash) (*os.File, int64, error) {
	f, err := os.Open(s.path(h))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %s", ErrNotFound, h)
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// Usage returns the bytes an account has stored.
func (s *Store) Usage(a types.Address) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage[a]
}

// Collect deletes blobs uploaded before now minus the retention period
// that referenced says nothing refers to. It returns how many it deleted.
func (s *Store) Collect(now time.Time, referenced func(types.Hash) bool) (int, error) {
	cutoff := now.Add(-s.opts.Retention).Unix()
	var old []types.Hash
	s.mu.Lock()
	err := s.walk(func(h types.Hash, m meta) error {
		if m.Uploaded < cutoff {
			old = append(old, h)
		}
		return nil
	})
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, h := range old {
		if referenced != nil && referenced(h) {
			continue
		}
		s.mu.Lock()
		m, err := s.readMeta(h)
		if err == nil && m.Uploaded < cutoff {
			os.Remove(s.path(h))
			os.Remove(s.path(h) + ".meta")
			s.usage[m.Uploader] -= m.Size
			deleted++
		}
		s.mu.Unlock()
	}
	return deleted, nil
}

func (s *Store) readMeta(h types.Hash) (meta, error) {
	var m meta
	b, err := os.ReadFile(s.path(h) + ".meta")
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("blob %s metadata: %w", h, err)
	}
	return m, nil
}

func (s *Store) writeMeta(h types.Hash, m meta) error {
	b, _ := json.Marshal(m)
	tmp := s.path(h) + ".meta.tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("blob %s metadata: %w", h, err)
	}
	return os.Rename(tmp, s.path(h)+".meta")
}

// walk visits every stored blob's metadata in hash order.
func (s *Store) walk(fn func(types.Hash, meta) error) error {
	dirs, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("blob store %s: %w", s.dir, err)
	}
	var names []string
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, d.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			if n, ok := strings.CutSuffix(f.Name(), ".meta"); ok {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		h, err := types.ParseHash(n)
		if err != nil {
			continue
		}
		m, err := s.readMeta(h)
		if err != nil {
			continue
		}
		if err := fn(h, m); err != nil {
			return err
		}
	}
	return nil
}

// Has reports whether the store holds a blob.
func (s *Store) Has(h types.Hash) bool {
	_, err := os.Stat(s.path(h))
	return err == nil
}

// PutFetched stores a blob fetched from a peer after checking that its
// content hashes to h. It is charged to no account and kept for the
// retention period like any other.
func (s *Store) PutFetched(h types.Hash, r io.Reader, now time.Time) error {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "fetch-*")
	if err != nil {
		return fmt.Errorf("blob store: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(r, s.opts.MaxBlobBytes+1))
	if err != nil {
		return fmt.Errorf("fetch blob %s: %w", h, err)
	}
	if n > s.opts.MaxBlobBytes {
		return fmt.Errorf("fetch blob %s: %w", h, ErrTooLarge)
	}
	var got types.Hash
	copy(got[:], sum.Sum(nil))
	if got != h {
		return fmt.Errorf("fetch blob %s: the peer sent content with hash %s", h, got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Has(h) {
		return nil
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	p := s.path(h)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return err
	}
	return s.writeMeta(h, meta{Size: n, Uploaded: now.Unix()})
}
