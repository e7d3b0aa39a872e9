// Package paych is mycel's payment channels, after Filecoin's payment
// channel actor: one-way channels from a payer to a payee, paid off chain
// with signed vouchers and settled on chain.
//
// # Rules
//
// A payer opens a channel to a payee with a deposit, which moves into the
// module's escrow account, and names the ed25519 key that signs the
// channel's vouchers (its own account key or another; fixed for the
// channel's life). The channel gets the next id of a sequence. The payer
// may top the deposit up until the channel settles.
//
// A voucher (see Voucher) names the channel, a lane, a nonce, the
// cumulative amount owed on that lane, a minimum settle height and an
// optional expiry height, and is signed by the channel's voucher key over
// domain-separated bytes that include the chain id. Lanes are independent
// streams of payment (one per counterparty task, say); on each lane the
// chain keeps what was redeemed and the highest nonce seen. Only the payee
// redeems, and a voucher counts only if:
//
//   - its signature verifies under the channel's key, for this chain and
//     this channel and lane (a voucher replayed on another lane or channel
//     fails the signature);
//   - its nonce is strictly higher than the lane's;
//   - it has not expired (its expiry height, if any, is not below the
//     current height);
//   - the channel is open, or settling and the settle height not reached.
//
// A voucher pays amount − lane.redeemed at once; one with a lower amount
// (and a higher nonce) only advances the nonce and pays nothing. The total
// paid over all lanes never exceeds the deposit: a voucher that would is
// refused whole. A voucher's minimum settle height raises the channel's,
// and so postpones its settlement.
//
// Payer or payee may settle: the channel's settle height becomes
// max(now + Params.SettleBlocks, the channel's minimum settle height).
// Until then the payee can still redeem (a payee's watcher submits its
// best voucher of each lane); from that height on no voucher counts, and
// payer or payee may collect, which returns the rest of the deposit to the
// payer and closes the channel. A closed channel's record stays, so that
// every later message gets a clear refusal; its lanes are deleted.
//
// # State
//
//	paych/params
//	paych/seq                   next channel id
//	paych/c/{id}                channel record
//	paych/l/{id}{lane}          lane: redeemed, nonce
//	paych/p/{payer}{id}         channels by payer
//	paych/e/{payee}{id}         channels by payee
//
// Ids and lanes are 8-byte big-endian in keys, so iteration is in id and
// lane order.
//
// Invariant (CheckInvariant): the escrow account holds exactly the sum
// over open channels of deposit − paid; each channel's lanes sum to what
// it paid, which never exceeds its deposit; a closed channel paid plus
// refunded its deposit and has no lanes; the indexes hold one entry per
// channel.
package paych
