package devnet

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

// TestDoubleSignSlashed is double signing for real: four validators run
// in this process, then a fifth node starts with a copy of validator V's
// CometBFT key (priv_validator_key.json) and a fresh
// priv_validator_state.json, so its double-sign protection knows nothing
// of what V signed. Nothing is forged by the test: the two instances of V
// sign conflicting votes in ordinary consensus, the honest nodes'
// CometBFT detects them, turns them into DuplicateVoteEvidence and commits
// it in a block, and the application slashes and tombstones V from the
// block's misbehaviour list. (CometBFT's own e2e tests instead sign
// duplicate votes themselves and submit them through the RPC's
// broadcast_evidence; this test needs no such shortcut.)
//
// How the conflict is provoked. Two instances with one key and the same
// view sign the same block; their votes then differ only in timestamp,
// which CometBFT rejects as a "non-deterministic signature" but does not
// count as evidence. So the clone is given a different view: its
// application rejects every proposal in ProcessProposal, so at every
// height it prevotes nil while V prevotes the block, the same height,
// round and type with different block ids. (Other tricks race: a clone
// with a different mempool conflicts only when V proposes and only if it
// has not taken V's proposal first; one with a short timeout_propose
// only when the proposal is late.) The clone precommits the block once
// it sees the others' polka (CometBFT does not ask the application
// again) and follows the chain; the three others and V make more than
// two thirds without it.
//
// How the conflict is seen. An honest node reports conflicting votes only
// if it receives both, and CometBFT's gossip works against that: a node
// that gets V's vote from one instance tells all its peers it has
// validator V's prevote (HasVote), and the other instance then never
// sends it its own. With the default gossip pace (a vote routine that
// sleeps 100ms when it has nothing to send, majority queries every 2s)
// the two votes met only now and then, one to dozens of heights after
// the clone joined. The network here gossips votes every 5ms, so both
// instances mostly send theirs before they hear the other's HasVote, and
// asks every 10ms which block peers have two thirds for, which is
// CometBFT's own remedy: when a peer that holds the clone's nil vote
// answers V that it lacks V's vote for the majority block, V sends it.
// With both, in every run tried, on an idle and on a loaded machine, the
// evidence came from one of the first heights the clone voted in.
//
// Blocks come every 250ms rather than the 100ms of the other tests: the
// clone starts from genesis and must catch up with the chain before its
// votes count.
func TestDoubleSignSlashed(t *testing.T) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Every node of the network logs errors at each height while the
	// clone runs (its rejected proposals and its votes, which CometBFT
	// reports as conflicting or non-deterministic): the log is shown only
	// if the test fails.
	logger := bufferedLogger(t)
	net := startQuickGossipNetwork(ctx, t, Options{Validators: 4, BlockTime: 250 * time.Millisecond,
		Logger: logger, CheckInvariants: true})
	defer net.Stop()
	if err := net.WaitHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}
	c := client.New(net.Nodes[0].APIURL())

	// The operators, their bonds before, and the double-sign fraction.
	ops := make([]types.Address, len(net.Homes))
	before := make([]stake.Bond, len(net.Homes))
	for i, h := range net.Homes {
		k, err := keyring.Open(node.KeyringDir(h)).Get("node" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		ops[i] = k.Address
		before[i] = validatorBond(ctx, t, c, k.Address)
		if before[i].Amount == 0 || before[i].Jailed || before[i].Tombstoned {
			t.Fatalf("node%d starts with bond %+v", i, before[i])
		}
	}
	params, err := c.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const v = 3 // the validator whose key is cloned
	consAddr := consensusAddress(t, net.Homes[v])

	clone := startClone(ctx, t, net, net.Homes[v], logger.With("node", "clone"))
	defer clone.stop()
	t.Logf("clone of node%d (%X) started at height %d after %s", v, consAddr, net.Nodes[0].Height(), time.Since(start).Round(time.Millisecond))

	// Wait for the block that carries CometBFT's evidence against V.
	evHeight := waitEvidence(ctx, t, net.Nodes[0], consAddr)
	t.Logf("duplicate vote evidence committed at height %d after %s", evHeight, time.Since(start).Round(time.Millisecond))
	if err := net.WaitHeight(ctx, evHeight); err != nil {
		t.Fatal(err)
	}

	// The block's results hold the application's slash of V's operator.
	res, err := rpclocal.New(net.Nodes[0].Comet()).BlockResults(ctx, &evHeight)
	if err != nil {
		t.Fatal(err)
	}
	if !hasSlashEvent(res.FinalizeBlockEvents, ops[v]) {
		t.Fatalf("block %d carries the evidence but no double-sign slash of %s; events: %v", evHeight, ops[v], res.FinalizeBlockEvents)
	}

	// The chain goes on without V, and V is punished once, whatever other
	// evidence of the same fault arrives later.
	if err := net.WaitHeight(ctx, evHeight+6); err != nil {
		t.Fatal(err)
	}
	want := before[v].Amount - before[v].Amount.MulFraction(params.Stake.DoubleSignSlash)
	if got := validatorBond(ctx, t, c, ops[v]); got.Amount != want || !got.Tombstoned || !got.Jailed {
		t.Fatalf("node%d's bond after double signing is %+v, want %s tombstoned (was %s, slash %s)",
			v, got, want, before[v].Amount, params.Stake.DoubleSignSlash)
	}
	for i := range ops {
		if i == v {
			continue
		}
		if got := validatorBond(ctx, t, c, ops[i]); !reflect.DeepEqual(got, before[i]) {
			t.Fatalf("honest node%d's bond changed: %+v, was %+v", i, got, before[i])
		}
	}
	vals, err := c.Validators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(ops)-1 {
		t.Fatalf("%d active validators after the slash, want %d: %+v", len(vals), len(ops)-1, vals)
	}
	for _, a := range vals {
		if a.Operator == ops[v] {
			t.Fatalf("the double signer is still active: %+v", a)
		}
	}
	// CometBFT's own validator set has dropped V too, and blocks keep
	// coming from the three that are left.
	h := net.Nodes[0].Height()
	if err := net.WaitHeight(ctx, h+3); err != nil {
		t.Fatal(err)
	}
	cvals, err := rpclocal.New(net.Nodes[0].Comet()).Validators(ctx, &h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range cvals.Validators {
		if bytes.Equal(cv.Address, consAddr) {
			t.Fatalf("CometBFT still counts node%d as a validator at height %d", v, h)
		}
	}
	if len(cvals.Validators) != len(ops)-1 {
		t.Fatalf("CometBFT has %d validators at height %d, want %d", len(cvals.Validators), h, len(ops)-1)
	}
	t.Logf("done at height %d after %s", net.Nodes[0].Height(), time.Since(start).Round(time.Millisecond))
}

// startQuickGossipNetwork lays out a network as Start does, with
// quickVoteGossip on every node, and starts it. Free ports are picked
// before the nodes bind them, so another process may take one first: it
// tries again in a new home then.
func startQuickGossipNetwork(ctx context.Context, t *testing.T, o Options) *Network {
	t.Helper()
	var lastErr error
	for range 3 {
		o.Home = t.TempDir()
		o.defaults()
		if err := layout(o, o.homes()); err != nil {
			t.Fatal(err)
		}
		for _, h := range o.homes() {
			quickVoteGossip(t, h)
		}
		net, err := Start(ctx, o)
		if err == nil {
			return net
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
		t.Logf("trying again on other ports: %v", err)
	}
	t.Fatal(lastErr)
	return nil
}

// quickVoteGossip makes a home's node gossip votes every 5ms rather than
// every 100ms, and ask its peers every 10ms rather than every 2s which
// block they have over two thirds of the votes for (CometBFT's own
// consensus tests gossip every 5ms). See TestDoubleSignSlashed for why.
func quickVoteGossip(t *testing.T, home string) {
	t.Helper()
	conf, err := node.CometConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	conf.Consensus.PeerGossipSleepDuration = 5 * time.Millisecond
	conf.Consensus.PeerQueryMaj23SleepDuration = 10 * time.Millisecond
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), conf)
}

func validatorBond(ctx context.Context, t *testing.T, c *client.Client, a types.Address) stake.Bond {
	t.Helper()
	acc, err := c.Account(ctx, a, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range acc.Bonds {
		if b.Purpose == stake.Validator {
			return b.Bond
		}
	}
	t.Fatalf("%s has no validator bond: %+v", a, acc.Bonds)
	return stake.Bond{}
}

// consensusAddress reads the CometBFT address of a home's validator key.
func consensusAddress(t *testing.T, home string) []byte {
	t.Helper()
	conf, err := node.CometConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(conf.PrivValidatorKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	var k privval.FilePVKey
	if err := cmtjson.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	return k.PubKey.Address()
}

// waitEvidence waits for n to commit a block holding duplicate vote
// evidence against the validator at consAddr and returns its height.
func waitEvidence(ctx context.Context, t *testing.T, n *node.Node, consAddr []byte) int64 {
	t.Helper()
	bs := n.Comet().BlockStore()
	for h := int64(1); ; {
		for ; h <= n.Height(); h++ {
			b, _ := bs.LoadBlock(h)
			if b == nil {
				continue
			}
			for _, ev := range b.Evidence.Evidence {
				dv, ok := ev.(*cmttypes.DuplicateVoteEvidence)
				if !ok {
					continue
				}
				if !bytes.Equal(dv.VoteA.ValidatorAddress, consAddr) {
					t.Fatalf("height %d: evidence against %X, not the cloned validator", h, dv.VoteA.ValidatorAddress)
				}
				if dv.VoteA.Height != dv.VoteB.Height || dv.VoteA.Round != dv.VoteB.Round || dv.VoteA.Type != dv.VoteB.Type ||
					dv.VoteA.BlockID.Equals(dv.VoteB.BlockID) {
					t.Fatalf("height %d: evidence is not a duplicate vote: %v", h, dv)
				}
				t.Logf("evidence at height %d: %s vote at height %d round %d for %v and for %v",
					h, dv.VoteA.Type, dv.VoteA.Height, dv.VoteA.Round, dv.VoteA.BlockID, dv.VoteB.BlockID)
				return h
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no duplicate vote evidence by height %d", n.Height())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func hasSlashEvent(evs []abci.Event, op types.Address) bool {
	for _, e := range evs {
		if e.Type != "slash" {
			continue
		}
		attrs := map[string]string{}
		for _, a := range e.Attributes {
			attrs[a.Key] = a.Value
		}
		if attrs["address"] == op.String() && attrs["reason"] == "double sign" && attrs["purpose"] == stake.Validator.String() {
			return true
		}
	}
	return false
}

// rejectProposals is the clone's application: mycel's, except that it
// deems every proposed block invalid, so its node prevotes nil.
type rejectProposals struct{ *app.App }

func (rejectProposals) ProcessProposal(context.Context, *abci.ProcessProposalRequest) (*abci.ProcessProposalResponse, error) {
	return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
}

type cloneNode struct {
	cmt *node.Comet
	db  *storage.DB
}

func (c *cloneNode) stop() {
	c.cmt.Shutdown()
	c.db.Close()
}

// startClone starts a node with a copy of the consensus key of the
// validator in home, a fresh signing state and node key, and every node of
// net as a peer. It retries on a new P2P port if the one picked was taken.
func startClone(ctx context.Context, t *testing.T, net *Network, home string, log *slog.Logger) *cloneNode {
	t.Helper()
	var peers []string
	for _, n := range net.Nodes {
		peers = append(peers, n.NodeID()+"@"+strings.TrimPrefix(n.P2PAddr(), "tcp://"))
	}
	var lastErr error
	for attempt := range 3 {
		cloneHome := filepath.Join(t.TempDir(), "clone"+strconv.Itoa(attempt))
		c, err := tryClone(ctx, home, cloneHome, strings.Join(peers, ","), log)
		if err == nil {
			return c
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatal(lastErr)
	return nil
}

func tryClone(ctx context.Context, home, cloneHome, peers string, log *slog.Logger) (*cloneNode, error) {
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(cloneHome, d), 0o700); err != nil {
			return nil, err
		}
	}
	// The network's configuration and genesis, and the validator's key.
	for _, f := range []string{"config/config.toml", "config/genesis.json", "config/priv_validator_key.json"} {
		b, err := os.ReadFile(filepath.Join(home, f))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(cloneHome, f), b, 0o600); err != nil {
			return nil, err
		}
	}
	conf, err := node.CometConfig(cloneHome)
	if err != nil {
		return nil, err
	}
	// A signing state that has signed nothing: the clone's double-sign
	// protection does not know what V signed.
	st, err := cmtjson.MarshalIndent(&privval.FilePVLastSignState{}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf.PrivValidatorStateFile(), st, 0o600); err != nil {
		return nil, err
	}
	// Its own P2P identity and port.
	if _, err := p2p.LoadOrGenNodeKey(conf.NodeKeyFile()); err != nil {
		return nil, err
	}
	ports, err := FreePorts(1)
	if err != nil {
		return nil, err
	}
	conf.Moniker = "clone"
	conf.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", ports[0])
	conf.P2P.PersistentPeers = peers
	conf.RPC.ListenAddress = ""

	db, err := storage.Open(filepath.Join(conf.DBDir(), "mycel"), log)
	if err != nil {
		return nil, err
	}
	a := app.New(db, app.Options{Logger: log, CheckInvariants: true})
	cmt, err := node.NewComet(ctx, conf, rejectProposals{a}, false, cmtlog.NewNopLogger())
	if err != nil {
		db.Close()
		return nil, err
	}
	return &cloneNode{cmt: cmt, db: db}, nil
}

// bufferedLogger keeps warnings and errors in memory and prints them only
// if the test fails.
func bufferedLogger(t *testing.T) *slog.Logger {
	b := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nodes' log:\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
