package agentmsg

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the binary decoder and, as JSON, to
// the JSON decoder: no panic, the input is not modified, and whatever
// decodes re-encodes to the same bytes (one encoding per envelope) and
// survives a JSON round trip unchanged.
func FuzzDecode(f *testing.F) {
	m := sample(f, nil)
	f.Add(m.Envelope.Encode())
	pub := EncryptionKeyOf(key(5))
	f.Add(sample(f, &pub).Envelope.Encode())
	j, _ := json.Marshal(m.Envelope)
	f.Add(j)
	f.Add([]byte(`"` + m.Envelope.String() + `"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte{}, b...)
		e, err := Decode(b)
		if !bytes.Equal(in, b) {
			t.Fatal("Decode modified its input")
		}
		if err == nil {
			if !bytes.Equal(e.Encode(), b) {
				t.Fatalf("re-encoding differs:\n%x\n%x", e.Encode(), b)
			}
			again, err := Decode(b)
			if err != nil || again != e {
				t.Fatal("decoding is not deterministic")
			}
			checkJSON(t, e)
			_ = e.Verify("c")
		}
		var je Envelope
		if err := json.Unmarshal(b, &je); err == nil {
			checkJSON(t, je)
			if _, err := Decode(je.Encode()); err != nil {
				t.Fatalf("JSON-decoded envelope does not re-decode: %v", err)
			}
		}
		var msg Message
		_ = json.Unmarshal(b, &msg)
		_, _ = ParseBody(b)
	})
}

func checkJSON(t *testing.T, e Envelope) {
	j, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back Envelope
	if err := json.Unmarshal(j, &back); err != nil || back != e {
		t.Fatalf("JSON round trip: %v\n%s", err, j)
	}
}
