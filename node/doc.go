// Package node wires a mycel node together: the home directory and its
// configuration, CometBFT in-process with the mycel application, the HTTP
// API with the blob store, and metrics. It is the only package that
// imports everything; Start and Stop are its whole lifecycle.
//
// A home holds:
//
//	config/config.toml       CometBFT's settings (ports, peers, timeouts)
//	config/mycel.toml        mycel's settings (API address, blob limits)
//	config/genesis.json      the network's genesis, mycel's state in app_state
//	config/node_key.json     the P2P identity
//	config/priv_validator_key.json  the consensus key
//	data/                    CometBFT's block store and state; data/mycel the
//	                         application's Pebble database; data/blobs the blobs
//	keyring/                 account keys (mode 0600)
package node
