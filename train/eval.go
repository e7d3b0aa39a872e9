package train

import (
	"context"
	"fmt"

	"github.com/mycelnet/mycel/runtime/detmath"
	"github.com/mycelnet/mycel/runtime/llama"
)

// ModelLoss runs a model file (through the runtime, as users run it) over
// tokens in windows of its context length (each window from a fresh
// cache, the first token of each predicting nothing) and returns the mean
// next-token loss in nats over the n tokens predicted. maxTokens > 0
// stops after about that many.
func ModelLoss(ctx context.Context, m *llama.Model, tokens []int32, maxTokens int) (loss float64, n int, err error) {
	T := m.Context
	var sum float64
	for at := 0; at+1 < len(tokens); at += T {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		w := tokens[at:min(at+T+1, len(tokens))]
		logits, err := m.Forward(m.NewState(0), w[:len(w)-1], true, nil)
		if err != nil {
			return 0, 0, fmt.Errorf("evaluate window at token %d: %w", at, err)
		}
		V := m.Vocab
		for i := 0; i+1 < len(w); i++ {
			sum += nll(logits[i*V:(i+1)*V], int(w[i+1]))
			n++
		}
		if maxTokens > 0 && n >= maxTokens {
			break
		}
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("no tokens to evaluate")
	}
	return sum / float64(n), n, nil
}

// nll is −log softmax(row)[target], in float64.
func nll(row []float32, target int) float64 {
	m := row[0]
	for _, v := range row[1:] {
		m = max(m, v)
	}
	var s float64
	for _, v := range row {
		s += detmath.Exp(float64(v - m))
	}
	return detmath.Log(s) + float64(m) - float64(row[target])
}

// UnigramLoss is the loss on eval of the unigram model fitted to fit:
// token frequencies, each count plus one so no token has probability
// zero.
func UnigramLoss(fit, eval []int32, vocab int) float64 {
	counts := make([]int64, vocab)
	for _, t := range fit {
		counts[t]++
	}
	total := float64(len(fit) + vocab)
	var sum float64
	for _, t := range eval {
		sum -= detmath.Log(float64(counts[t]+1) / total)
	}
	return sum / float64(len(eval))
}

// UnigramEntropy is the entropy (nats per token) of the token frequencies
// of tokens: the loss of the unigram model fitted to tokens themselves,
// the lowest any unigram model reaches on them. A language model's loss
// on held-out text must beat it by a margin to show that it uses context.
func UnigramEntropy(tokens []int32) float64 {
	counts := map[int32]int64{}
	for _, t := range tokens {
		counts[t]++
	}
	n := float64(len(tokens))
	var sum float64
	for _, t := range tokens {
		sum -= detmath.Log(float64(counts[t]) / n)
	}
	return sum / n
}
