package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"

	"github.com/mycelnet/mycel/blobstore"
)

// Default addresses of a node on one machine.
const (
	DefaultAPIAddr = "127.0.0.1:8844"
	DefaultRPCAddr = "127.0.0.1:26657"
	DefaultP2PAddr = "127.0.0.1:26656"
)

// Config is mycel's own part of a node's configuration (config/mycel.toml).
type Config struct {
	API struct {
		// Listen is the host:port the HTTP API serves on.
		Listen string `toml:"listen"`
	} `toml:"api"`
	Blobs struct {
		MaxBlobBytes int64    `toml:"max_blob_bytes"`
		QuotaBytes   int64    `toml:"quota_bytes"`
		Retention    Duration `toml:"retention"`
		// Peers are the API URLs of other nodes to fetch missing blobs
		// from (testnet init lists every other node of the network).
		Peers []string `toml:"peers"`
	} `toml:"blobs"`
}

// Duration is a time.Duration written as "24h" in TOML.
type Duration struct{ time.Duration }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	d.Duration = v
	return err
}

// DefaultConfig returns mycel's defaults.
func DefaultConfig() Config {
	var c Config
	c.API.Listen = DefaultAPIAddr
	o := blobstore.DefaultOptions()
	c.Blobs.MaxBlobBytes = o.MaxBlobBytes
	c.Blobs.QuotaBytes = o.QuotaBytes
	c.Blobs.Retention = Duration{o.Retention}
	return c
}

// Paths of a home.
func configDir(home string) string       { return filepath.Join(home, "config") }
func mycelConfigPath(home string) string { return filepath.Join(configDir(home), "mycel.toml") }
func cometConfigPath(home string) string { return filepath.Join(configDir(home), "config.toml") }

// GenesisPath returns the path of a home's genesis file.
func GenesisPath(home string) string { return filepath.Join(configDir(home), "genesis.json") }

// KeyringDir returns the directory of a home's account keys.
func KeyringDir(home string) string { return filepath.Join(home, "keyring") }

// IsInitialized reports whether home holds a node's configuration.
func IsInitialized(home string) bool {
	_, err := os.Stat(GenesisPath(home))
	return err == nil
}

// LoadConfig reads config/mycel.toml, falling back to defaults for what it
// does not set.
func LoadConfig(home string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(mycelConfigPath(home))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := toml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", mycelConfigPath(home), err)
	}
	return c, nil
}

// SaveConfig writes config/mycel.toml.
func SaveConfig(home string, c Config) error {
	if err := os.MkdirAll(configDir(home), 0o755); err != nil {
		return err
	}
	f, err := os.Create(mycelConfigPath(home))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "# mycel's settings; CometBFT's are in config.toml beside this file.")
	return toml.NewEncoder(f).Encode(c)
}

// loadCometConfig reads config/config.toml the way CometBFT's own command
// does, over CometBFT's defaults.
func loadCometConfig(home string) (*cmtcfg.Config, error) {
	conf := cmtcfg.DefaultConfig()
	v := viper.New()
	v.SetConfigFile(cometConfigPath(home))
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", cometConfigPath(home), err)
	}
	if err := v.Unmarshal(conf); err != nil {
		return nil, fmt.Errorf("parse %s: %w", cometConfigPath(home), err)
	}
	conf.SetRoot(home)
	if err := conf.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", cometConfigPath(home), err)
	}
	return conf, nil
}

// APIURL returns the URL of the API a home's node serves, for clients that
// are pointed at a home.
func APIURL(home string) (string, bool) {
	if !IsInitialized(home) {
		return "", false
	}
	c, err := LoadConfig(home)
	if err != nil || c.API.Listen == "" {
		return "", false
	}
	return "http://" + dialable(c.API.Listen), true
}

// dialable turns a listen address into one a client can dial: a listener
// on all interfaces is reached on loopback.
func dialable(listen string) string {
	switch {
	case len(listen) > 8 && listen[:8] == "0.0.0.0:":
		return "127.0.0.1:" + listen[8:]
	case len(listen) > 1 && listen[0] == ':':
		return "127.0.0.1" + listen
	}
	return listen
}
