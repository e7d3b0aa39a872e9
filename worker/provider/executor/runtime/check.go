package runtime

import (
	"context"
	"fmt"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/inference"
	rt "github.com/mycelnet/mycel/runtime"
	"github.com/mycelnet/mycel/runtime/llama"
)

// Rank tolerances of a re-scored answer: every token of an answer must
// be among the model's RankGreedy best at its position (RankSampled for
// a request sampled at a temperature above zero), except at most one
// token in OffRankAllowance. An external engine serving the same weights
// at another precision stays well inside; a different or cheaper model
// does not.
const (
	RankGreedy       = 8
	RankSampled      = 256
	OffRankAllowance = 20
)

// Check is a referee's verdict on a disputed receipt, with the tokens it
// ran (for its gas).
type Check struct {
	Verdict string
	Tokens  int
	// Ranks are the answer tokens' ranks, for a re-scored answer.
	Ranks []int
}

// CheckReceipt checks a receipt for an answer text to a request against
// the model it names, which the engine holds: a deterministic receipt
// of this runtime version is re-executed ("holds" or "differs"); one of
// another runtime version cannot be reproduced here ("unavailable": a
// later release never makes an honest provider slashable); an external
// engine's answer is re-scored in one prefill pass ("plausible" or
// "implausible"). The caller has checked the receipt's signature and
// that the request and the text are the ones it names.
func (e *Engine) CheckReceipt(ctx context.Context, r inference.Receipt, req inference.Request, text string) (Check, error) {
	e.mu.RLock()
	l, ok := e.models[r.Model]
	e.mu.RUnlock()
	if !ok {
		return Check{Verdict: compute.VerdictUnavailable}, nil
	}
	req.Model = r.Model
	if r.Deterministic {
		if r.Runtime != rt.Version {
			return Check{Verdict: compute.VerdictUnavailable}, nil
		}
		f, err := Generate(ctx, l.m, l.format, req, nil)
		if err != nil {
			return Check{}, err
		}
		c := Check{Verdict: compute.VerdictDiffers, Tokens: f.PromptTokens + f.CompletionTokens}
		if f.Receipt.Output == r.Output {
			c.Verdict = compute.VerdictHolds
		}
		return c, nil
	}
	ranks, n, err := Rescore(ctx, l.m, l.format, req, text)
	if err != nil {
		return Check{}, err
	}
	tol := RankGreedy
	if req.Temperature > 0 {
		tol = RankSampled
	}
	off := 0
	for _, rk := range ranks {
		if rk >= tol {
			off++
		}
	}
	c := Check{Verdict: compute.VerdictPlausible, Tokens: n, Ranks: ranks}
	if off > len(ranks)/OffRankAllowance {
		c.Verdict = compute.VerdictImplausible
	}
	return c, nil
}

// Rescore returns the rank (0: the model's most likely) of each token of
// text as the continuation of req's prompt under m, from one prefill
// pass, and the tokens it ran. Tokens past the context are not scored.
func Rescore(ctx context.Context, m *llama.Model, format string, req inference.Request, text string) ([]int, int, error) {
	prompt := req.Prompt
	if len(req.Messages) > 0 {
		prompt = inference.Render(format, req.Messages)
	}
	ids := m.Tok.Encode(prompt, true)
	ans := m.Tok.Encode(text, false)
	if len(ids) == 0 || len(ids) >= m.Context {
		return nil, 0, fmt.Errorf("the prompt is %d tokens, the context %d", len(ids), m.Context)
	}
	if len(ids)+len(ans) > m.Context {
		ans = ans[:m.Context-len(ids)]
	}
	all := append(append([]int32(nil), ids...), ans...)
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	logits, err := m.Forward(m.NewState(len(all)), all, true, nil)
	if err != nil {
		return nil, 0, err
	}
	ranks := make([]int, len(ans))
	for i, t := range ans {
		row := logits[(len(ids)+i-1)*m.Vocab : (len(ids)+i)*m.Vocab]
		for _, v := range row {
			if v > row[t] {
				ranks[i]++
			}
		}
	}
	return ranks, len(all), nil
}
