package agentmsg

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/a2a"
)

const chain = "mycel-test"

var now = time.Unix(1_750_000_000, 0)

func key(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)) }

func sample(t testing.TB, sealTo *EncryptionKey) Message {
	t.Helper()
	body := Body{Skill: "echo", Message: &a2a.Message{MessageID: "m1", Role: a2a.RoleUser, Parts: []a2a.Part{a2a.TextPart("hello")}}}
	m, err := Make(chain, key(1), Draft{From: 7, To: 9, Session: "ctx-1", SealTo: sealTo}, body.Encode(), now)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTrips(t *testing.T) {
	m := sample(t, nil)
	if err := m.Check(chain, 0); err != nil {
		t.Fatal(err)
	}
	bin := m.Envelope.Encode()
	e, err := Decode(bin)
	if err != nil || e != m.Envelope {
		t.Fatalf("binary: %v\n%+v\n%+v", err, e, m.Envelope)
	}
	e, err = ParseEnvelope(m.Envelope.String())
	if err != nil || e != m.Envelope {
		t.Fatalf("compact: %v", err)
	}
	j, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Message
	if err := json.Unmarshal(j, &back); err != nil || back.Envelope != m.Envelope || !bytes.Equal(back.Payload, m.Payload) {
		t.Fatalf("JSON: %v\n%s", err, j)
	}
	// The compact form is accepted where JSON has the envelope.
	j2 := []byte(`{"envelope":"` + m.Envelope.String() + `","payload":"` + strings.Trim(string(mustJSON(t, m.Payload)), `"`) + `"}`)
	if err := json.Unmarshal(j2, &back); err != nil || back.Envelope != m.Envelope {
		t.Fatalf("JSON with a compact envelope: %v", err)
	}
	if m.Envelope.ID(chain) == m.Envelope.ID("other") {
		t.Fatal("ids must differ across chains")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every field is signed: changing any one of them breaks the signature.
func TestForgedFieldsRefused(t *testing.T) {
	m := sample(t, nil)
	edits := map[string]func(e *Envelope){
		"from":     func(e *Envelope) { e.From++ },
		"to":       func(e *Envelope) { e.To++ },
		"session":  func(e *Envelope) { e.Session += "x" },
		"nonce":    func(e *Envelope) { e.Nonce[0] ^= 1 },
		"expires":  func(e *Envelope) { e.Expires++ },
		"reply_to": func(e *Envelope) { e.ReplyTo[3] ^= 1 },
		"sealed":   func(e *Envelope) { e.Sealed = !e.Sealed },
		"size":     func(e *Envelope) { e.PayloadSize-- },
		"hash":     func(e *Envelope) { e.PayloadHash[0] ^= 1 },
		"key":      func(e *Envelope) { copy(e.Key[:], key(2).Public().(ed25519.PublicKey)) },
		"sig":      func(e *Envelope) { e.Signature[10] ^= 1 },
	}
	for name, edit := range edits {
		e := m.Envelope
		edit(&e)
		if err := e.Verify(chain); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed: %v, want a bad signature", name, err)
		}
	}
	if err := m.Envelope.Verify("another-chain"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another chain: %v", err)
	}
	// A payload other than the signed one.
	other := m
	other.Payload = append([]byte{}, m.Payload...)
	other.Payload[0] ^= 1
	if err := other.Check(chain, 0); !errors.Is(err, ErrPayloadMismatch) {
		t.Errorf("altered payload: %v", err)
	}
	other.Payload = m.Payload[:len(m.Payload)-1]
	if err := other.Check(chain, 0); !errors.Is(err, ErrPayloadMismatch) {
		t.Errorf("short payload: %v", err)
	}
}

func TestLimits(t *testing.T) {
	big := make([]byte, MaxPayload+1)
	if _, err := Make(chain, key(1), Draft{To: 1}, big, now); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized payload: %v", err)
	}
	m, err := Make(chain, key(1), Draft{To: 1}, make([]byte, 2000), now)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(chain, 1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the receiver's limit: %v", err)
	}
	if _, err := Make(chain, key(1), Draft{To: 1, Session: strings.Repeat("s", MaxSession+1)}, nil, now); !errors.Is(err, ErrMalformed) {
		t.Errorf("long session: %v", err)
	}
	if _, err := Make(chain, key(1), Draft{Session: "s"}, nil, now); !errors.Is(err, ErrMalformed) {
		t.Errorf("no target: %v", err)
	}
	if _, err := Make(chain, key(1), Draft{ReplyTo: ID{1}}, nil, now); err != nil {
		t.Errorf("an answer to a sender that is no agent: %v", err)
	}
	e := sample(t, nil).Envelope
	if err := e.CheckTime(now.Add(DefaultTTL + time.Second)); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	e.Expires = now.Add(MaxLifetime + ClockSkew + time.Second).Unix()
	if err := e.CheckTime(now); !errors.Is(err, ErrTooFar) {
		t.Errorf("too far: %v", err)
	}
}

func TestDecodeRefusesNonCanonical(t *testing.T) {
	bin := sample(t, nil).Envelope.Encode()
	cases := map[string][]byte{
		"empty":          {},
		"version 2":      append([]byte{2}, bin[1:]...),
		"trailing byte":  append(append([]byte{}, bin...), 0),
		"truncated":      bin[:len(bin)-1],
		"padded varint":  append([]byte{1, 0x87, 0x00}, bin[2:]...),
		"unknown flags":  setFlags(bin, 2),
		"over-long size": bytes.Repeat([]byte{1}, MaxEncodedLen+1),
	}
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want malformed", name, err)
		}
	}
}

// setFlags rewrites the flags byte of sample's encoding (which has a
// 5-byte session and one-byte ids).
func setFlags(bin []byte, f byte) []byte {
	out := append([]byte{}, bin...)
	// version, from, to, session (1+5), nonce 16, expires 5, reply 32
	out[1+1+1+6+16+5+32] = f
	return out
}

func TestSealing(t *testing.T) {
	recv := key(9)
	pub := EncryptionKeyOf(recv)
	m := sample(t, &pub)
	if !m.Envelope.Sealed || bytes.Contains(m.Payload, []byte("hello")) {
		t.Fatal("payload not sealed")
	}
	if err := m.Check(chain, 0); err != nil {
		t.Fatal(err)
	}
	plain, err := m.Open(chain, DecryptionKey(recv))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBody(plain)
	if err != nil || b.Text() != "hello" || b.Skill != "echo" {
		t.Fatalf("body %+v, %v", b, err)
	}
	if _, err := m.Open(chain, DecryptionKey(key(8))); !errors.Is(err, ErrSeal) {
		t.Errorf("another key opened it: %v", err)
	}
	if _, err := m.Open("another-chain", DecryptionKey(recv)); !errors.Is(err, ErrSeal) {
		t.Errorf("another chain opened it: %v", err)
	}
	// Lifted into an envelope of another sender (re-signed, so the
	// signature is fine): the HPKE info no longer matches.
	lifted := m
	lifted.Envelope.From = 8
	lifted.Envelope.Sign(chain, key(3))
	if err := lifted.Check(chain, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := lifted.Open(chain, DecryptionKey(recv)); !errors.Is(err, ErrSeal) {
		t.Errorf("lifted ciphertext opened: %v", err)
	}
	// The key is deterministic in the seed and differs between agents.
	if EncryptionKeyOf(recv) != pub || EncryptionKeyOf(key(8)) == pub {
		t.Fatal("key derivation")
	}
	k, err := ParseEncryptionKey(pub.String())
	if err != nil || k != pub {
		t.Fatalf("key text: %v", err)
	}
}

func TestCardExtension(t *testing.T) {
	c := a2a.Card{Name: "n", Version: "1"}
	c.SetJSONRPC("http://127.0.0.1:1/agents/3/a2a")
	info := CardInfo{EncryptionKey: EncryptionKeyOf(key(4)), Mailboxes: []string{"http://127.0.0.1:1"}}
	SetCardInfo(&c, info)
	SetCardInfo(&c, info)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := a2a.ParseCard(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CardInfoOf(back)
	if err != nil || got.EncryptionKey != info.EncryptionKey || len(got.Mailboxes) != 1 || len(back.Capabilities.Extensions) != 1 {
		t.Fatalf("%+v %v\n%s", got, err, b)
	}
	if _, err := CardInfoOf(&a2a.Card{Name: "plain"}); err == nil {
		t.Fatal("a card without the extension")
	}
}

// A card edited as JSON keeps what the a2a package does not model, keeps
// other extensions, and ends with one messaging extension, the new one.
func TestSetCardInfoJSON(t *testing.T) {
	in := []byte(`{"name": "n", "description": "d", "version": "1", "url": "http://h/a2a",
	 "x-vendor": {"keep": [1, 2.50]},
	 "capabilities": {"streaming": true, "x-cap": 7, "extensions": [
	   {"uri": "urn:other", "params": {"a": 1}},
	   {"uri": "` + ExtensionURI + `", "params": {"encryption_key": {"kty": "OKP", "crv": "X25519", "x": "old"}}}]},
	 "defaultInputModes": [], "defaultOutputModes": [], "skills": []}`)
	info := CardInfo{EncryptionKey: EncryptionKeyOf(key(5)), EnvelopeURL: "http://h/mycel/envelope"}
	out, err := SetCardInfoJSON(in, info)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a2a.ParseCard(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CardInfoOf(c)
	if err != nil || got.EncryptionKey != info.EncryptionKey || got.EnvelopeURL != info.EnvelopeURL {
		t.Fatalf("%+v %v\n%s", got, err, out)
	}
	if len(c.Capabilities.Extensions) != 2 || c.Capabilities.Extensions[0].URI != "urn:other" || !c.Capabilities.Streaming {
		t.Fatalf("other capabilities lost:\n%s", out)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"x-vendor":{"keep":[1,2.50]}`, `"x-cap":7`} {
		if !strings.Contains(compact.String(), s) {
			t.Errorf("%s lost:\n%s", s, out)
		}
	}
	// Again: the same bytes (one extension, replaced in place of itself).
	again, err := SetCardInfoJSON(out, info)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("not idempotent: %v\n%s\n%s", err, out, again)
	}
	// A card without capabilities gets them.
	if out, err = SetCardInfoJSON([]byte(`{"name": "n"}`), info); err != nil || !strings.Contains(string(out), ExtensionURI) {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := SetCardInfoJSON([]byte(`[1]`), info); err == nil {
		t.Fatal("a card that is no object")
	}
}
