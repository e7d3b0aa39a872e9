package sample

import (
	"math"
	"slices"
	"testing"
)

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		logits []float32
		want   int32
	}{
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5, 1}, 0},     // ties: the lowest id
		{[]float32{1, 7, 7}, 1},     // ties: the lowest id
		{[]float32{nan, 1, 2}, 2},   // NaN never wins
		{[]float32{-1, nan, -2}, 0}, //
		{[]float32{float32(math.Inf(-1)), -1e30}, 1},
	} {
		if got := Argmax(tc.logits); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.logits, got, tc.want)
		}
	}
}

func TestGreedy(t *testing.T) {
	logits := []float32{0.1, 2.5, 2.4, -1}
	for _, p := range []Params{{}, {Temperature: 0, Seed: 9}, {Temperature: 1, TopK: 1, Seed: 3}, {Temperature: 2, TopP: 1e-6, Seed: 5}} {
		s := New(p)
		for range 20 {
			if got := s.Sample(logits); got != 1 {
				t.Fatalf("%+v: sampled %d, want 1", p, got)
			}
		}
	}
}

// draw samples n times from probabilities probs and returns the counts.
func draw(p Params, probs []float64, n int) []int {
	logits := make([]float32, len(probs))
	for i, q := range probs {
		logits[i] = float32(math.Log(q))
	}
	orig := slices.Clone(logits)
	s := New(p)
	counts := make([]int, len(probs))
	for range n {
		counts[s.Sample(logits)]++
	}
	if !slices.Equal(orig, logits) {
		panic("Sample modified the logits")
	}
	return counts
}

// TestDistribution checks frequencies against the probabilities. The seed
// is fixed, so the counts are too; the bounds (5 standard deviations)
// say the sampler is right, not that this seed is lucky.
func TestDistribution(t *testing.T) {
	probs := []float64{0.5, 0.3, 0.15, 0.05}
	const n = 40000
	check := func(name string, counts []int, want []float64) {
		t.Helper()
		for i, c := range counts {
			sd := math.Sqrt(n * want[i] * (1 - want[i]))
			if math.Abs(float64(c)-n*want[i]) > 5*sd+1 {
				t.Errorf("%s: token %d drawn %d times of %d, want about %.0f", name, i, c, n, n*want[i])
			}
		}
	}
	check("temperature 1", draw(Params{Temperature: 1, Seed: 1}, probs, n), probs)
	// Temperature 2 flattens: p^(1/2), renormalized.
	var flat []float64
	var z float64
	for _, q := range probs {
		flat = append(flat, math.Sqrt(q))
		z += math.Sqrt(q)
	}
	for i := range flat {
		flat[i] /= z
	}
	check("temperature 2", draw(Params{Temperature: 2, Seed: 2}, probs, n), flat)
	// Top-k 2 keeps 0.5 and 0.3.
	check("top-k 2", draw(Params{Temperature: 1, TopK: 2, Seed: 3}, probs, n), []float64{0.5 / 0.8, 0.3 / 0.8, 0, 0})
	// Top-p 0.7: 0.5 is not enough, 0.5 + 0.3 reaches it.
	check("top-p 0.7", draw(Params{Temperature: 1, TopP: 0.7, Seed: 4}, probs, n), []float64{0.5 / 0.8, 0.3 / 0.8, 0, 0})
	check("top-p 0.9", draw(Params{Temperature: 1, TopP: 0.9, Seed: 5}, probs, n), []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0})
}

func TestSeeds(t *testing.T) {
	logits := make([]float32, 50)
	for i := range logits {
		logits[i] = float32(i%7) * 0.3
	}
	seq := func(seed uint64) []int32 {
		s := New(Params{Temperature: 1, Seed: seed})
		var out []int32
		for range 16 {
			out = append(out, s.Sample(logits))
		}
		return out
	}
	a, b, c := seq(42), seq(42), seq(43)
	if !slices.Equal(a, b) {
		t.Errorf("seed 42 gave %v then %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 both gave %v", a)
	}
	// The generator is specified (ChaCha8 with the seed little-endian in
	// the key's first 8 bytes, 24 bits per number), so this sequence is
	// the same on every machine and Go version that keeps ChaCha8.
	want := []int32{30, 34, 48, 15, 45, 6, 19, 16, 6, 3, 25, 45, 7, 38, 16, 20}
	if !slices.Equal(a, want) {
		t.Errorf("seed 42 gave %v, the recorded sequence is %v", a, want)
	}
}

func TestUniform(t *testing.T) {
	s := New(Params{Seed: 7})
	var sum float64
	for range 100000 {
		u := s.Uniform()
		if u < 0 || u >= 1 {
			t.Fatalf("Uniform = %v", u)
		}
		if u*(1<<24) != float32(int32(u*(1<<24))) {
			t.Fatalf("Uniform = %v is not a multiple of 2^-24", u)
		}
		sum += float64(u)
	}
	if mean := sum / 100000; math.Abs(mean-0.5) > 0.005 {
		t.Errorf("mean of Uniform = %v", mean)
	}
}

func TestLogprob(t *testing.T) {
	logits := []float32{2, -1, 0.5, 3.25, -7}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	for i, l := range logits {
		want := float64(l) - math.Log(z)
		if got := Logprob(logits, int32(i)); math.Abs(float64(got)-want) > 1e-6 {
			t.Errorf("Logprob(%d) = %v, want %v", i, got, want)
		}
	}
}
