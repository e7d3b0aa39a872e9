// Package keyring keeps account keys in a directory: one JSON file per
// key, mode 0600, in a directory of mode 0700. Keys are stored
// unencrypted, like CometBFT's own validator key file and Cosmos's "test"
// backend: protect the home directory, or keep keys of real value in a
// hardware or remote signer (not yet supported).
package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mycelnet/mycel/types"
)

// ErrNotFound is returned for a key name the keyring does not hold.
var ErrNotFound = errors.New("key not found")

// ErrExists is returned when adding a name that is taken.
var ErrExists = errors.New("key already exists")

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Key is a named account key.
type Key struct {
	Name    string
	Address types.Address
	Private ed25519.PrivateKey
}

// PubKey returns the public key.
func (k Key) PubKey() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

type file struct {
	Name    string        `json:"name"`
	Address types.Address `json:"address"`
	PubKey  string        `json:"pub_key"`
	Seed    string        `json:"private_key_seed"`
}

// Keyring is a directory of keys.
type Keyring struct{ dir string }

// Open returns the keyring in dir; the directory is made on first write.
func Open(dir string) *Keyring { return &Keyring{dir: dir} }

// Dir returns the keyring's directory.
func (k *Keyring) Dir() string { return k.dir }

func (k *Keyring) path(name string) string { return filepath.Join(k.dir, name+".json") }

func checkName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("key name %q: use letters, digits, '.', '_' or '-' (at most 64)", name)
	}
	return nil
}

// Add creates a new random key.
func (k *Keyring) Add(name string) (Key, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return Key{}, err
	}
	return k.Import(name, seed)
}

// Import stores a key from its 32-byte seed.
func (k *Keyring) Import(name string, seed []byte) (Key, error) {
	if err := checkName(name); err != nil {
		return Key{}, err
	}
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("key %s: seed of %d bytes, want %d", name, len(seed), ed25519.SeedSize)
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return Key{}, fmt.Errorf("keyring %s: %w", k.dir, err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	key := Key{Name: name, Address: types.AddressFromPubKey(priv.Public().(ed25519.PublicKey)), Private: priv}
	b, err := json.MarshalIndent(file{Name: name, Address: key.Address, PubKey: hex.EncodeToString(key.PubKey()), Seed: hex.EncodeToString(seed)}, "", "  ")
	if err != nil {
		return Key{}, err
	}
	f, err := os.OpenFile(k.path(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Key{}, fmt.Errorf("key %s: %w in %s", name, ErrExists, k.dir)
	}
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", name, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return Key{}, fmt.Errorf("key %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return Key{}, fmt.Errorf("key %s: %w", name, err)
	}
	return key, nil
}

// Get loads a key by name.
func (k *Keyring) Get(name string) (Key, error) {
	if err := checkName(name); err != nil {
		return Key{}, err
	}
	b, err := os.ReadFile(k.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return Key{}, fmt.Errorf("key %q: %w in %s (list them with: mycel keys list)", name, ErrNotFound, k.dir)
	}
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", name, err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", k.path(name), err)
	}
	seed, err := hex.DecodeString(f.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("key file %s: bad private key seed", k.path(name))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	key := Key{Name: name, Address: types.AddressFromPubKey(priv.Public().(ed25519.PublicKey)), Private: priv}
	if key.Address != f.Address {
		return Key{}, fmt.Errorf("key file %s: address %s does not match its key", k.path(name), f.Address)
	}
	return key, nil
}

// List returns every key, by name.
func (k *Keyring) List() ([]Key, error) {
	entries, err := os.ReadDir(k.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", k.dir, err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]Key, 0, len(names))
	for _, n := range names {
		key, err := k.Get(n)
		if err != nil {
			return nil, err
		}
		out = append(out, key)
	}
	return out, nil
}

// Seed returns the key's 32-byte private seed, for export.
func (k Key) Seed() []byte { return k.Private.Seed() }
