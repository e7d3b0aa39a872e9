package types

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Amount
		err  string
	}{
		{"5myc", 5_000_000, ""},
		{"5000000umyc", 5_000_000, ""},
		{"1.25myc", 1_250_000, ""},
		{"0.000001myc", 1, ""},
		{".5myc", 500_000, ""},
		{"0umyc", 0, ""},
		{" 7myc ", 7_000_000, ""},
		{"18446744073709umyc", 18446744073709, ""},
		{"18446744073709.551615myc", MaxAmount, ""},
		{"18446744073709.551616myc", 0, "too large"},
		{"99999999999999999999umyc", 0, "whole number"},
		{"1.0000001myc", 0, "at most 6 decimals"},
		{"5", 0, "add a unit"},
		{"-5myc", 0, "want a number"},
		{"5 myc", 0, "want a number"},
		{"1e3myc", 0, "want a number"},
		{"myc", 0, "want a number"},
		{"umyc", 0, "whole number"},
		{"+5umyc", 0, "whole number"},
		{"1.5umyc", 0, "whole number"},
		{"5MYC", 5_000_000, ""},
	} {
		got, err := ParseAmount(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAmount(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAmount(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestAmountStringRoundTrips(t *testing.T) {
	for _, a := range []Amount{0, 1, 999_999, 1_000_000, 1_500_000, 123_456_789, MaxAmount} {
		s := a.String()
		back, err := ParseAmount(s)
		if err != nil || back != a {
			t.Errorf("%d -> %q -> %v, %v", uint64(a), s, back, err)
		}
	}
}

func TestCheckedArithmetic(t *testing.T) {
	if _, err := MaxAmount.Add(1); !errors.Is(err, ErrOverflow) {
		t.Error("MaxAmount+1 did not overflow")
	}
	if _, err := Amount(1).Sub(2); !errors.Is(err, ErrUnderflow) {
		t.Error("1-2 did not underflow")
	}
	if v, err := MaxAmount.MulDiv(3, 4); err != nil || v != Amount(uint64(MaxAmount)/4*3+2) {
		t.Errorf("MulDiv with a 128-bit intermediate: %v %v", v, err)
	}
	if _, err := MaxAmount.MulDiv(2, 1); !errors.Is(err, ErrOverflow) {
		t.Error("MulDiv past 64 bits did not overflow")
	}
	if _, err := Amount(1).MulDiv(1, 0); err == nil {
		t.Error("division by zero passed")
	}
	if got := Amount(1_000_000).MulFraction(FractionOne / 20); got != 50_000 {
		t.Errorf("5%% of 1000000 = %v", got)
	}
}

func TestAmountJSON(t *testing.T) {
	b, _ := json.Marshal(Amount(MaxAmount))
	if string(b) != `"18446744073709551615"` {
		t.Fatalf("marshal %s", b)
	}
	var a Amount
	if err := json.Unmarshal([]byte(`"42"`), &a); err != nil || a != 42 {
		t.Fatalf("unmarshal string: %v %v", a, err)
	}
	if err := json.Unmarshal([]byte(`42`), &a); err != nil || a != 42 {
		t.Fatalf("unmarshal number: %v %v", a, err)
	}
	if err := json.Unmarshal([]byte(`"-1"`), &a); err == nil {
		t.Fatal("negative amount accepted")
	}
}

func TestAddress(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	a := AddressFromPubKey(pub)
	s := a.String()
	if !strings.HasPrefix(s, "myc1") {
		t.Fatalf("address %s lacks the myc prefix", s)
	}
	back, err := ParseAddress(s)
	if err != nil || back != a {
		t.Fatalf("round trip: %v %v", back, err)
	}
	bad := []string{s[:len(s)-1] + "q", "cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "myc1", strings.ToUpper(s[:10]) + s[10:], ""}
	for _, b := range bad {
		if _, err := ParseAddress(b); err == nil {
			t.Errorf("ParseAddress(%q) accepted", b)
		}
	}
	if ModuleAddress("stake") == ModuleAddress("fee_collector") {
		t.Fatal("module addresses collide")
	}
}

func TestFractionString(t *testing.T) {
	for f, want := range map[Fraction]string{0: "0%", FractionOne: "100%", FractionOne / 20: "5%", 100: "0.01%", 123456: "12.3456%"} {
		if got := f.String(); got != want {
			t.Errorf("%d: %s, want %s", f, got, want)
		}
	}
}

func TestVerifySignatureAndBatch(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte("hello")
	sig := ed25519.Sign(priv, msg)
	if !VerifySignature(pub, msg, sig) {
		t.Fatal("a good signature failed")
	}
	bad := append([]byte(nil), sig...)
	bad[3] ^= 1
	if VerifySignature(pub, msg, bad) || VerifySignature(pub[:31], msg, sig) || VerifySignature(pub, msg, sig[:63]) {
		t.Fatal("a bad signature passed")
	}
	b := NewSignatureBatch()
	b.Add(pub, msg, sig)
	b.Add(pub, msg, bad)
	b.Add(pub, []byte("other"), sig)
	b.Add(pub, msg, sig)
	got := b.Verify()
	if len(got) != 4 || !got[0] || got[1] || got[2] || !got[3] {
		t.Fatalf("batch verdicts %v", got)
	}
}

func TestCodedErrors(t *testing.T) {
	e := NewError("bank", 2, "insufficient funds")
	w := e.Wrapf("has %d", 3)
	if !errors.Is(w, e) || w.Error() != "insufficient funds: has 3" {
		t.Fatalf("wrapped error %v", w)
	}
	if s, c := CodeOf(w); s != "bank" || c != 2 {
		t.Fatalf("CodeOf = %s %d", s, c)
	}
	if s, c := CodeOf(errors.New("x")); s != "mycel" || c != 1 {
		t.Fatalf("CodeOf(plain) = %s %d", s, c)
	}
}
