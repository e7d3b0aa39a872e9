// Package app is mycel's ABCI application: the adapter between CometBFT
// and the deterministic state machine in chain/.
//
// It decodes transactions, checks each signature once (in parallel for a
// block's unchecked transactions, with a cache shared with CheckTx), runs
// auth's rules and then the messages through an explicit router, and turns
// errors into result codes. FinalizeBlock stages a block's writes and
// computes the app hash from them; Commit writes them to Pebble in one
// synced batch. CheckTx runs transactions against a separate copy of the
// state, so one account may have several transactions in the mempool with
// consecutive sequences.
//
// Concurrency: the application is driven through CometBFT's unsynchronised
// local client, so CheckTx calls can run beside each other and beside the
// consensus calls. Signature checks run outside any lock; the check state
// has its own lock; FinalizeBlock and Commit hold the consensus lock.
package app
