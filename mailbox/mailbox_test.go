package mailbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mycelnet/mycel/agentmsg"
)

var now = time.Unix(1_750_000_000, 0)

func msg(t testing.TB, to uint64, n int, ttl time.Duration) agentmsg.Message {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	m, err := agentmsg.Make("c", key, agentmsg.Draft{To: to, TTL: ttl}, make([]byte, n), now)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPutFetchAck(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	var want []agentmsg.Message
	for i := 0; i < 5; i++ {
		m := msg(t, 7, 10+i, time.Hour)
		want = append(want, m)
		if seq, err := s.Put(7, m, now); err != nil || seq != uint64(i+1) {
			t.Fatalf("put %d: seq %d, %v", i, seq, err)
		}
	}
	if _, err := s.Put(8, msg(t, 8, 1, time.Hour), now); err != nil {
		t.Fatal(err)
	}
	got, err := s.Fetch(7, 0, 3, now)
	if err != nil || len(got) != 3 || got[0].Seq != 1 || got[2].Seq != 3 || got[1].Message.Envelope != want[1].Envelope ||
		!bytes.Equal(got[1].Message.Payload, want[1].Payload) {
		t.Fatalf("fetch: %v %+v", err, got)
	}
	// Not acknowledged: fetched again from the start, and after 3 the rest.
	if again, _ := s.Fetch(7, 0, 10, now); len(again) != 5 {
		t.Fatalf("refetch: %d", len(again))
	}
	if rest, _ := s.Fetch(7, 3, 10, now); len(rest) != 2 || rest[0].Seq != 4 {
		t.Fatalf("after 3: %+v", rest)
	}
	if n, err := s.Ack(7, 3); err != nil || n != 3 {
		t.Fatalf("ack: %d %v", n, err)
	}
	if c, _ := s.Depth(7); c != 2 {
		t.Fatalf("depth %d", c)
	}
	// The store survives a restart, counters and sequence numbers too.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, _ := s.Depth(7); c != 2 {
		t.Fatalf("depth after reopen %d", c)
	}
	if seq, _ := s.Put(7, msg(t, 7, 1, time.Hour), now); seq != 6 {
		t.Fatalf("seq after reopen %d", seq)
	}
	left, _ := s.Fetch(7, 0, 10, now)
	if len(left) != 3 || left[0].Seq != 4 {
		t.Fatalf("after reopen: %+v", left)
	}
}

func TestLimits(t *testing.T) {
	s, err := OpenInMemory(Options{MaxMessageBytes: 1000, MaxDepth: 3, MaxAgentBytes: 1800, MaxTotalBytes: 3000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(1, msg(t, 1, 1001, time.Hour), now); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Put(1, msg(t, 1, 10, time.Hour), now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(1, msg(t, 1, 10, time.Hour), now); !errors.Is(err, ErrFull) {
		t.Fatalf("depth: %v", err)
	}
	if _, err := s.Put(2, msg(t, 2, 900, time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(2, msg(t, 2, 900, time.Hour), now); !errors.Is(err, ErrFull) {
		t.Fatalf("agent bytes: %v", err)
	}
	if _, err := s.Put(3, msg(t, 3, 900, time.Hour), now); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("total bytes: %v (total %d)", err, s.Total())
	}
	// Acknowledging frees room.
	if _, err := s.Ack(2, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(3, msg(t, 3, 900, time.Hour), now); err != nil {
		t.Fatal(err)
	}
}

func TestExpiry(t *testing.T) {
	s, err := OpenInMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Put(1, msg(t, 1, 5, time.Minute), now)
	s.Put(1, msg(t, 1, 5, time.Hour), now)
	later := now.Add(2 * time.Minute)
	if got, _ := s.Fetch(1, 0, 10, later); len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("expired message fetched: %+v", got)
	}
	if n, err := s.Collect(later); n != 1 || err != nil {
		t.Fatalf("collect %d %v", n, err)
	}
	if c, _ := s.Depth(1); c != 1 {
		t.Fatalf("depth %d", c)
	}
}

func TestWait(t *testing.T) {
	s, err := OpenInMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan bool)
	go func() { done <- s.Wait(context.Background(), 4, 0) }()
	s.Put(4, msg(t, 4, 5, time.Hour), now)
	if !<-done {
		t.Fatal("wait did not see the message")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s.Wait(ctx, 4, 1) {
		t.Fatal("nothing new after 1")
	}
}
