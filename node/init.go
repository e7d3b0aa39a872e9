package node

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	cmttime "github.com/cometbft/cometbft/types/time"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/types"
)

// NodeSpec describes one node of a network being laid out.
type NodeSpec struct {
	Home    string
	Moniker string
	// Host is where the other nodes reach this one (127.0.0.1 on one
	// machine).
	Host    string
	P2PPort int
	RPCPort int
	APIPort int
	// Listen on all interfaces rather than loopback (for networks that
	// span machines).
	ListenAll bool
	// Validator nodes get a bonded, funded operator key named after the
	// moniker in their keyring.
	Validator bool
}

// Account is an extra funded key, made in the first node's keyring.
type Account struct {
	Name   string
	Amount types.Amount
}

// NetworkSpec describes a network to lay out.
type NetworkSpec struct {
	ChainID string
	Nodes   []NodeSpec
	// Accounts are made in the first node's keyring and funded at genesis.
	Accounts []Account
	// Balances fund addresses whose keys are kept elsewhere.
	Balances []app.GenesisAccount
	// OperatorBalance and OperatorBond fund and bond each validator's
	// operator account.
	OperatorBalance types.Amount
	OperatorBond    types.Amount
	// BlockTime is CometBFT's timeout_commit: the pause after each block.
	BlockTime time.Duration
	// UnbondingBlocks is the unbonding period; the evidence max age is set
	// to the same number of blocks and to as many block times.
	UnbondingBlocks int64
	// GenesisTime, zero for now.
	GenesisTime time.Time
	// Models are registered at genesis (height 0); their owners need no
	// account.
	Models []model.Model
	// ChannelSettleBlocks is the payment channels' challenge period; 0
	// for the default (paych.DefaultParams).
	ChannelSettleBlocks int64
}

// InitNetwork writes the homes of a new network: keys, configuration and
// a shared genesis. It refuses homes that already hold a node.
func InitNetwork(spec NetworkSpec) error {
	if len(spec.Nodes) == 0 {
		return fmt.Errorf("a network needs at least one node")
	}
	if spec.ChainID == "" {
		return fmt.Errorf("a network needs a chain id")
	}
	type made struct {
		pv      *privval.FilePV
		nodeKey *p2p.NodeKey
	}
	mades := make([]made, len(spec.Nodes))
	var accounts []app.GenesisAccount
	var validators []app.GenesisValidator
	for i, n := range spec.Nodes {
		if IsInitialized(n.Home) {
			return fmt.Errorf("%s already holds a node; pick another directory or remove it", n.Home)
		}
		cmtcfg.EnsureRoot(n.Home)
		conf := cmtcfg.DefaultConfig()
		conf.SetRoot(n.Home)
		pv, err := privval.GenFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile(), nil)
		if err != nil {
			return err
		}
		pv.Save()
		nk, err := p2p.LoadOrGenNodeKey(conf.NodeKeyFile())
		if err != nil {
			return fmt.Errorf("node key of %s: %w", n.Moniker, err)
		}
		mades[i] = made{pv: pv, nodeKey: nk}
		if n.Validator {
			op, err := getOrAdd(keyring.Open(KeyringDir(n.Home)), n.Moniker)
			if err != nil {
				return err
			}
			accounts = append(accounts, app.GenesisAccount{Address: op.Address, Amount: spec.OperatorBalance})
			validators = append(validators, app.GenesisValidator{Operator: op.Address, ConsensusKey: pv.Key.PubKey.Bytes(), Bond: spec.OperatorBond})
		}
	}
	kr := keyring.Open(KeyringDir(spec.Nodes[0].Home))
	for _, a := range spec.Accounts {
		k, err := getOrAdd(kr, a.Name)
		if err != nil {
			return err
		}
		accounts = append(accounts, app.GenesisAccount{Address: k.Address, Amount: a.Amount})
	}

	accounts = append(accounts, spec.Balances...)
	blockTime := spec.BlockTime
	if blockTime <= 0 {
		blockTime = time.Second
	}
	unbonding := spec.UnbondingBlocks
	if unbonding <= 0 {
		unbonding = 100
	}
	unbondingSecs := int64((time.Duration(unbonding) * blockTime).Seconds())
	if unbondingSecs < 1 {
		unbondingSecs = 1
	}
	g, err := app.BuildGenesis(accounts, validators, app.DefaultStake(unbonding, unbondingSecs))
	if err != nil {
		return err
	}
	g.Model.Models = spec.Models
	if spec.ChannelSettleBlocks > 0 {
		g.Paych.SettleBlocks = spec.ChannelSettleBlocks
	}
	appState, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	gt := spec.GenesisTime
	if gt.IsZero() {
		gt = cmttime.Now()
	}
	params := cmttypes.DefaultConsensusParams()
	params.Evidence.MaxAgeNumBlocks = unbonding
	params.Evidence.MaxAgeDuration = time.Duration(unbondingSecs) * time.Second
	// Validators attest in their vote extensions which job outputs their
	// nodes hold, and add randomness to the beacon.
	params.Feature.VoteExtensionsEnableHeight = 1
	doc := &cmttypes.GenesisDoc{
		ChainID: spec.ChainID, GenesisTime: gt, InitialHeight: 1,
		ConsensusParams: params, AppState: appState,
	}
	for i, n := range spec.Nodes {
		if !n.Validator {
			continue
		}
		pub := mades[i].pv.Key.PubKey
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{
			Address: pub.Address(), PubKey: pub, Power: int64(uint64(spec.OperatorBond) / uint64(types.MYC(1))), Name: n.Moniker,
		})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}

	for i, n := range spec.Nodes {
		var peers []string
		for j, o := range spec.Nodes {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s@%s:%d", mades[j].nodeKey.ID(), o.Host, o.P2PPort))
			}
		}
		var apis []string
		for j, o := range spec.Nodes {
			if j != i {
				apis = append(apis, fmt.Sprintf("http://%s:%d", o.Host, o.APIPort))
			}
		}
		if err := writeNodeConfig(n, strings.Join(peers, ","), apis, blockTime); err != nil {
			return err
		}
		if err := doc.SaveAs(GenesisPath(n.Home)); err != nil {
			return fmt.Errorf("write genesis of %s: %w", n.Moniker, err)
		}
	}
	return nil
}

// getOrAdd returns the named key, making it if the keyring lacks it: keys
// a user made before laying out a network are funded, not replaced.
func getOrAdd(kr *keyring.Keyring, name string) (keyring.Key, error) {
	k, err := kr.Get(name)
	if errors.Is(err, keyring.ErrNotFound) {
		return kr.Add(name)
	}
	return k, err
}

func writeNodeConfig(n NodeSpec, peers string, apis []string, blockTime time.Duration) error {
	listenHost := "127.0.0.1"
	if n.ListenAll {
		listenHost = "0.0.0.0"
	}
	conf := cmtcfg.DefaultConfig()
	conf.SetRoot(n.Home)
	conf.Moniker = n.Moniker
	conf.LogLevel = "info"
	conf.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", listenHost, n.P2PPort)
	if n.Host != "" && n.Host != "127.0.0.1" {
		conf.P2P.ExternalAddress = fmt.Sprintf("%s:%d", n.Host, n.P2PPort)
	}
	conf.P2P.PersistentPeers = peers
	// Several nodes on one machine share an address.
	conf.P2P.AllowDuplicateIP = true
	conf.P2P.AddrBookStrict = false
	conf.RPC.ListenAddress = fmt.Sprintf("tcp://%s:%d", listenHost, n.RPCPort)
	conf.Consensus.TimeoutCommit = blockTime
	conf.TxIndex.Indexer = "kv"
	conf.Instrumentation.Prometheus = false // mycel serves CometBFT's metrics on its own /metrics
	cmtcfg.WriteConfigFile(cometConfigPath(n.Home), conf)

	c := DefaultConfig()
	c.API.Listen = fmt.Sprintf("%s:%d", listenHost, n.APIPort)
	c.Blobs.Peers = apis
	if err := SaveConfig(n.Home, c); err != nil {
		return fmt.Errorf("write config of %s: %w", n.Moniker, err)
	}
	return os.MkdirAll(filepath.Join(n.Home, "data"), 0o700)
}

// ConsensusKeyOf reads the consensus key of a home, to bind it to an
// operator account (stake bond --purpose validator).
func ConsensusKeyOf(home string) (ed25519.PrivateKey, error) {
	conf := cmtcfg.DefaultConfig()
	conf.SetRoot(home)
	pvKey, err := readPrivValidatorKey(conf.PrivValidatorKeyFile())
	if err != nil {
		return nil, err
	}
	priv, ok := pvKey.PrivKey.(cmted25519.PrivKey)
	if !ok {
		return nil, fmt.Errorf("%s: consensus key is %s, mycel binds only ed25519", conf.PrivValidatorKeyFile(), pvKey.PrivKey.Type())
	}
	return ed25519.PrivateKey(priv.Bytes()), nil
}
