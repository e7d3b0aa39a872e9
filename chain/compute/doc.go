// Package compute is the compute market: providers register hardware
// profiles with a price and a stake, clients submit jobs with their
// maximum price escrowed, a deterministic scheduler assigns jobs at the end
// of each block, and providers are paid by metered work.
//
// # Providers
//
// A provider registers a profile (CPU cores, memory, accelerator class
// and memory, a benchmark score), a price in umyc per compute unit (one
// compute unit is Params.GasPerCU metered instructions), a tier, a region,
// a number of job slots, and bonds at least Params.MinProviderStake of
// provider-purpose stake. It holds a lease that its own activity keeps
// alive (acknowledging an assignment, committing or revealing a result, a
// renewal); a provider whose lease lapsed gets no new work. No per-block
// heartbeats.
//
// # Jobs
//
// A job names its kind (wasm), the sha256 of its program and of its input
// (the bytes live in the nodes' blob stores), the capabilities it needs,
// its maximum price (escrowed at submission), its gas limit and its
// deadline in blocks. Lifecycle:
//
//	queued -> assigned -> acknowledged -> committed -> revealed -> succeeded | failed
//	   \________________________________________________/
//	                cancelled (before a commit), or back to queued
//	                when the provider misses a deadline
//
// The provider acknowledges within Params.AckBlocks, commits
// sha256(domain, job, output hash, gas, failure, salt), then reveals them
// in a later block. A revealed output counts once validators holding more
// than two thirds of the voting power attest (in their vote extensions)
// that their nodes hold the output blob; a job that failed on its own
// (out of gas, a trap, a bad module) has no output to check and settles
// at once. Settlement pays the provider ceil(gas × price / GasPerCU),
// never more than what is left of the escrow, and refunds the rest. The
// fees of the provider's acknowledgement, commit and reveal are paid from
// the escrow, once each per assignment, so a new provider needs no tokens
// beyond its stake. A provider that misses a deadline is slashed
// Params.MissSlash of its provider stake and excluded from the job, which
// goes back to the queue until Params.MaxAttempts providers have missed
// it; then it fails and the escrow is refunded.
//
// # Scheduling
//
// Capabilities are quantised into classes (cores, memory, accelerator
// class, accelerator memory; powers of two). Each class keeps an index of
// its available providers (registered, lease live, a free slot) ordered
// by price and reputation bucket. At the end of a block, up to
// Params.MaxAssignPerBlock queued jobs are matched in queue order: for each
// non-empty class that dominates the job's requirements, the cheapest
// eligible provider is found with one ordered seek (ties between equal
// prices are broken at a point drawn from the block hash), and the
// cheapest over all such classes wins. The cost per job is a seek per
// class, independent of the number of providers in a class.
//
// # Rewards
//
// Every Params.RewardEpochBlocks blocks the provider reward pool is split
// between the providers in proportion to the gas they settled in the
// epoch.
//
// # State
//
//	compute/params
//	compute/seq                               next job id
//	compute/p/{provider}                      provider
//	compute/j/{id}                            job
//	compute/q/{height}{id}                    queued jobs, in order
//	compute/dl/{height}{id}                   job deadlines (ack and result)
//	compute/le/{height}{provider}             lease expiries
//	compute/ix/{class}{price}{rep}{provider}  available providers by class
//	compute/cls/{class}                       providers in each class's index
//	compute/rv/{id}                           revealed jobs awaiting availability
//	compute/cj/{client}{id}                   jobs by client
//	compute/pj/{provider}{id}                 open jobs by provider
//	compute/ew/{provider}                     gas settled this reward epoch
//
// Invariant (CheckInvariant): the escrow account holds exactly the
// escrow of the jobs that are not finished.
package compute
