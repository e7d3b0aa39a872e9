package inference

import (
	"errors"
	"fmt"

	"github.com/mycelnet/mycel/types"
)

// Paid inference: a provider that charges announces a price per
// generated token (ModelInfo.PricePerToken); a request to it carries a
// payment channel voucher in HeaderVoucher whose lane covers the
// request's maximum, MaxCost. A request without one, or with one that
// does not hold, gets HTTP 402 with a Payment that says what to pay, to
// whom and on which channel. docs/gateway.md describes the accounting.

// Headers of paid requests.
const (
	// HeaderVoucher carries a voucher of a payment channel to the
	// provider, in its compact text form (paych.Voucher.String).
	HeaderVoucher = "X-Mycel-Voucher"
	// HeaderChannel names a channel without paying, so that a 402 says
	// what that channel's payee asks.
	HeaderChannel = "X-Mycel-Channel"
)

// Codes of 402 answers (Error.Code), one per reason, so clients can tell
// a voucher to redo from a channel to open or top up.
const (
	CodePaymentRequired = "payment_required"        // no voucher for a paid model
	CodeInvalidVoucher  = "invalid_voucher"         // not a voucher's text
	CodeUnknownChannel  = "unknown_channel"         // no such channel, or one the payee does not know
	CodeWrongPayee      = "voucher_wrong_payee"     // the channel pays someone who does not serve the model
	CodeBadSignature    = "voucher_bad_signature"   // not signed by the channel's key for this chain, channel and lane
	CodeStaleNonce      = "voucher_stale_nonce"     // a nonce not above the lane's
	CodeExceedsDeposit  = "voucher_exceeds_deposit" // more than the channel holds
	CodeExpired         = "voucher_expired"         // expires before the payee could redeem it
	CodeSettling        = "channel_settling"        // the payer settled: no new vouchers
	CodeClosed          = "channel_closed"          // collected
	CodeUnderpaid       = "voucher_underpaid"       // the lane's credit does not cover the request's maximum
)

// TypePayment is the error type of 402 answers.
const TypePayment = "payment_required"

// Payment is mycel_payment: in a 402 answer, what a paid request must
// pay; in a paid answer (and the last chunk of a paid stream), what it
// paid. Amounts are umyc. A lane's Covered is the cumulative amount of
// the best voucher the payee holds for it, Spent what the lane's
// requests have used of it (with the maximum of those still running);
// Covered − Spent is the credit that counts toward the lane's next
// request.
type Payment struct {
	Model         string        `json:"model,omitempty"`
	Payee         types.Address `json:"payee"`
	PricePerToken types.Amount  `json:"price_per_token"`
	// MaxTokens and MaxCost are the request's most: the tokens it may
	// generate (max_tokens, or the model's context) and what they cost.
	MaxTokens int          `json:"max_tokens,omitempty"`
	MaxCost   types.Amount `json:"max_cost"`
	// Channel, Lane and Nonce name the voucher (or the channel named in
	// HeaderChannel); absent when the request named none.
	Channel uint64 `json:"channel,omitempty,string"`
	Lane    uint64 `json:"lane,omitempty,string"`
	Nonce   uint64 `json:"nonce,omitempty,string"`
	// Covered and Spent are the lane as the payee sees it (after the
	// request, in an answer).
	Covered types.Amount `json:"lane_covered,omitempty"`
	Spent   types.Amount `json:"lane_spent,omitempty"`
	// Required (402) is the least cumulative amount the lane's next
	// voucher must carry: Spent + MaxCost.
	Required types.Amount `json:"required,omitempty"`
	// Tokens and Charged (answers) are the tokens generated and what they
	// cost: Tokens × PricePerToken.
	Tokens  int          `json:"completion_tokens,omitempty"`
	Charged types.Amount `json:"charged,omitempty"`
	// Voucher (402, from the provider) is the best voucher of the lane the
	// payee holds, in the header's text form: a payer that lost its own
	// record of it in a crash takes it back (paywallet.Payer.Adopt) and
	// pays on from there.
	Voucher string `json:"lane_voucher,omitempty"`
	// Header and Hint (402) say how to pay.
	Header string `json:"header,omitempty"`
	Hint   string `json:"hint,omitempty"`
}

// ErrCostOverflow is a maximum cost that does not fit an amount.
var ErrCostOverflow = errors.New("the request's maximum cost overflows")

// MaxCost is what a request of maxTokens generated tokens costs at most
// at price per token.
func MaxCost(maxTokens int, price types.Amount) (types.Amount, error) {
	if maxTokens < 0 {
		return 0, fmt.Errorf("negative max_tokens %d", maxTokens)
	}
	c, err := price.MulDiv(uint64(maxTokens), 1)
	if err != nil {
		return 0, fmt.Errorf("%w: %d tokens at %s", ErrCostOverflow, maxTokens, price)
	}
	return c, nil
}

// MaxTokensOf is the most tokens a request may generate on a model of
// context length ctx: its max_tokens, or the context when it set none.
func MaxTokensOf(r *Request, ctx int) int {
	if r.MaxTokens > 0 {
		return r.MaxTokens
	}
	return ctx
}

// PaymentError is a 402 answer.
func PaymentError(code, format string, args ...any) *Error {
	return &Error{Status: 402, Type: TypePayment, Code: code, Message: fmt.Sprintf(format, args...)}
}
