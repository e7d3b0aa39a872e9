// Package paywallet is the off-chain half of payment channels: the
// payer's wallet that makes vouchers, the payee's wallet that verifies
// them offline and keeps the best one of each lane, and a watcher that
// redeems them on chain when the payer settles.
//
// # Payer
//
// A Payer holds the vouchers made with one voucher key: for each lane of
// each channel, the last voucher made (its nonce and cumulative amount),
// and the lanes given to tasks (Lane allocates one per task label, so
// concurrent streams of payment never share a nonce sequence). Make signs
// the next voucher of a lane and records it before returning it, so a
// crash never makes the payer reuse a nonce; it refuses to promise more
// over all lanes than the channel's deposit as last seen. A Deferred
// voucher is written after Make returns, its nonce reserved on disk
// beforehand (a block of nonces per fsync): still never reused, but a
// crash may forget its amount, which Adopt takes back from the payee's
// best voucher of the lane (a payee shows it when it refuses a lower one).
//
// # Payee
//
// A Payee holds the channels that pay one address and the best voucher of
// each of their lanes. Check verifies a voucher offline, with no
// transaction and no block to wait for: the signature under the channel's
// voucher key for this chain, a nonce above the lane's (the wallet's best
// and the chain's as last seen), an amount that does not lower the lane,
// a total over the lanes within the deposit as last seen, an increment
// over the lane's best that covers the price asked, an expiry far enough
// off to redeem in time, and a channel that is not settling. Accept does
// the same and keeps the voucher: it returns only once the voucher is
// durable (written and fsynced), and concurrent Accepts share one fsync
// (group commit).
//
// # Paying per request
//
// A payee that serves requests against vouchers (a provider selling
// inference) keeps, beside each lane's best voucher (what the lane
// covers), what the lane's requests have spent of it. Reserve takes a
// request's voucher and its maximum cost: the voucher passes Check's
// rules, and the lane's credit with it (its cumulative amount less what
// the lane has spent) must cover the maximum, which is then counted as
// spent; the voucher and the new spent amount are written together, and
// Reservation.Wait returns once they are durable. Settle gives back what
// the request did not use. So the payee never serves more than its
// vouchers cover, and what a request did not use counts toward the
// lane's next one: the payer never pays twice for the same tokens.
//
// # Storage
//
// Each wallet is a directory with one append-only journal: a header, then
// records of the form uvarint(length) · crc32c(payload) · payload. The
// records are the channels as last seen, the lane labels, the vouchers
// (their canonical binary encoding), a payee's spent amounts and a
// payer's reserved nonces; replaying them keeps the highest nonce of each
// lane and the last spent amount and reservation. A torn record at the end (a crash in the middle of
// a write) is cut off on open: it was never acknowledged. When the
// journal holds many more records than live state, it is rewritten with
// the live state only (a new file, fsynced, renamed over the old one, the
// directory fsynced).
//
// # Watcher
//
// A Watcher follows the chain through a Chain (client.Payee is one): it
// tracks every channel that pays the payee, and as soon as one is
// settling it redeems the best voucher of each lane the chain has not
// counted, well before the settle height; it also redeems vouchers whose
// expiry comes near, and, with RedeemAbove, lanes that have grown that
// much past what the chain counted. Redeem does the same for one channel
// on demand.
//
// The package depends on chain/paych for vouchers and channels, not on
// the API client, so that the gateway and providers can verify vouchers
// without the client's dependencies.
package paywallet
