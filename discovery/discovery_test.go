package discovery

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/types"
)

func mk(id uint64, name, desc string, deposit, price types.Amount, skills ...agent.Skill) *agent.Agent {
	return &agent.Agent{ID: id, Name: name, Description: desc, Skills: skills, Deposit: deposit, Price: price,
		Status: agent.Active, Registered: 1, ExpiresAt: 1000}
}

func ids(p Page) string {
	var s []string
	for _, r := range p.Agents {
		s = append(s, fmt.Sprint(r.ID))
	}
	return strings.Join(s, " ")
}

func search(t *testing.T, x *Index, q Query) Page {
	t.Helper()
	p, err := x.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokens(t *testing.T) {
	got := strings.Join(Tokens("Tide-Tables, for the HARBOUR of Saint-Malo; tides a 2024 Ébb ébb"), "|")
	if got != "tide|tables|for|the|harbour|of|saint|malo|tides|2024|ébb" {
		t.Fatal(got)
	}
}

// The ranking of the package comment, step by step.
func TestRanking(t *testing.T) {
	p := agent.DefaultParams()
	tides := agent.Skill{ID: "tide-tables", Name: "Tide tables", Tags: []string{"ocean", "Weather"}}
	x := New()
	x.Apply([]*agent.Agent{
		mk(1, "Tide Oracle", "high and low water", types.MYC(100), types.MYC(1), tides),
		mk(2, "Harbour master", "tide tables and berths", types.MYC(100), types.MYC(1)),
		mk(3, "Weather", "forecasts", types.MYC(1000), 0, agent.Skill{ID: "forecast", Tags: []string{"weather"}}),
		mk(4, "Rich tides", "", types.MYC(100_000), types.MYC(1), tides),
		// Expired and deregistered agents are not listed.
		{ID: 5, Name: "Tide ghost", Status: agent.Expired, ExpiresAt: 3, Deposit: types.MYC(10)},
		{ID: 6, Name: "Tide late", Status: agent.Active, ExpiresAt: 9, Deposit: types.MYC(10)},
	}, 10, p)
	if x.Len() != 4 {
		t.Fatalf("%d listed", x.Len())
	}
	// quality = (5·0.5 + 3·deposit + 2·price) / 10 with no ratings yet.
	for id, want := range map[uint64]uint32{1: 500000, 3: 722727, 4: 649700} {
		if q := x.docs[x.byID[id]].quality; q != want {
			t.Errorf("agent %d: quality %d, want %d", id, q, want)
		}
	}
	// Agent 1 hits "tide" in its name (3) and "tables" in a skill (2):
	// 5/6; agent 4 both in a skill (its name has "tides", another word):
	// 4/6, but a larger deposit; agent 2 both in its description: 2/6.
	pg := search(t, x, Query{Text: "tide tables"})
	if ids(pg) != "4 1 2" || pg.Matched != 3 {
		t.Fatalf("tide tables: %s (%d matched)", ids(pg), pg.Matched)
	}
	if pg.Agents[0].Match != 666666 || pg.Agents[1].Match != 833333 || pg.Agents[2].Match != 333333 ||
		pg.Agents[0].Score != 433132 || pg.Agents[1].Score != 416666 {
		t.Fatalf("matches %+v", pg.Agents)
	}
	if got := ids(search(t, x, Query{Skill: "TIDE-TABLES"})); got != "4 1" {
		t.Fatalf("skill: %s", got)
	}
	if got := ids(search(t, x, Query{Tag: "weather"})); got != "3 4 1" {
		t.Fatalf("tag: %s", got)
	}
	if got := ids(search(t, x, Query{Tag: "weather", Skill: "forecast"})); got != "3" {
		t.Fatalf("tag and skill: %s", got)
	}
	if got := ids(search(t, x, Query{Tag: "weather", Text: "harbour"})); got != "" {
		t.Fatalf("tag and text: %s", got)
	}
	if got := ids(search(t, x, Query{})); got != "3 4 1 2" {
		t.Fatalf("all: %s", got)
	}
	if got := ids(search(t, x, Query{Text: "nothing-like-it"})); got != "" {
		t.Fatalf("no match: %s", got)
	}
	if _, err := x.Search(Query{Text: "a !"}); err == nil {
		t.Fatal("a query with no token")
	}

	// Ratings lift an agent: one five-star rating of ten times the
	// minimum payment takes agent 2 (reputation 0.92) from last to second.
	a2 := *x.docs[x.byID[2]].info.Agent
	a2.Rep = agent.Rep{Weight: 10_000, Stars: 50_000, Count: 1}
	x.Apply([]*agent.Agent{&a2}, 11, p)
	if got := ids(search(t, x, Query{})); got != "3 2 4 1" {
		t.Fatalf("after a rating: %s", got)
	}
	// Deregistration drops it.
	a2.Status = agent.Unbonding
	x.Apply([]*agent.Agent{&a2}, 12, p)
	if got := ids(search(t, x, Query{})); got != "3 4 1" || x.Height() != 12 {
		t.Fatalf("after deregistration: %s at %d", got, x.Height())
	}
}

// Pages follow the cursor without gaps or repeats, for every kind of
// query, and a cursor that is not of the listing is refused.
func TestPages(t *testing.T) {
	x := New()
	var as []*agent.Agent
	for i := uint64(1); i <= 95; i++ {
		as = append(as, mk(i, fmt.Sprintf("agent %d", i%7), "tides", types.MYC(10+i%13), types.Amount(i%5)*types.MYC(1),
			agent.Skill{ID: fmt.Sprint("s", i%3), Tags: []string{fmt.Sprint("t", i%2)}}))
	}
	x.Apply(as, 5, agent.DefaultParams())
	for _, q := range []Query{{}, {Text: "tides agent"}, {Skill: "s1"}, {Tag: "t0"}, {Skill: "s2", Tag: "t1", Text: "agent 3"}} {
		all := search(t, x, Query{Skill: q.Skill, Tag: q.Tag, Text: q.Text, Limit: 1000})
		var paged []string
		cur := q
		cur.Limit = 7
		for n := 0; ; n++ {
			p := search(t, x, cur)
			if p.Matched != all.Matched {
				t.Fatalf("%+v: matched %d then %d", q, all.Matched, p.Matched)
			}
			if s := ids(p); s != "" {
				paged = append(paged, s)
			}
			if p.Next == 0 {
				break
			}
			cur.After = p.Next
		}
		if strings.Join(paged, " ") != ids(all) {
			t.Fatalf("%+v: pages %v, all %s", q, paged, ids(all))
		}
	}
	if _, err := x.Search(Query{After: 999}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("unknown cursor: %v", err)
	}
	if _, err := x.Search(Query{Skill: "s1", After: 3}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("cursor of another listing: %v", err)
	}
}

// Reputation decays by epoch; the index rescores everyone when an epoch
// passes, without a change to any agent.
func TestEpochRescore(t *testing.T) {
	p := agent.DefaultParams()
	p.RatingEpochBlocks, p.RatingKeep = 10, 0
	a := mk(1, "rated", "", types.MYC(10), 0)
	a.Rep = agent.Rep{Weight: 10_000, Stars: 50_000, Count: 1}
	x := New()
	x.Apply([]*agent.Agent{a}, 5, p)
	before := search(t, x, Query{}).Agents[0].Reputation
	x.Apply(nil, 15, p)
	after := search(t, x, Query{}).Agents[0].Reputation
	if before <= 500000 || after != 500000 {
		t.Fatalf("reputation %d then %d", before, after)
	}
}

// The index compacts its postings once most docs are dead, and answers
// the same.
func TestCompaction(t *testing.T) {
	x := New()
	p := agent.DefaultParams()
	for round := 0; round < 5; round++ {
		var as []*agent.Agent
		for i := uint64(1); i <= 600; i++ {
			as = append(as, mk(i, fmt.Sprint("name", round), "d", types.MYC(10), 0))
		}
		x.Apply(as, int64(round+1), p)
	}
	if len(x.docs) > 1800 || x.Len() != 600 {
		t.Fatalf("%d docs for %d agents", len(x.docs), x.Len())
	}
	if pg := search(t, x, Query{Text: "name4"}); pg.Matched != 600 {
		t.Fatalf("%d matched", pg.Matched)
	}
	if pg := search(t, x, Query{Text: "name0"}); pg.Matched != 0 {
		t.Fatalf("old names still match: %d", pg.Matched)
	}
}
