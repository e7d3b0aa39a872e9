package keyring

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddGetListAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keyring")
	kr := Open(dir)
	a, err := kr.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Add("alice"); !errors.Is(err, ErrExists) {
		t.Fatalf("second alice: %v", err)
	}
	got, err := kr.Get("alice")
	if err != nil || got.Address != a.Address || !got.Private.Equal(a.Private) {
		t.Fatalf("get: %v %v", got, err)
	}
	st, _ := os.Stat(filepath.Join(dir, "alice.json"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o", st.Mode().Perm())
	}
	st, _ = os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("keyring mode %o", st.Mode().Perm())
	}
	if _, err := kr.Import("bob", a.Seed()); err != nil {
		t.Fatal(err)
	}
	keys, err := kr.List()
	if err != nil || len(keys) != 2 || keys[0].Name != "alice" || keys[1].Address != a.Address {
		t.Fatalf("list %v %v", keys, err)
	}
	if _, err := kr.Get("carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := kr.Add(bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	// A key file whose address does not match its key is refused.
	b, _ := os.ReadFile(filepath.Join(dir, "alice.json"))
	other, _ := kr.Add("other")
	forged := strings.Replace(string(b), a.Address.String(), other.Address.String(), 1)
	if err := os.WriteFile(filepath.Join(dir, "other.json"), []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Get("other"); err == nil {
		t.Fatal("mismatched key file accepted")
	}
}
