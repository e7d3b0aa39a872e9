package agentmsg

import (
	"errors"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	w := NewWindow(2)
	a := sample(t, nil).Envelope
	if err := w.Admit(&a, now); err != nil {
		t.Fatal(err)
	}
	// The same envelope again, say posted to a second node.
	if err := w.Admit(&a, now); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay: %v", err)
	}
	// The same nonce under another key is another envelope.
	b := a
	b.Key[0] ^= 1
	if err := w.Admit(&b, now); err != nil {
		t.Fatal(err)
	}
	c := sample(t, nil).Envelope
	if err := w.Admit(&c, now); !errors.Is(err, ErrBusy) {
		t.Fatalf("full window: %v", err)
	}
	// Once the first ones expire they leave the window, and the
	// envelopes themselves are refused by their time.
	later := now.Add(DefaultTTL + time.Second)
	if err := w.Admit(&a, later); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired replay: %v", err)
	}
	c.Expires = later.Add(time.Minute).Unix()
	if err := w.Admit(&c, later); err != nil || w.Len() != 1 {
		t.Fatalf("after expiry: %v, %d live", err, w.Len())
	}
	w.Forget(&c)
	if w.Seen(&c) {
		t.Fatal("forgotten envelope still seen")
	}
}
