// Package storage keeps the application's state on disk with Pebble.
//
// One Pebble database holds the state values (prefix "s"), the Merkle
// tree's nodes (prefix "n") and metadata (prefix "m": the last committed
// height and app hash, and the app hash of every height). Commit writes a
// whole block in one synced batch, so a crash leaves the database at the
// previous block or at this one, never between: CometBFT's handshake then
// replays whatever blocks the application lacks.
package storage
