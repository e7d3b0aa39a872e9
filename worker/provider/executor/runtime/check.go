package runtime

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

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
// text as the continuation of req's prompt under m, and the tokens it
// ran. Tokens past the context are not scored.
//
// A U+FFFD in text may stand for a byte the engine generated that was no
// part of a UTF-8 character (a byte token splitting one, or a character
// cut by max_tokens), replaced on its way through JSON; which byte is
// lost. Each one is scored as the byte the model ranks best among those
// that can be replaced (0x80 to 0xff), and that byte goes on as the
// context: an honest greedy answer reads back exactly, a made-up one
// still ranks badly. (A model that generated U+FFFD itself is read the
// same way: the text cannot tell them apart.) Runs of known tokens go
// through the model in one pass each.
func Rescore(ctx context.Context, m *llama.Model, format string, req inference.Request, text string) ([]int, int, error) {
	prompt := req.Prompt
	if len(req.Messages) > 0 {
		prompt = inference.Render(format, req.Messages)
	}
	ids := m.Tok.Encode(prompt, true)
	if len(ids) == 0 || len(ids) >= m.Context {
		return nil, 0, fmt.Errorf("the prompt is %d tokens, the context %d", len(ids), m.Context)
	}
	replaceable := replaceableBytes(m)
	// The answer's tokens, -1 for a replaced byte.
	var ans []int32
	pieces := []string{text}
	if len(replaceable) > 0 {
		pieces = strings.Split(text, string(utf8.RuneError))
	}
	for i, p := range pieces {
		if i > 0 {
			ans = append(ans, -1)
		}
		ans = append(ans, m.Tok.Encode(p, false)...)
	}
	if len(ids)+len(ans) > m.Context {
		ans = ans[:m.Context-len(ids)]
	}
	rank := func(row []float32, t int32) int {
		r := 0
		for _, v := range row {
			if v > row[t] {
				r++
			}
		}
		return r
	}
	st := m.NewState(len(ids) + len(ans))
	ranks := make([]int, len(ans))
	feed := ids // known tokens not yet run: each pass starts with one
	for i := 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		j := i
		for j < len(ans) && ans[j] >= 0 {
			j++
		}
		run := append(feed, ans[i:j]...)
		logits, err := m.Forward(st, run, true, nil)
		if err != nil {
			return nil, 0, err
		}
		row := func(k int) []float32 { return logits[k*m.Vocab : (k+1)*m.Vocab] }
		for k, t := range ans[i:j] {
			ranks[i+k] = rank(row(len(feed)+k-1), t)
		}
		if j == len(ans) {
			break
		}
		last := row(len(run) - 1)
		best := replaceable[0]
		for _, b := range replaceable[1:] {
			if last[b] > last[best] {
				best = b
			}
		}
		ranks[j] = rank(last, best)
		feed, i = []int32{best}, j+1
	}
	return ranks, len(ids) + len(ans), nil
}

// replaceableBytes are the model's tokens of one byte from 0x80 to 0xff:
// the bytes that can stand outside a UTF-8 character.
func replaceableBytes(m *llama.Model) []int32 {
	var out []int32
	for id := range int32(m.Tok.VocabSize()) {
		if b := m.Tok.TokenBytes(id); len(b) == 1 && b[0] >= 0x80 {
			out = append(out, id)
		}
	}
	return out
}
