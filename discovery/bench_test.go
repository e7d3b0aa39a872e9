package discovery

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/types"
)

// synthetic returns n agents with names and descriptions drawn from a
// vocabulary of 5,000 words (a few common, most rare, as in real text),
// 1 to 4 skills out of 2,000 with 1 to 3 tags out of 300, and spread
// deposits, prices and ratings.
func synthetic(n int) []*agent.Agent {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		// Squaring skews towards the low numbers: "w1" is common.
		f := rng.Float64()
		return fmt.Sprint("w", int(f*f*5000))
	}
	words := func(k int) string {
		s := word()
		for i := 1; i < k; i++ {
			s += " " + word()
		}
		return s
	}
	out := make([]*agent.Agent, n)
	for i := range out {
		a := &agent.Agent{ID: uint64(i + 1), Name: words(1 + rng.IntN(3)), Description: words(5 + rng.IntN(20)),
			Deposit: types.MYC(10 + rng.Uint64N(10_000)), Price: types.Amount(rng.Uint64N(uint64(types.MYC(5)))),
			Status: agent.Active, Registered: 1, ExpiresAt: 1 << 40}
		for k := 0; k < 1+rng.IntN(4); k++ {
			s := agent.Skill{ID: fmt.Sprint("skill-", rng.IntN(2000)), Name: words(2)}
			for j := 0; j < 1+rng.IntN(3); j++ {
				s.Tags = append(s.Tags, fmt.Sprint("tag", rng.IntN(300)))
			}
			a.Skills = append(a.Skills, s)
		}
		if r := rng.IntN(4); r > 0 {
			a.Rep = agent.Rep{Weight: uint64(r) * 3000, Stars: uint64(r) * 3000 * uint64(1+rng.IntN(5)), Count: uint64(r)}
		}
		out[i] = a
	}
	return out
}

// BenchmarkBuild100k indexes 100,000 agents from scratch (what a node
// does on its first discovery query after a start).
func BenchmarkBuild100k(b *testing.B) {
	as := synthetic(100_000)
	p := agent.DefaultParams()
	b.ResetTimer()
	for b.Loop() {
		x := New()
		x.Apply(as, 10, p)
	}
}

// BenchmarkSearch100k runs the API's queries over 100,000 agents: a
// first page of 20 by skill, by tag, by text with a common and a rare
// word, by text within a skill, the whole listing, and a later page.
func BenchmarkSearch100k(b *testing.B) {
	x := New()
	x.Apply(synthetic(100_000), 10, agent.DefaultParams())
	second, _ := x.Search(Query{Text: "w1 w20"})
	for _, bc := range []struct {
		name string
		q    Query
	}{
		{"skill", Query{Skill: "skill-7"}},
		{"tag", Query{Tag: "tag3"}},
		{"text-common", Query{Text: "w1 w2"}},
		{"text-rare", Query{Text: "w4000 w4500"}},
		{"text-in-skill", Query{Text: "w1", Skill: "skill-7"}},
		{"all", Query{}},
		{"text-page2", Query{Text: "w1 w20", After: second.Next}},
	} {
		p, err := x.Search(bc.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := x.Search(bc.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(p.Matched), "matched")
		})
	}
}
