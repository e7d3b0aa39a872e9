// Package sample picks the next token from a model's logits: greedy, or
// random with temperature, top-k and top-p, where the randomness comes
// only from the request's seed through math/rand/v2's ChaCha8 and the
// numbers are made from its raw bits by this package's own code, so the
// same seed picks the same tokens on every machine.
package sample

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/mycelnet/mycel/runtime/backend"
	"github.com/mycelnet/mycel/runtime/detmath"
)

// Params choose how to sample.
type Params struct {
	// Temperature 0 is greedy: the most likely token (the lowest id among
	// equals).
	Temperature float32
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose
	// probabilities reach P (0 or 1: all).
	TopP float32
	// Seed is the only source of randomness.
	Seed uint64
}

// Sampler draws tokens; it keeps the random stream between calls.
type Sampler struct {
	p   Params
	rng *rand.ChaCha8
	idx []int32
	prb []float32
}

// New returns a sampler seeded from p.Seed.
func New(p Params) *Sampler {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], p.Seed)
	return &Sampler{p: p, rng: rand.NewChaCha8(seed)}
}

// Uniform returns a number in [0, 1) with 24 random bits: the top 24 bits
// of the generator's next 64 times 2^-24, which is exact in float32.
func (s *Sampler) Uniform() float32 {
	return float32(s.rng.Uint64()>>40) * (1.0 / (1 << 24))
}

// Sample picks a token from logits, which it does not modify.
func (s *Sampler) Sample(logits []float32) int32 {
	if s.p.Temperature <= 0 || math.IsNaN(float64(s.p.Temperature)) {
		return Argmax(logits)
	}
	// Candidates by logit, highest first, ties by id.
	s.idx = s.idx[:0]
	for i := range logits {
		s.idx = append(s.idx, int32(i))
	}
	sort.Slice(s.idx, func(a, b int) bool {
		la, lb := logits[s.idx[a]], logits[s.idx[b]]
		if la != lb {
			return greater(la, lb)
		}
		return s.idx[a] < s.idx[b]
	})
	n := len(s.idx)
	if s.p.TopK > 0 && s.p.TopK < n {
		n = s.p.TopK
	}
	// Softmax over the kept candidates at the temperature.
	s.prb = s.prb[:0]
	for _, id := range s.idx[:n] {
		s.prb = append(s.prb, logits[id]/s.p.Temperature)
	}
	backend.Softmax(s.prb)
	if p := s.p.TopP; p > 0 && p < 1 {
		var cum float32
		for i, q := range s.prb {
			cum += q
			if cum >= p {
				n = i + 1
				break
			}
		}
		s.prb = s.prb[:n]
	}
	total := backend.Sum(s.prb)
	u := s.Uniform() * total
	var cum float32
	for i, q := range s.prb {
		cum += q
		if u < cum {
			return s.idx[i]
		}
	}
	return s.idx[len(s.prb)-1]
}

// greater orders NaN last.
func greater(a, b float32) bool {
	if a != a {
		return false
	}
	if b != b {
		return true
	}
	return a > b
}

// Argmax returns the index of the largest logit, the lowest among equals
// (NaNs never win).
func Argmax(logits []float32) int32 {
	best := int32(0)
	for i := 1; i < len(logits); i++ {
		if greater(logits[i], logits[best]) {
			best = int32(i)
		}
	}
	return best
}

// Logprob returns the natural log of the softmax probability of token id
// under logits at temperature 1: (l - m) - log Σ exp(l_i - m), in the
// runtime's arithmetic.
func Logprob(logits []float32, id int32) float32 {
	m := logits[Argmax(logits)]
	e := make([]float32, len(logits))
	for i, l := range logits {
		e[i] = detmath.Exp32(l - m)
	}
	return (logits[id] - m) - float32(detmath.Log(float64(backend.Sum(e))))
}
