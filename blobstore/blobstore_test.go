package blobstore

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/mycelnet/mycel/types"
)

var now = time.Unix(1_800_000_000, 0)

func upload(key ed25519.PrivateKey, data []byte, chain string, exp int64) Upload {
	sig := ed25519.Sign(key, types.BlobUploadSignBytes(chain, types.SumHash(data), int64(len(data)), exp))
	return Upload{PubKey: key.Public().(ed25519.PublicKey), Expires: exp, Signature: sig}
}

func everyone(types.Address) bool { return true }

func TestPutGetAndLimits(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	s, err := Open(t.TempDir(), "c", Options{MaxBlobBytes: 10, QuotaBytes: 15, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("0123456789")
	exp := now.Add(time.Minute).Unix()
	h, n, err := s.Put(bytes.NewReader(data), upload(key, data, "c", exp), now, everyone)
	if err != nil || h != types.SumHash(data) || n != 10 {
		t.Fatalf("put: %v %v %v", h, n, err)
	}
	f, size, err := s.Open(h)
	if err != nil || size != 10 {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	// The same blob again costs no quota.
	if _, _, err := s.Put(bytes.NewReader(data), upload(key, data, "c", exp), now, everyone); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		up   Upload
		ok   func(types.Address) bool
		err  error
	}{
		{"too large", []byte("01234567890"), upload(key, []byte("01234567890"), "c", exp), everyone, ErrTooLarge},
		{"over quota", []byte("abcdefghi"), upload(key, []byte("abcdefghi"), "c", exp), everyone, ErrQuota},
		{"other chain", []byte("x"), upload(key, []byte("x"), "d", exp), everyone, ErrBadSignature},
		{"other content", []byte("y"), upload(key, []byte("x"), "c", exp), everyone, ErrBadSignature},
		{"expired", []byte("x"), upload(key, []byte("x"), "c", now.Unix()-1), everyone, ErrExpired},
		{"no account", []byte("x"), upload(key, []byte("x"), "c", exp), func(types.Address) bool { return false }, ErrUnknownAccount},
	} {
		if _, _, err := s.Put(bytes.NewReader(tc.data), tc.up, now, tc.ok); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	if u := s.Usage(types.AddressFromPubKey(key.Public().(ed25519.PublicKey))); u != 10 {
		t.Fatalf("usage %d", u)
	}
	if _, _, err := s.Open(types.SumHash([]byte("nope"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing blob: %v", err)
	}
}

func TestCollectKeepsReferencedAndRecent(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	dir := t.TempDir()
	s, _ := Open(dir, "c", Options{MaxBlobBytes: 100, QuotaBytes: 100, Retention: time.Hour})
	put := func(d string, at time.Time) types.Hash {
		h, _, err := s.Put(bytes.NewReader([]byte(d)), upload(key, []byte(d), "c", at.Add(time.Minute).Unix()), at, everyone)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	old := put("old", now)
	pinned := put("pinned", now)
	fresh := put("fresh", now.Add(50*time.Minute))
	n, err := s.Collect(now.Add(61*time.Minute), func(h types.Hash) bool { return h == pinned })
	if err != nil || n != 1 {
		t.Fatalf("collected %d, %v", n, err)
	}
	for h, want := range map[types.Hash]bool{old: false, pinned: true, fresh: true} {
		if _, _, err := s.Open(h); (err == nil) != want {
			t.Errorf("blob %s kept=%v, want %v", h, err == nil, want)
		}
	}
	// Usage is recounted from disk on open.
	s2, _ := Open(dir, "c", s.Options())
	if u := s2.Usage(types.AddressFromPubKey(key.Public().(ed25519.PublicKey))); u != int64(len("pinned")+len("fresh")) {
		t.Fatalf("usage after reopen %d", u)
	}
}
