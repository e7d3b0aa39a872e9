// Package auth keeps accounts (public key and sequence) and the rules every
// transaction passes before its messages run: the chain id, the size
// limit, the expiry height, the sequence (against replay) and the fee
// from the published schedule, which it moves to the fee collector.
//
// State:
//
//	auth/a/{address}  account: public key, next sequence
//	auth/params       the fee schedule and size limit
//
// The signature itself is checked by the application before Ante runs
// (once per transaction, with a cache), since that needs no state.
package auth
