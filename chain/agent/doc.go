// Package agent is the agent registry: AI agents registered with a
// deposit and an A2A Agent Card, found through discovery, owned by an
// account that can transfer or sell them, grouped into collectives, rated
// by paying clients and reported when they misbehave. docs/agents.md
// tells the whole story; these are the rules.
//
// # Registration
//
// An owner (the signer) registers an agent with a separate ed25519
// signing key (the key the agent's host signs messages with, so the host
// never holds the owner's key), the sha256 and size of its A2A Agent Card
// (the card lives in the nodes' blob stores; the chain keeps its hash), a
// summary of the card for discovery (name, description, and up to 16
// skills with ids, names and tags), a price per task, an endpoint URL
// (empty: reachable through the nodes' mailboxes) and a deposit of at
// least Params.MinDeposit, escrowed in the Deposits module account. The
// agent gets the next id of a sequence (1, 2, ...).
//
// A registration is listed through height registered + RegistrationBlocks.
// Renew (owner) extends it to now + RegistrationBlocks and may add to the
// deposit; an expired agent (EndBlock marks it so) is not listed and may
// be renewed or deregistered. Update (owner) replaces the card, summary,
// price and endpoint. Deregister (owner) delists the agent at once and
// pays the deposit back in EndBlock after UnbondingBlocks; an agent that
// belongs to a collective leaves it first. A refunded agent's record stays
// (status closed), so ids are never reused.
//
// # Ownership and the market
//
// The owner may transfer an agent to another account, or list it for sale
// at a price; a buyer buys it in one message that pays the seller and
// moves the agent, with its deposit, reputation and memberships. Either
// way the signing key is cleared at once (the old operator's key stops
// working) until the new owner sets one (MsgSetKey), and OwnedSince
// records the height of the change. Listing and buying are refused while
// the owner has payment channels that can still move funds (Channels), so
// that revenue in flight is settled first.
//
// # Collectives
//
// The owner of a manager agent creates a collective with a proposed
// revenue split (basis points per member agent, summing to 10,000, the
// manager among them) and a combined card. Each member agent's owner
// accepts the proposal by its version; when all have, it is the split in
// force. The manager may propose a new split (to invite, drop or reweigh
// members) at any time; it takes force only when every member in it
// accepted, and until then the old split stays. A member may leave: its
// share goes to the manager, and a pending proposal naming it is dropped;
// the manager leaving dissolves the collective. Anyone may pay a
// collective: each member's owner gets its share, rounded down, and the
// manager's owner the rest.
//
// # Ratings and reports
//
// A rating (1 to 5 stars) pays at least MinRatingPayment to the agent's
// owner in the same message (RatingBurn of it burned) and weighs by its
// payment; reputation is the prior-smoothed average of the stars, decayed
// per epoch (see Reputation). A report is a bonded claim of misbehaviour
// that validators decide with committed, then revealed, stake-weighted
// ballots (ballot.go); its reporter may withdraw it until it is decided
// and take the bond back.
//
// # State
//
//	agent/params
//	agent/seq, agent/cseq, agent/rseq    next agent, collective and report ids
//	agent/a/{id}                         agent record
//	agent/o/{owner}{id}                  agents by owner
//	agent/x/{height}{id}                 expiry queue of active agents
//	agent/r/{height}{id}                 refund queue of unbonding agents
//	agent/u/{height}{id}                 each agent at the height of its last change (discovery follows it)
//	agent/s/{id}                         agents for sale
//	agent/c/{id}                         collective record
//	agent/m/{agent}{collective}          membership of open collectives (manager, members, invitees)
//	agent/q/{id}                         report record
//	agent/k/{agent}{report}              reports by agent
//	agent/d/{height}{report}             reports decided at that height
//	agent/b/{report}{validator}          a committed ballot, then its vote
//
// Ids and heights are 8-byte big-endian in keys, so iteration is in
// height and id order.
//
// Invariant (CheckInvariant): the Deposits account holds exactly the
// deposits of the agents not yet refunded (listed, expired and unbonding:
// the pending refunds) plus the bonds of open reports; every record agrees
// with its status and its index entries, and no index entry is left over;
// every split sums to 10,000 with the manager in it.
package agent
