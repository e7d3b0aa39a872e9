package codec

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestUvarintRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1 << 32, math.MaxUint64} {
		w := NewWriter(10)
		w.Uvarint(v)
		r := NewReader(w.Bytes())
		if got := r.Uvarint(); got != v || r.Done() != nil {
			t.Errorf("%d -> %x -> %d, %v", v, w.Bytes(), got, r.Done())
		}
	}
	for _, v := range []int64{0, -1, 1, math.MinInt64, math.MaxInt64} {
		w := NewWriter(10)
		w.Varint(v)
		r := NewReader(w.Bytes())
		if got := r.Varint(); got != v || r.Done() != nil {
			t.Errorf("%d -> %d", v, got)
		}
	}
}

func TestRefusesNonCanonical(t *testing.T) {
	for name, b := range map[string][]byte{
		"non-minimal varint":  {0x80, 0x00},
		"overlong varint":     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		"truncated varint":    {0x80},
		"bool 2":              {0x02},
		"trailing bytes":      {0x01, 0x00},
		"length past the end": {0x05, 'a'},
		"length over limit":   {0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	} {
		r := NewReader(b)
		switch name {
		case "bool 2":
			r.Bool()
		case "length past the end", "length over limit":
			r.LenBytes(8)
		default:
			r.Uvarint()
		}
		if err := r.Done(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s (%x): %v", name, b, err)
		}
	}
}

func TestFirstErrorSticks(t *testing.T) {
	r := NewReader([]byte{0x80})
	r.Uvarint()
	if r.Byte() != 0 || r.Fixed(1) != nil || r.Uvarint() != 0 {
		t.Fatal("reads after an error returned data")
	}
	if r.Err() == nil {
		t.Fatal("no error")
	}
}

// FuzzReader: arbitrary bytes never panic, the reader never modifies its
// input, and whatever decodes re-encodes to the same bytes.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0x03, 'a', 'b', 'c', 0x01, 0x96, 0x01})
	f.Add([]byte{0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		r := NewReader(b)
		s := r.LenBytes(64)
		flag := r.Bool()
		v := r.Uvarint()
		err := r.Done()
		if !bytes.Equal(in, b) {
			t.Fatal("input modified")
		}
		if err != nil {
			return
		}
		w := NewWriter(len(b))
		w.LenBytes(s)
		w.Bool(flag)
		w.Uvarint(v)
		if !bytes.Equal(w.Bytes(), b) {
			t.Fatalf("decoded %x re-encodes to %x", b, w.Bytes())
		}
	})
}
