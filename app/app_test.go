package app

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	gogotypes "github.com/cosmos/gogoproto/types"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

const testChain = "mycel-test"

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func key(seed string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(seed))
	return ed25519.NewKeyFromSeed(s[:])
}

func addr(k ed25519.PrivateKey) types.Address {
	return types.AddressFromPubKey(k.Public().(ed25519.PublicKey))
}

// world is a set of funded accounts and validators for tests.
type world struct {
	users []ed25519.PrivateKey
	vals  []ed25519.PrivateKey // operator keys
	cons  []ed25519.PrivateKey // consensus keys
	seq   map[types.Address]uint64
}

func newWorld(users, vals int) *world {
	w := &world{seq: map[types.Address]uint64{}}
	for i := 0; i < users; i++ {
		w.users = append(w.users, key(fmt.Sprint("user", i)))
	}
	for i := 0; i < vals; i++ {
		w.vals = append(w.vals, key(fmt.Sprint("val", i)))
		w.cons = append(w.cons, key(fmt.Sprint("cons", i)))
	}
	return w
}

func (w *world) genesis(t testing.TB) []byte {
	var accs []GenesisAccount
	for _, u := range w.users {
		accs = append(accs, GenesisAccount{Address: addr(u), Amount: types.MYC(1000)})
	}
	var vals []GenesisValidator
	for i, v := range w.vals {
		accs = append(accs, GenesisAccount{Address: addr(v), Amount: types.MYC(100)})
		vals = append(vals, GenesisValidator{Operator: addr(v), ConsensusKey: w.cons[i].Public().(ed25519.PublicKey), Bond: types.MYC(10 + uint64(i))})
	}
	p := DefaultStake(5, 0)
	p.JailBlocks = 3
	g, err := BuildGenesis(accs, vals, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign builds a signed transaction with the next sequence of k, and a fee
// from the default schedule.
func (w *world) sign(k ed25519.PrivateKey, msgs ...tx.Msg) []byte {
	a := addr(k)
	t := &tx.Tx{ChainID: testChain, Sequence: w.seq[a], Msgs: msgs, Fee: types.MYC(1)}
	t.Sign(k)
	w.seq[a]++
	return t.Encode()
}

func send(to types.Address, amt types.Amount) tx.Msg {
	return tx.Msg{Kind: bank.KindSend, Body: bank.MsgSend{To: to, Amount: amt}.Encode()}
}

// node is an App on an in-memory database, driven block by block.
type node struct {
	t      testing.TB
	app    *App
	db     *storage.DB
	height int64
}

func newNode(t testing.TB, genesis []byte) *node {
	t.Helper()
	db, err := storage.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := New(db, Options{CheckInvariants: true})
	_, err = a.InitChain(context.Background(), &abci.InitChainRequest{
		ChainId: testChain, Time: genesisTime, InitialHeight: 1, AppStateBytes: genesis,
		ConsensusParams: &cmtproto.ConsensusParams{Evidence: &cmtproto.EvidenceParams{MaxAgeNumBlocks: 5},
			Feature: &cmtproto.FeatureParams{VoteExtensionsEnableHeight: &gogotypes.Int64Value{Value: 1}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &node{t: t, app: a, db: db}
}

// block finalizes and commits one block and returns its results.
func (n *node) block(txs [][]byte, evidence ...abci.Misbehavior) *abci.FinalizeBlockResponse {
	n.t.Helper()
	n.height++
	resp, err := n.app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{
		Txs: txs, Height: n.height, Time: genesisTime.Add(time.Duration(n.height) * time.Second), Misbehavior: evidence,
	})
	if err != nil {
		n.t.Fatalf("height %d: %v", n.height, err)
	}
	if _, err := n.app.Commit(context.Background(), &abci.CommitRequest{}); err != nil {
		n.t.Fatal(err)
	}
	return resp
}

func (n *node) balance(a types.Address) types.Amount { return bank.Balance(n.db.State(), a) }

func TestTransferAndFees(t *testing.T) {
	w := newWorld(2, 1)
	n := newNode(t, w.genesis(t))
	alice, bob := w.users[0], w.users[1]
	before := n.balance(addr(bob))
	if before != types.MYC(1000) {
		t.Fatalf("genesis balance %s", before)
	}
	resp := n.block([][]byte{w.sign(alice, send(addr(bob), types.MYC(5)))})
	if r := resp.TxResults[0]; r.Code != 0 {
		t.Fatalf("transfer failed: %s", r.Log)
	}
	if got := n.balance(addr(bob)); got != before+types.MYC(5) {
		t.Fatalf("bob has %s, want %s", got, before+types.MYC(5))
	}
	if got := n.balance(addr(alice)); got != types.MYC(1000)-types.MYC(5)-types.MYC(1) {
		t.Fatalf("alice has %s after paying 5 and a fee of 1", got)
	}
	// The fee and the block reward went to the only validator.
	if n.balance(addr(w.vals[0])) <= types.MYC(100) {
		t.Fatal("the validator earned nothing")
	}
}

// Each refusal names its problem, keeps its code, and changes no state.
func TestRefusedTransactionsChangeNothing(t *testing.T) {
	w := newWorld(2, 1)
	n := newNode(t, w.genesis(t))
	alice, bob := w.users[0], w.users[1]

	good := &tx.Tx{ChainID: testChain, Sequence: 0, Fee: types.MYC(1), Msgs: []tx.Msg{send(addr(bob), 1)}}
	good.Sign(alice)

	badSig := *good
	badSig.Sig = append([]byte(nil), good.Sig...)
	badSig.Sig[0] ^= 1
	wrongChain := *good
	wrongChain.ChainID = "other"
	wrongChain.Sign(alice)
	ahead := *good
	ahead.Sequence = 7
	ahead.Sign(alice)
	expired := *good
	expired.Expiry = 0 + 0 // set below once the height is known
	lowFee := *good
	lowFee.Fee = 1
	lowFee.Sign(alice)
	broke := &tx.Tx{ChainID: testChain, Fee: types.MYC(1), Msgs: []tx.Msg{send(addr(bob), 1)}}
	broke.Sign(key("nobody"))
	tooMuch := *good
	tooMuch.Msgs = []tx.Msg{send(addr(bob), types.MYC(5000))}
	tooMuch.Sign(alice)
	unknown := *good
	unknown.Msgs = []tx.Msg{{Kind: 0x7777, Body: nil}}
	unknown.Sign(alice)
	big := *good
	big.Msgs = []tx.Msg{send(addr(bob), 1), {Kind: bank.KindSend, Body: make([]byte, 40000)}}
	big.Sign(alice)

	n.block(nil)
	n.block(nil)
	expired.Expiry = 1
	expired.Sign(alice)

	cases := []struct {
		name string
		raw  []byte
		err  *types.Error
	}{
		{"garbage", []byte("not a transaction"), auth.ErrMalformedTx},
		{"bad signature", badSig.Encode(), auth.ErrBadSignature},
		{"wrong chain", wrongChain.Encode(), auth.ErrWrongChain},
		{"sequence ahead", ahead.Encode(), auth.ErrBadSequence},
		{"expired", expired.Encode(), auth.ErrExpired},
		{"fee below schedule", lowFee.Encode(), auth.ErrInsufficientFee},
		{"cannot pay fee", broke.Encode(), auth.ErrCannotPayFee},
		{"unknown message", unknown.Encode(), auth.ErrUnknownMsg},
		{"too large", big.Encode(), auth.ErrTxTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {

			chk, _ := n.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: tc.raw})
			if chk.Code != tc.err.Code || chk.Codespace != tc.err.Codespace {
				t.Fatalf("CheckTx: %s/%d %q, want %s/%d", chk.Codespace, chk.Code, chk.Log, tc.err.Codespace, tc.err.Code)
			}
			if chk.Log == "" {
				t.Fatal("no log names the problem")
			}
			resp := n.block([][]byte{tc.raw})
			r := resp.TxResults[0]
			if r.Code != tc.err.Code || r.Codespace != tc.err.Codespace {
				t.Fatalf("FinalizeBlock: %s/%d %q", r.Codespace, r.Code, r.Log)
			}
			if got := auth.GetAccount(n.db.State(), addr(alice)).Sequence; got != 0 {
				t.Fatalf("alice's sequence moved to %d", got)
			}
			if got := n.balance(addr(alice)); got != types.MYC(1000) {
				t.Fatalf("alice's balance changed to %s", got)
			}
		})
	}

	// A message that fails after auth passed: the fee is paid, the
	// sequence used, the transfer not made; CheckTx refused it outright.
	chk, _ := n.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: tooMuch.Encode()})
	if chk.Code != bank.ErrInsufficientFunds.Code || chk.Codespace != "bank" {
		t.Fatalf("CheckTx of an underfunded transfer: %s/%d %s", chk.Codespace, chk.Code, chk.Log)
	}
	resp := n.block([][]byte{tooMuch.Encode()})
	if r := resp.TxResults[0]; r.Codespace != "bank" || r.Code != bank.ErrInsufficientFunds.Code {
		t.Fatalf("underfunded transfer in a block: %s/%d %s", r.Codespace, r.Code, r.Log)
	}
	if got := n.balance(addr(bob)); got != types.MYC(1000) {
		t.Fatalf("bob received %s", got)
	}
	if got := n.balance(addr(alice)); got != types.MYC(999) {
		t.Fatalf("alice has %s, want 999 MYC after paying only the fee", got)
	}

	// Replaying the same sequence with other bytes is refused by the
	// sequence check.
	replay := &tx.Tx{ChainID: testChain, Sequence: 0, Fee: types.MYC(2), Msgs: []tx.Msg{send(addr(bob), 1)}}
	replay.Sign(alice)
	chk, _ = n.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: replay.Encode()})
	if chk.Code != auth.ErrBadSequence.Code {
		t.Fatalf("replayed sequence: %s/%d %s", chk.Codespace, chk.Code, chk.Log)
	}
}

func TestCheckTxTracksPendingSequences(t *testing.T) {
	w := newWorld(2, 1)
	n := newNode(t, w.genesis(t))
	alice, bob := w.users[0], w.users[1]
	var txs [][]byte
	for i := 0; i < 5; i++ {
		raw := w.sign(alice, send(addr(bob), 1))
		chk, _ := n.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: raw})
		if chk.Code != 0 {
			t.Fatalf("tx %d: %s", i, chk.Log)
		}
		txs = append(txs, raw)
	}
	resp := n.block(txs)
	for i, r := range resp.TxResults {
		if r.Code != 0 {
			t.Fatalf("tx %d in block: %s", i, r.Log)
		}
	}
	if s := auth.GetAccount(n.db.State(), addr(alice)).Sequence; s != 5 {
		t.Fatalf("sequence %d, want 5", s)
	}
}

func bondMsg(p stake.Purpose, amt types.Amount) tx.Msg {
	return tx.Msg{Kind: stake.KindBond, Body: stake.MsgBond{Purpose: p, Amount: amt}.Encode()}
}

func unbondMsg(p stake.Purpose, amt types.Amount) tx.Msg {
	return tx.Msg{Kind: stake.KindUnbond, Body: stake.MsgUnbond{Purpose: p, Amount: amt}.Encode()}
}

func TestBondUnbondAndValidatorUpdates(t *testing.T) {
	w := newWorld(1, 1)
	n := newNode(t, w.genesis(t))
	user := w.users[0]
	cons := key("new-validator-cons")
	pub := cons.Public().(ed25519.PublicKey)

	// A validator bond without proof of the consensus key is refused.
	resp := n.block([][]byte{w.sign(user, bondMsg(stake.Validator, types.MYC(50)))})
	if resp.TxResults[0].Codespace != "stake" {
		t.Fatalf("validator bond without key: %s", resp.TxResults[0].Log)
	}
	sig := ed25519.Sign(cons, stake.ConsensusKeyProofBytes(testChain, addr(user)))
	bond := tx.Msg{Kind: stake.KindBond, Body: stake.MsgBond{Purpose: stake.Validator, Amount: types.MYC(50), ConsensusKey: pub, ConsensusSig: sig}.Encode()}
	resp = n.block([][]byte{w.sign(user, bond)})
	if r := resp.TxResults[0]; r.Code != 0 {
		t.Fatalf("validator bond: %s", r.Log)
	}
	if len(resp.ValidatorUpdates) != 1 || resp.ValidatorUpdates[0].Power != 50 || string(resp.ValidatorUpdates[0].PubKeyBytes) != string(pub) {
		t.Fatalf("validator updates %v", resp.ValidatorUpdates)
	}
	// Unbond everything: power goes to zero, tokens come back after the
	// unbonding period (5 blocks).
	before := n.balance(addr(user))
	resp = n.block([][]byte{w.sign(user, unbondMsg(stake.Validator, types.MYC(50)))})
	if r := resp.TxResults[0]; r.Code != 0 {
		t.Fatalf("unbond: %s", r.Log)
	}
	if len(resp.ValidatorUpdates) != 1 || resp.ValidatorUpdates[0].Power != 0 {
		t.Fatalf("validator updates after unbond %v", resp.ValidatorUpdates)
	}
	for i := 0; i < 4; i++ {
		n.block(nil)
	}
	if got := n.balance(addr(user)); got != before-types.MYC(1) {
		t.Fatalf("paid back early: %s", got)
	}
	resp = n.block(nil)
	if got := n.balance(addr(user)); got != before-types.MYC(1)+types.MYC(50) {
		t.Fatalf("after the unbonding period the balance is %s", got)
	}
}

func TestDoubleSignEvidenceSlashesAndTombstones(t *testing.T) {
	w := newWorld(1, 3)
	n := newNode(t, w.genesis(t))
	n.block(nil)
	bad := w.vals[1]
	consAddr := stake.ConsensusAddress(w.cons[1].Public().(ed25519.PublicKey))
	resp := n.block(nil, abci.Misbehavior{Type: abci.MISBEHAVIOR_TYPE_DUPLICATE_VOTE,
		Validator: abci.Validator{Address: consAddr, Power: 11}, Height: 1})
	b, _ := stake.GetBond(n.db.State(), addr(bad), stake.Validator)
	want := types.MYC(11) - types.MYC(11).MulFraction(types.FractionOne/20)
	if b.Amount != want || !b.Tombstoned || !b.Jailed {
		t.Fatalf("after double sign: %+v, want amount %s tombstoned", b, want)
	}
	var removed bool
	for _, u := range resp.ValidatorUpdates {
		if string(u.PubKeyBytes) == string(w.cons[1].Public().(ed25519.PublicKey)) && u.Power == 0 {
			removed = true
		}
	}
	if !removed {
		t.Fatalf("the double signer kept its power: %v", resp.ValidatorUpdates)
	}
	// Bonding again is refused.
	r := n.block([][]byte{w.sign(bad, bondMsg(stake.Validator, types.MYC(5)))}).TxResults[0]
	if r.Codespace != "stake" || r.Code != stake.ErrTombstoned.Code {
		t.Fatalf("tombstoned validator bonded again: %s", r.Log)
	}
}

// randomBlocks makes a history of transfers, bonds, unbonds, model
// registrations and transfers and failing transactions, with double-sign
// evidence now and then.
func randomBlocks(w *world, rng *rand.Rand, blocks int) ([][][]byte, [][]abci.Misbehavior) {
	all := append(append([]ed25519.PrivateKey{}, w.users...), w.vals...)
	var out [][][]byte
	var evs [][]abci.Misbehavior
	for b := 0; b < blocks; b++ {
		var txs [][]byte
		for i, n := 0, rng.IntN(20); i < n; i++ {
			k := all[rng.IntN(len(all))]
			switch rng.IntN(12) {
			case 0, 1, 2, 3, 4:
				to := all[rng.IntN(len(all))]
				txs = append(txs, w.sign(k, send(addr(to), types.Amount(rng.Uint64N(uint64(types.MYC(50)))+1))))
			case 5:
				p := stake.Purposes()[1+rng.IntN(3)]
				txs = append(txs, w.sign(k, bondMsg(p, types.Amount(rng.Uint64N(uint64(types.MYC(20)))+1))))
			case 6:
				p := stake.Purposes()[rng.IntN(4)]
				txs = append(txs, w.sign(k, unbondMsg(p, types.Amount(rng.Uint64N(uint64(types.MYC(10)))+1))))
			case 7:
				// Overdrawn: fails, pays the fee.
				txs = append(txs, w.sign(k, send(addr(all[0]), types.MYC(1_000_000))))
			case 8:
				txs = append(txs, []byte{byte(rng.IntN(256)), 1, 2, 3})
			case 9:
				txs = append(txs, w.sign(k, send(addr(all[1]), 1), unbondMsg(stake.Provider, 1)))
			case 10:
				// Registrations: a hash registered twice or an unknown
				// parent fails.
				var parent types.Hash
				if rng.IntN(2) == 0 {
					parent = types.SumHash([]byte(fmt.Sprint("model", rng.IntN(30))))
				}
				txs = append(txs, w.sign(k, registerMsg(fmt.Sprint("model", rng.IntN(30)), "m", parent)))
			case 11:
				to := addr(all[rng.IntN(len(all))])
				m := model.MsgTransferModel{Hash: types.SumHash([]byte(fmt.Sprint("model", rng.IntN(30)))), NewOwner: to}
				txs = append(txs, w.sign(k, tx.Msg{Kind: model.KindTransferModel, Body: m.Encode()}))
			}
		}
		out = append(out, txs)
		var ev []abci.Misbehavior
		if rng.IntN(15) == 0 {
			i := rng.IntN(len(w.cons))
			ev = append(ev, abci.Misbehavior{Type: abci.MISBEHAVIOR_TYPE_DUPLICATE_VOTE,
				Validator: abci.Validator{Address: stake.ConsensusAddress(w.cons[i].Public().(ed25519.PublicKey))}, Height: int64(b)})
		}
		evs = append(evs, ev)
	}
	return out, evs
}

// Two fresh applications fed the same blocks agree on every app hash, and
// the supply invariant holds after every block (Options.CheckInvariants
// fails a block that breaks it).
func TestDeterminismAndInvariants(t *testing.T) {
	w := newWorld(12, 4)
	gen := w.genesis(t)
	blocks, evs := randomBlocks(w, rand.New(rand.NewPCG(42, 42)), 300)
	a, b := newNode(t, gen), newNode(t, gen)
	var okTxs, failed int
	for i := range blocks {
		ra := a.block(blocks[i], evs[i]...)
		rb := b.block(blocks[i], evs[i]...)
		if string(ra.AppHash) != string(rb.AppHash) {
			t.Fatalf("height %d: app hashes differ: %x vs %x", i+1, ra.AppHash, rb.AppHash)
		}
		for j := range ra.TxResults {
			if ra.TxResults[j].Code != rb.TxResults[j].Code {
				t.Fatalf("height %d tx %d: results differ", i+1, j)
			}
			if ra.TxResults[j].Code == 0 {
				okTxs++
			} else {
				failed++
			}
		}
	}
	if okTxs < 1000 || failed < 100 {
		t.Fatalf("the history is too tame: %d succeeded, %d failed", okTxs, failed)
	}
	s := bank.GetSupply(a.db.State())
	if s.Minted == 0 || s.Burned == 0 {
		t.Fatalf("nothing minted or burned: %+v", s)
	}
	if ms, _ := a.app.RegistryModels(model.Filter{}); len(ms) == 0 {
		t.Fatal("no model was registered")
	}
}
