package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	gogotypes "github.com/cosmos/gogoproto/types"

	"github.com/mycelnet/mycel/a2a"
	sdk "github.com/mycelnet/mycel/agent"
	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/discovery"
	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

// AgentsOptions size the agents benchmark.
type AgentsOptions struct {
	// Agents is how many agents are registered and indexed.
	Agents int `json:"agents"`
	// Queries is how many different queries of each kind (skill, tag,
	// free text) are timed, drawn like the records; Reps how many times
	// each set runs, the index and the scan in turn (the median counts).
	Queries int `json:"queries"`
	Reps    int `json:"reps"`
	// Calls is how many round trips each messaging path makes, each
	// carrying Payload bytes of text; NoMessaging skips that part.
	Calls       int       `json:"calls"`
	Payload     int       `json:"payload_bytes"`
	NoMessaging bool      `json:"no_messaging,omitempty"`
	Seed        uint64    `json:"seed"`
	Dir         string    `json:"-"`
	Progress    io.Writer `json:"-"`
}

// AgentsQuery is one kind of discovery query: the index's time per query
// (warm: the queries run again and again) and the linear scan's, each the
// median over the reps of the mean over the kind's queries.
type AgentsQuery struct {
	Kind    string   `json:"kind"`
	Queries []string `json:"queries"`
	// Matched is the mean number of agents a query matches (the page
	// holds the best 20 of them).
	Matched      float64 `json:"mean_matched"`
	IndexSeconds float64 `json:"index_seconds"`
	ScanSeconds  float64 `json:"scan_seconds"`
	// IndexColdSeconds is the index's first pass after the scan ran,
	// which finds the caches full of the scan's records.
	IndexColdSeconds float64 `json:"index_cold_seconds"`
	// Ratio is the scan's time over the index's (warm).
	Ratio float64 `json:"ratio"`
}

// AgentsCalls is the messaging round trip: medians of one agent's calls
// to an agent on its own host (direct) and to one behind a node's
// mailbox, and of a raw HTTP POST of the same sizes on loopback.
type AgentsCalls struct {
	Calls int `json:"calls"`
	// RequestBytes and AnswerBytes are the direct exchange's bodies (the
	// signed, sealed envelopes in JSON), which the raw POST sends and
	// gets back.
	RequestBytes   int     `json:"request_bytes"`
	AnswerBytes    int     `json:"answer_bytes"`
	DirectSeconds  float64 `json:"direct_seconds"`
	MailboxSeconds float64 `json:"mailbox_seconds"`
	RawSeconds     float64 `json:"raw_http_seconds"`
	// DirectOverRaw and MailboxOverRaw are each path's median over the
	// raw POST's.
	DirectOverRaw  float64 `json:"direct_over_raw"`
	MailboxOverRaw float64 `json:"mailbox_over_raw"`
}

// AgentsResult is the agents benchmark's outcome. Ratio is the linear
// scan's time over the index's, the geometric mean over the three query
// kinds: higher is better.
type AgentsResult struct {
	Agents int `json:"agents"`
	Blocks int `json:"blocks"`
	// RegisterSeconds is the blocks' FinalizeBlock and Commit on Pebble.
	RegisterSeconds   float64 `json:"register_seconds"`
	RegisterPerSecond float64 `json:"registrations_per_second"`
	// BuildSeconds is the index built from chain state as a node builds
	// it on its first query: ReadSeconds reading the changed agents from
	// a snapshot (app.AgentsChangedSince(0)), the rest indexing them.
	BuildSeconds float64       `json:"build_seconds"`
	ReadSeconds  float64       `json:"build_read_seconds"`
	Queries      []AgentsQuery `json:"queries"`
	Messaging    *AgentsCalls  `json:"messaging,omitempty"`
	Ratio        float64       `json:"ratio"`
	Options      AgentsOptions `json:"options"`
	Settings     string        `json:"settings"`
}

// agentsPerBlock is how many registrations a block carries.
const agentsPerBlock = 5000

// Agents registers o.Agents agents by signed transactions through the
// application on Pebble, builds the discovery index from chain state as
// a node does, times skill, tag and free-text queries against a linear
// scan of the same records doing the same match and ranking (and checks
// that both give the same agents), then times calls between agents on a
// devnet, direct and through a mailbox, beside a raw HTTP POST.
func Agents(ctx context.Context, o AgentsOptions) (AgentsResult, error) {
	if o.Agents <= 0 {
		o.Agents = 100_000
	}
	if o.Queries <= 0 {
		o.Queries = 10
	}
	if o.Reps <= 0 {
		o.Reps = 11
	}
	if o.Calls <= 0 {
		o.Calls = 200
	}
	if o.Payload <= 0 {
		o.Payload = 256
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	res := AgentsResult{Agents: o.Agents, Options: o, Settings: fmt.Sprintf(
		"%d agents (names of 1-3 and descriptions of 5-25 words from a 5,000-word vocabulary, skewed; 1-4 of 2,000 skills with 1-3 of 300 tags; "+
			"deposits 10-10,010 MYC, prices 0-5 MYC) registered by signed transactions, %d a block, through the application on Pebble; "+
			"index built from chain state as a node builds it; first page of %d; the scan holds the same records pre-tokenized and ranks with "+
			"discovery's own score; %d queries of each kind, median of %d reps; the index warm (the queries again and again for 20 ms) and cold (right after the scan)", o.Agents, min(o.Agents, agentsPerBlock), discovery.DefaultLimit, o.Queries, o.Reps)}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "mycel-bench-agents-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if err := agentsDiscovery(ctx, dir, o, &res); err != nil {
		return res, err
	}
	if !o.NoMessaging {
		say(o.Progress, "agents: messaging: starting a devnet ...")
		m, err := agentCalls(ctx, o)
		if err != nil {
			return res, fmt.Errorf("messaging: %w", err)
		}
		res.Messaging = &m
	}
	return res, nil
}

// agentWords is the fixed vocabulary: 5,000 made-up words of two
// syllables ("bako", "tiru"), distinct, so every word is a token.
func agentWords() []string {
	const cons, vows = "bcdfghjklmnprstv", "aeiou"
	var syl []string
	for _, c := range cons {
		for _, v := range vows {
			syl = append(syl, string(c)+string(v))
		}
	}
	out := make([]string, 5000)
	for i := range out {
		out[i] = syl[i%len(syl)] + syl[i/len(syl)]
	}
	return out
}

// agentGen draws records and queries from the vocabulary, the words
// skewed towards the first ones (as in real text: a few common, most
// rare), the skills and tags uniformly.
type agentGen struct {
	rng   *rand.Rand
	words []string
}

func (g *agentGen) word() string {
	f := g.rng.Float64()
	return g.words[int(f*f*float64(len(g.words)))]
}

func (g *agentGen) phrase(k int) string {
	s := make([]string, k)
	for i := range s {
		s[i] = g.word()
	}
	return strings.Join(s, " ")
}

// skill and tag name the i-th skill id and tag.
func (g *agentGen) skill(i int) string { return g.words[i] + "-" + g.words[(i*37+11)%len(g.words)] }
func (g *agentGen) tag(i int) string   { return g.words[(i*16+7)%len(g.words)] }

// register draws the i-th agent's registration.
func (g *agentGen) register(i int) agent.MsgRegister {
	key := sha256.Sum256([]byte("mycel-bench-agent-key-" + strconv.Itoa(i)))
	card := sha256.Sum256([]byte("mycel-bench-agent-card-" + strconv.Itoa(i)))
	m := agent.MsgRegister{SigningKey: agent.PublicKey(key), CardHash: types.Hash(card), CardSize: uint64(800 + g.rng.IntN(2000)),
		Name: g.phrase(1 + g.rng.IntN(3)), Description: g.phrase(5 + g.rng.IntN(21)),
		Deposit: types.MYC(10 + g.rng.Uint64N(10_001)), Price: types.Amount(g.rng.Uint64N(uint64(types.MYC(5))))}
	if i%2 == 0 {
		m.Endpoint = fmt.Sprintf("https://a%d.agents.example/a2a", i+1)
	}
	var skills []int
	for k := 1 + g.rng.IntN(4); len(skills) < k; {
		if s := g.rng.IntN(2000); !slices.Contains(skills, s) {
			skills = append(skills, s)
		}
	}
	for _, s := range skills {
		sk := agent.Skill{ID: g.skill(s), Name: g.phrase(2)}
		var tags []int
		for k := 1 + g.rng.IntN(3); len(tags) < k; {
			if t := g.rng.IntN(300); !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		for _, t := range tags {
			sk.Tags = append(sk.Tags, g.tag(t))
		}
		m.Skills = append(m.Skills, sk)
	}
	return m
}

const agentsChain = "mycel-bench-agents"

func agentsDiscovery(ctx context.Context, dir string, o AgentsOptions, res *AgentsResult) error {
	n := o.Agents
	db, err := storage.Open(dir, quiet())
	if err != nil {
		return err
	}
	defer db.Close()
	a := app.New(db, app.Options{Logger: quiet()})
	// One owner per registration in a block; each owner registers one
	// agent a block, so its sequence is the block's number.
	owners := min(n, agentsPerBlock)
	blocks := (n + owners - 1) / owners
	keys := make([]ed25519.PrivateKey, owners)
	var accs []app.GenesisAccount
	for i := range keys {
		keys[i] = benchKey(2_000_000 + i)
		accs = append(accs, app.GenesisAccount{Address: types.AddressFromPubKey(keys[i].Public().(ed25519.PublicKey)),
			Amount: types.MYC(10_100 * uint64(blocks))})
	}
	val := benchKey(-2)
	accs = append(accs, app.GenesisAccount{Address: types.AddressFromPubKey(val.Public().(ed25519.PublicKey)), Amount: types.MYC(10)})
	g, err := app.BuildGenesis(accs, []app.GenesisValidator{{Operator: accs[len(accs)-1].Address,
		ConsensusKey: benchKey(-3).Public().(ed25519.PublicKey), Bond: types.MYC(1)}}, app.DefaultStake(10, 10))
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(g)
	if _, err := a.InitChain(ctx, &abci.InitChainRequest{ChainId: agentsChain, Time: time.Unix(1_800_000_000, 0), InitialHeight: 1,
		AppStateBytes: raw, ConsensusParams: &cmtproto.ConsensusParams{Evidence: &cmtproto.EvidenceParams{MaxAgeNumBlocks: 10},
			Feature: &cmtproto.FeatureParams{VoteExtensionsEnableHeight: &gogotypes.Int64Value{Value: 1}}}}); err != nil {
		return err
	}
	chain := &schedNode{app: a, db: db}

	gen := &agentGen{rng: rand.New(rand.NewPCG(o.Seed, 0xa6e7)), words: agentWords()}
	msgs := make([]agent.MsgRegister, n)
	for i := range msgs {
		msgs[i] = gen.register(i)
	}
	say(o.Progress, "agents: registering %d agents, %d a block ...", n, owners)
	var took time.Duration
	for b := 0; b < blocks; b++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		lo, hi := b*owners, min((b+1)*owners, n)
		txs := make([][]byte, hi-lo)
		// The owners sign in parallel: their work, not the chain's.
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				for j := w; j < len(txs); j += workers {
					t := &tx.Tx{ChainID: agentsChain, Sequence: uint64(b), Fee: types.MYC(1) / 10,
						Msgs: []tx.Msg{{Kind: agent.KindRegister, Body: msgs[lo+j].Encode()}}}
					t.Sign(keys[j])
					txs[j] = t.Encode()
				}
			})
		}
		wg.Wait()
		start := time.Now()
		r, err := chain.block(txs)
		took += time.Since(start)
		if err != nil {
			return err
		}
		for _, tr := range r.TxResults {
			if tr.Code != 0 {
				return fmt.Errorf("register an agent: %s", tr.Log)
			}
		}
	}
	res.Blocks, res.RegisterSeconds = blocks, took.Seconds()
	res.RegisterPerSecond = float64(n) / took.Seconds()
	say(o.Progress, "agents: %d registered in %.1f s (%.0f/s); building the index ...", n, res.RegisterSeconds, res.RegisterPerSecond)

	// The index as the node builds it on its first query (node/agents.go).
	start := time.Now()
	changed, h, p := a.AgentsChangedSince(0)
	read := time.Since(start)
	x := discovery.New()
	x.Apply(changed, h, p)
	res.BuildSeconds, res.ReadSeconds = time.Since(start).Seconds(), read.Seconds()
	if x.Len() != n {
		return fmt.Errorf("the index lists %d agents, want %d", x.Len(), n)
	}
	s := newAgentScan(changed, h, p)
	say(o.Progress, "agents: index built in %.2f s; %d queries of each kind, %d reps ...", res.BuildSeconds, o.Queries, o.Reps)

	qgen := &agentGen{rng: rand.New(rand.NewPCG(o.Seed, 0x9e7)), words: gen.words}
	kinds := []struct {
		name string
		q    func() (discovery.Query, string)
	}{
		{"skill", func() (discovery.Query, string) {
			v := qgen.skill(qgen.rng.IntN(2000))
			return discovery.Query{Skill: v}, "skill=" + v
		}},
		{"tag", func() (discovery.Query, string) {
			v := qgen.tag(qgen.rng.IntN(300))
			return discovery.Query{Tag: v}, "tag=" + v
		}},
		{"text", func() (discovery.Query, string) {
			v := qgen.phrase(2)
			return discovery.Query{Text: v}, "q=" + v
		}},
	}
	logSum := 0.0
	for _, k := range kinds {
		out := AgentsQuery{Kind: k.name}
		qs := make([]discovery.Query, o.Queries)
		for i := range qs {
			var name string
			qs[i], name = k.q()
			out.Queries = append(out.Queries, name)
			// The same agents, in the same order, from both.
			page, err := x.Search(qs[i])
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			ids, matched := s.search(qs[i])
			if got := pageIDs(page); !slices.Equal(got, ids) || page.Matched != matched {
				return fmt.Errorf("%s: the index and the linear scan disagree: index %v (%d matched), scan %v (%d matched)",
					name, got, page.Matched, ids, matched)
			}
			out.Matched += float64(matched) / float64(len(qs))
		}
		// Each rep runs the set once on the scan, whose records are
		// more than the caches hold anyway, then on the index: once
		// right after the scan (cold: the scan's work filled the caches),
		// then again and again for 20 ms (warm, as on a node answering
		// queries all the time: the figure compared).
		var idx, scan, idxCold []time.Duration
		pass := func(f func(discovery.Query)) time.Duration {
			start := time.Now()
			for _, q := range qs {
				f(q)
			}
			return time.Since(start)
		}
		onIndex := func(q discovery.Query) { x.Search(q) }
		onScan := func(q discovery.Query) { s.search(q) }
		per := func(d time.Duration, passes int) time.Duration { return d / time.Duration(passes*len(qs)) }
		for r := 0; r < o.Reps; r++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			scan = append(scan, per(pass(onScan), 1))
			idxCold = append(idxCold, per(pass(onIndex), 1))
			var warm time.Duration
			passes := 0
			for ; passes < 3 || warm < 20*time.Millisecond; passes++ {
				warm += pass(onIndex)
			}
			idx = append(idx, per(warm, passes))
		}
		out.IndexSeconds, out.ScanSeconds = medianDuration(idx).Seconds(), medianDuration(scan).Seconds()
		out.IndexColdSeconds = medianDuration(idxCold).Seconds()
		out.Ratio = out.ScanSeconds / out.IndexSeconds
		logSum += math.Log(out.Ratio)
		say(o.Progress, "agents: %s: index %.1f µs, scan %.2f ms (%.0f matched)", k.name, out.IndexSeconds*1e6, out.ScanSeconds*1e3, out.Matched)
		res.Queries = append(res.Queries, out)
	}
	res.Ratio = math.Exp(logSum / float64(len(kinds)))
	return nil
}

func pageIDs(p discovery.Page) []uint64 {
	out := make([]uint64, len(p.Agents))
	for i, a := range p.Agents {
		out[i] = a.ID
	}
	return out
}

func medianDuration(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// agentScan is the baseline: the same records in a slice, tokenized
// once, matched one by one and ranked with discovery's own score.
type agentScan struct{ recs []scanRec }

type scanRec struct {
	id                uint64
	quality           uint32
	skillIDs, tags    []string
	name, skill, desc []string
}

func newAgentScan(changed []*agent.Agent, h int64, p agent.Params) *agentScan {
	s := &agentScan{}
	for _, a := range changed {
		if !a.Listed(h) {
			continue
		}
		r := scanRec{id: a.ID, quality: discovery.Quality(agent.InfoOf(a, h, p)),
			name: discovery.Tokens(a.Name), desc: discovery.Tokens(a.Description)}
		for _, sk := range a.Skills {
			r.skillIDs = append(r.skillIDs, strings.ToLower(sk.ID))
			for _, t := range sk.Tags {
				r.tags = append(r.tags, strings.ToLower(t))
			}
			for _, t := range discovery.Tokens(sk.ID + " " + sk.Name + " " + strings.Join(sk.Tags, " ")) {
				if !slices.Contains(r.skill, t) {
					r.skill = append(r.skill, t)
				}
			}
		}
		s.recs = append(s.recs, r)
	}
	return s
}

type scanHit struct {
	id    uint64
	score uint32
}

// search returns the ids of the first page of q (by score, then by lower
// id) and how many agents match.
func (s *agentScan) search(q discovery.Query) ([]uint64, int) {
	skill, tag := strings.ToLower(strings.TrimSpace(q.Skill)), strings.ToLower(strings.TrimSpace(q.Tag))
	toks := discovery.Tokens(q.Text)
	if len(toks) > discovery.MaxTokens {
		toks = toks[:discovery.MaxTokens]
	}
	k := discovery.DefaultLimit
	better := func(a, b scanHit) bool { return a.score > b.score || a.score == b.score && a.id < b.id }
	top := make([]scanHit, 0, k+1)
	matched := 0
	for i := range s.recs {
		r := &s.recs[i]
		if skill != "" && !slices.Contains(r.skillIDs, skill) || tag != "" && !slices.Contains(r.tags, tag) {
			continue
		}
		hits := 0
		if len(toks) > 0 {
			if hits = discovery.Hits(toks, r.name, r.skill, r.desc); hits == 0 {
				continue
			}
		}
		score, _ := discovery.Score(hits, len(toks), r.quality)
		matched++
		h := scanHit{r.id, score}
		if len(top) == k && !better(h, top[k-1]) {
			continue
		}
		at := sort.Search(len(top), func(j int) bool { return better(h, top[j]) })
		top = slices.Insert(top, at, h)
		if len(top) > k {
			top = top[:k]
		}
	}
	ids := make([]uint64, len(top))
	for i, h := range top {
		ids[i] = h.id
	}
	return ids, matched
}

// agentCalls starts a devnet, registers an agent with its own host, one
// behind the node's mailbox and a caller, all with the SDK, and times
// the caller's calls to both beside a raw HTTP POST of the same sizes,
// the three in turn.
func agentCalls(ctx context.Context, o AgentsOptions) (AgentsCalls, error) {
	out := AgentsCalls{Calls: o.Calls}
	home, err := os.MkdirTemp("", "mycel-bench-agents-net-")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(home)
	// Short blocks only speed up the registrations: calls never wait on a
	// block.
	net, err := devnet.Start(ctx, devnet.Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: 250 * time.Millisecond, Logger: quiet()})
	if err != nil {
		return out, err
	}
	defer net.Stop()
	if err := net.WaitHeight(ctx, 1); err != nil {
		return out, err
	}
	kr := keyring.Open(node.KeyringDir(home))
	var owners [3]keyring.Key
	for i, name := range devnet.DevAccounts[:3] {
		if owners[i], err = kr.Get(name); err != nil {
			return out, err
		}
	}
	c := client.New(net.Nodes[0].APIURL())
	echo := func(_ context.Context, r *sdk.Request) (*sdk.Reply, error) { return sdk.Text(r.Text()), nil }

	srv := httptest.NewUnstartedServer(nil)
	defer srv.Close()
	host, err := sdk.New(sdk.Config{Node: c, Key: benchKey(-20), Owner: owners[0].Private, PublicURL: "http://" + srv.Listener.Addr().String(),
		Card: a2a.Card{Name: "Echo host", Description: "answers on its own host"}})
	if err != nil {
		return out, err
	}
	host.Handle(a2a.Skill{ID: "echo", Name: "Echo"}, 0, echo)
	var sizes exchangeSizes
	srv.Config.Handler = sizes.wrap(host.Handler())
	srv.Start()
	nat, err := sdk.New(sdk.Config{Node: c, Key: benchKey(-21), Owner: owners[1].Private,
		Card: a2a.Card{Name: "Echo behind NAT", Description: "answers through the mailbox"}})
	if err != nil {
		return out, err
	}
	nat.Handle(a2a.Skill{ID: "echo", Name: "Echo"}, 0, echo)
	user, err := sdk.New(sdk.Config{Node: c, Key: benchKey(-22), Owner: owners[2].Private, Card: a2a.Card{Name: "Caller", Description: "calls"}})
	if err != nil {
		return out, err
	}
	say(o.Progress, "agents: messaging: registering three agents ...")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, a := range []*sdk.Agent{host, nat, user} {
		wg.Go(func() { _, errs[i] = a.Register(ctx, sdk.Registration{Deposit: types.MYC(10)}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- nat.ServeMailbox(serveCtx) }()
	defer func() { stopServing(); <-served }()

	text := strings.Repeat("abcdefghijklmnopqrstuvwxyz012345", o.Payload/32+1)[:o.Payload]
	call := func(to uint64) func() error {
		return func() error {
			ans, err := user.Call(ctx, to, sdk.Call{Text: text})
			if err != nil {
				return err
			}
			if ans.Err() != nil || ans.Text() != text {
				return fmt.Errorf("agent %d answered %q (%v), not the text it was sent", to, ans.Text(), ans.Err())
			}
			return nil
		}
	}
	direct, mailbox := call(host.ID()), call(nat.ID())
	// The first direct call gives the sizes the raw POST carries.
	if err := direct(); err != nil {
		return out, fmt.Errorf("direct call: %w", err)
	}
	out.RequestBytes, out.AnswerBytes = int(sizes.req.Load()), int(sizes.resp.Load())
	answer := bytes.Repeat([]byte("x"), out.AnswerBytes)
	rawSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer rawSrv.Close()
	request := bytes.Repeat([]byte("x"), out.RequestBytes)
	raw := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawSrv.URL+sdk.EnvelopePath, bytes.NewReader(request))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && len(b) != len(answer) {
			err = fmt.Errorf("raw POST: %d bytes back, want %d", len(b), len(answer))
		}
		return err
	}

	paths := []func() error{raw, direct, mailbox}
	times := make([][]time.Duration, len(paths))
	// Warm every path (connections, the callee's cached lookups), then
	// take turns, rotating which goes first.
	for i := 0; i < 3; i++ {
		for j, f := range paths {
			if err := f(); err != nil {
				return out, fmt.Errorf("%s: %w", []string{"raw POST", "direct call", "mailbox call"}[j], err)
			}
		}
	}
	say(o.Progress, "agents: messaging: %d calls each way, %d-byte text ...", o.Calls, o.Payload)
	for i := 0; i < o.Calls; i++ {
		for k := range paths {
			j := (i + k) % len(paths)
			start := time.Now()
			if err := paths[j](); err != nil {
				return out, err
			}
			times[j] = append(times[j], time.Since(start))
		}
	}
	out.RawSeconds, out.DirectSeconds, out.MailboxSeconds = medianDuration(times[0]).Seconds(), medianDuration(times[1]).Seconds(), medianDuration(times[2]).Seconds()
	out.DirectOverRaw, out.MailboxOverRaw = out.DirectSeconds/out.RawSeconds, out.MailboxSeconds/out.RawSeconds
	return out, nil
}

// exchangeSizes records the body sizes of the last envelope exchange on
// an agent's host.
type exchangeSizes struct{ req, resp atomic.Int64 }

func (s *exchangeSizes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != sdk.EnvelopePath {
			h.ServeHTTP(w, r)
			return
		}
		cw := &countingWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		s.req.Store(r.ContentLength)
		s.resp.Store(cw.n)
	})
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}
