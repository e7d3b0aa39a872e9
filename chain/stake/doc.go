// Package stake keeps bonded stake, for several purposes: validating
// blocks, providing compute, backing an agent, crawling. Bonding moves
// tokens into the stake pool; unbonding starts an entry that pays them back
// after the unbonding period, which is at least as long as the evidence
// max age, so stake stays slashable for as long as evidence of a fault can
// arrive. Slash takes a fraction of an account's bond of one purpose and of
// its unbonding entries that started at or after the infraction, pays part
// to whoever proved the fault and burns the rest; Jail keeps the bond from
// working until a given height (a tombstone, for proven fraud, forever).
//
// Validator-purpose stake drives CometBFT's validator set: a validator
// binds a consensus key to its operator account (with a signature by that
// key, so nobody binds a key they do not hold), and EndBlock reports the
// power of the MaxValidators largest unjailed validator bonds.
//
// State:
//
//	stake/params
//	stake/b/{purpose}{address}                  bond
//	stake/u/{height}{address}{purpose}{id}      unbonding entry, by completion height
//	stake/ua/{address}{height}{purpose}{id}     index of unbonding entries by account
//	stake/ck/{consensus address}                operator bound to a consensus key
//	stake/vp/{operator}                         power last reported to CometBFT
//	stake/seq                                   next unbonding entry id
//
// Invariant (CheckInvariant): the pool's balance equals all bonds plus all
// unbonding entries.
package stake
