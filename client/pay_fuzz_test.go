package client

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/mycelnet/mycel/inference"
)

// FuzzPayStream feeds a paid stream's reader arbitrary bytes in arbitrary
// pieces: no panic, the bytes pass through unchanged, the end is reported
// once, and a payment is found only in a data line.
func FuzzPayStream(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[]}\n\ndata: {\"mycel_payment\":{\"channel\":\"3\",\"lane\":\"1\",\"charged\":\"12\"}}\n\ndata: [DONE]\n\n"), uint8(7))
	f.Add([]byte("data: {\"mycel_payment\": nul"), uint8(1))
	f.Add([]byte("\n\n\ndata: \"mycel_payment\"\n"), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, piece uint8) {
		orig := bytes.Clone(in)
		calls := 0
		var got *inference.Payment
		rc := io.NopCloser(bytes.NewReader(in))
		s := &payStream{rc: rc, r: bufio.NewReader(rc), done: func(p *inference.Payment) { calls++; got = p }}
		var out bytes.Buffer
		buf := make([]byte, int(piece)%64+1)
		for {
			n, err := s.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		s.Close()
		if !bytes.Equal(out.Bytes(), orig) || !bytes.Equal(in, orig) {
			t.Fatalf("the stream changed: %q, want %q", out.Bytes(), orig)
		}
		if calls != 1 {
			t.Fatalf("done called %d times", calls)
		}
		if got != nil && !bytes.Contains(in, []byte("data: ")) {
			t.Fatalf("a payment %+v from no data line", got)
		}
	})
}
