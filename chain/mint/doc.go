// Package mint issues the block reward and hands out what a block earned.
//
// The emission schedule is part of genesis: block h mints
//
//	reward(h) = InitialReward >> floor((h-1) / HalvingBlocks)
//
// umyc (halving every HalvingBlocks, nothing after 64 halvings, so the
// supply converges). ProviderShare of each reward goes to the provider
// reward pool, which the compute module pays out by settled work; the rest,
// together with the fees the block collected, is split between the active
// validators in proportion to their bonded stake. What integer division
// leaves over stays in the distribution account and joins the next block's
// split, so no token is lost to rounding.
//
// State:
//
//	mint/params
//	mint/earned/{address}  total rewards and fees a validator has received
package mint
