package tx

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/mycelnet/mycel/types"
)

func sample() *Tx {
	t := &Tx{ChainID: "c", Sequence: 7, Fee: 2500, Expiry: 100, Memo: "hi",
		Msgs: []Msg{{Kind: 0x0101, Body: []byte{1, 2, 3}}}}
	t.Sign(ed25519.NewKeyFromSeed(make([]byte, 32)))
	return t
}

func TestRoundTripAndSignature(t *testing.T) {
	in := sample()
	b := in.Encode()
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Encode(), b) || !out.VerifySignature() {
		t.Fatal("round trip lost something")
	}
	if Hash(b) != types.SumHash(b) {
		t.Fatal("hash is not sha256 of the bytes")
	}
	// Every field is signed: changing any one breaks the signature.
	for name, mutate := range map[string]func(*Tx){
		"chain":    func(t *Tx) { t.ChainID = "d" },
		"sequence": func(t *Tx) { t.Sequence++ },
		"fee":      func(t *Tx) { t.Fee-- },
		"expiry":   func(t *Tx) { t.Expiry = 0 },
		"memo":     func(t *Tx) { t.Memo = "" },
		"kind":     func(t *Tx) { t.Msgs[0].Kind++ },
		"body":     func(t *Tx) { t.Msgs[0].Body = []byte{1, 2, 4} },
	} {
		m, _ := Decode(b)
		mutate(m)
		if m.VerifySignature() {
			t.Errorf("changing the %s kept the signature valid", name)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := sample().Encode()
	noMsgs := sample()
	noMsgs.Msgs = nil
	for name, b := range map[string][]byte{
		"empty":       nil,
		"truncated":   good[:len(good)-1],
		"trailing":    append(bytes.Clone(good), 0),
		"no messages": noMsgs.Encode(),
		"long chain":  append([]byte{100}, bytes.Repeat([]byte{'a'}, 100)...),
	} {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecode: no panic, input untouched, decoding is canonical (whatever
// decodes re-encodes to the same bytes) and repeatable.
func FuzzDecode(f *testing.F) {
	f.Add(sample().Encode())
	f.Add([]byte{})
	f.Add([]byte{0x01, 'c'})
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		t1, err1 := Decode(b)
		t2, err2 := Decode(b)
		if !bytes.Equal(in, b) {
			t.Fatal("input modified")
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatal("two decodes disagree")
		}
		if err1 != nil {
			return
		}
		if !bytes.Equal(t1.Encode(), b) || !bytes.Equal(t2.Encode(), b) {
			t.Fatalf("not canonical: %x", b)
		}
		_ = t1.VerifySignature()
	})
}
