package agentmsg

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func admitOrFail(t *testing.T, w *Window, e *Envelope, at time.Time) {
	t.Helper()
	if err := w.Admit(e, at); err != nil {
		t.Fatal(err)
	}
}

// What a window on disk admitted is refused after it is opened again,
// whether it was closed or not (a crash: the record is fsynced before
// Admit returns); what expired in between is gone.
func TestWindowFileReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent", "replay.window")
	w, err := OpenWindow(path, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	a, b := sample(t, nil).Envelope, sample(t, nil).Envelope
	b.Expires = now.Add(time.Hour).Unix()
	admitOrFail(t, w, &a, now)
	admitOrFail(t, w, &b, now)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 || st.Size() != int64(len(windowMagic)+2*recordSize) {
		t.Fatalf("file: %v %v", st, err)
	}
	// No Close: as if the process died here.
	w2, err := OpenWindow(path, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Admit(&a, now); !errors.Is(err, ErrReplayed) {
		t.Fatalf("after a crash: %v", err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w2.Admit(&b, now); err == nil {
		t.Fatal("admitted by a closed window")
	}
	later := now.Add(DefaultTTL + time.Second)
	w3, err := OpenWindow(path, 0, later)
	if err != nil {
		t.Fatal(err)
	}
	defer w3.Close()
	if w3.Len() != 1 || !w3.Seen(&b) || w3.Seen(&a) {
		t.Fatalf("after expiry: %d live", w3.Len())
	}
	if err := w3.Admit(&b, later); !errors.Is(err, ErrReplayed) {
		t.Fatalf("live one: %v", err)
	}
}

// A torn append (a crash mid-write) is cut off; damage before a good
// record is refused; Forget is kept.
func TestWindowFileDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w")
	w, err := OpenWindow(path, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := sample(t, nil).Envelope, sample(t, nil).Envelope, sample(t, nil).Envelope
	admitOrFail(t, w, &a, now)
	admitOrFail(t, w, &b, now)
	w.Forget(&b)
	admitOrFail(t, w, &c, now)
	w.Close()
	raw, _ := os.ReadFile(path)

	torn := append(append([]byte{}, raw...), raw[len(windowMagic):len(windowMagic)+20]...)
	os.WriteFile(path, torn, 0o600)
	w, err = OpenWindow(path, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Seen(&a) || w.Seen(&b) || !w.Seen(&c) {
		t.Fatal("torn tail: wrong entries")
	}
	// The window appends after the cut.
	d := sample(t, nil).Envelope
	admitOrFail(t, w, &d, now)
	w.Close()
	if w, err = OpenWindow(path, 0, now); err != nil || !w.Seen(&d) {
		t.Fatalf("after appending past a cut tail: %v", err)
	}
	w.Close()

	// The last record zeroed (a file extended before its data): cut.
	raw, _ = os.ReadFile(path)
	zeroed := append([]byte{}, raw...)
	clear(zeroed[len(zeroed)-recordSize:])
	os.WriteFile(path, zeroed, 0o600)
	if w, err = OpenWindow(path, 0, now); err != nil || w.Seen(&d) || !w.Seen(&c) {
		t.Fatalf("zeroed tail: %v", err)
	}
	w.Close()

	// A bad record with a good one after it is damage.
	raw, _ = os.ReadFile(path)
	raw[len(windowMagic)+3] ^= 1
	os.WriteFile(path, raw, 0o600)
	if _, err := OpenWindow(path, 0, now); err == nil {
		t.Fatal("damaged file opened")
	}
	os.WriteFile(path, []byte("something else entirely"), 0o600)
	if _, err := OpenWindow(path, 0, now); err == nil {
		t.Fatal("foreign file opened")
	}
}

// As entries expire the file is rewritten with the live ones, so it stays
// about the size of the window; concurrent Admits share fsyncs.
func TestWindowFileCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w")
	w, err := OpenWindow(path, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	w.j.compactMin = 8
	at := now
	var last Envelope
	for i := range 100 {
		e := sample(t, nil).Envelope
		e.Expires = at.Add(30 * time.Second).Unix()
		admitOrFail(t, w, &e, at)
		at = at.Add(10 * time.Second) // about 3 live at a time
		if i == 99 {
			last = e
		}
	}
	st, _ := os.Stat(path)
	if recs := (st.Size() - int64(len(windowMagic))) / recordSize; recs > 2*int64(w.j.compactMin)+2 {
		t.Fatalf("%d records in the file for %d live", recs, w.Len())
	}
	w.Close()
	w, err = OpenWindow(path, 0, at)
	if err != nil || !w.Seen(&last) {
		t.Fatalf("after compaction: %v", err)
	}

	// Sixteen goroutines admitting at once: all durable, fewer fsyncs
	// than records is possible but not promised, so only durability is
	// checked.
	var wg sync.WaitGroup
	es := make([]Envelope, 64)
	for i := range es {
		es[i] = sample(t, nil).Envelope
		es[i].Expires = at.Add(time.Minute).Unix()
	}
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(es); i += 16 {
				if err := w.Admit(&es[i], at); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	w2, err := OpenWindow(path, 0, at) // the first is not closed: a crash
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		if !w2.Seen(&es[i]) {
			t.Fatalf("envelope %d lost", i)
		}
	}
}
