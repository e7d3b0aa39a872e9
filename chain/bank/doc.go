// Package bank keeps balances and the token supply: genesis balances,
// transfers, and the mint and burn primitives other modules call. Every
// module account (fee collector, stake pool, reward pools) is an ordinary
// balance at an address nobody holds the key of.
//
// State:
//
//	bank/b/{address}  balance (uvarint umyc); absent means zero
//	bank/supply       genesis supply, minted, burned (uvarints)
//
// Invariant (CheckInvariant): the balances sum to the supply, and the
// supply is genesis + minted - burned.
package bank
