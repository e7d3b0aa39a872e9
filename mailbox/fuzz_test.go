package mailbox

import (
	"bytes"
	"testing"
	"time"
)

// FuzzRecord feeds arbitrary bytes to the decoder of stored records: no
// panic, the input is not modified, and what decodes re-encodes to the
// same bytes.
func FuzzRecord(f *testing.F) {
	m := msg(f, 3, 20, time.Hour)
	f.Add(encodeRecord(&m, now))
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte(nil), b...)
		got, received, err := decodeRecord(b)
		if !bytes.Equal(in, b) {
			t.Fatal("decodeRecord modified its input")
		}
		if err != nil {
			return
		}
		if out := encodeRecord(&got, received); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", out, b)
		}
	})
}
