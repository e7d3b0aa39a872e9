package app

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	gogotypes "github.com/cosmos/gogoproto/types"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

func registerMsg(label, name string, parent types.Hash) tx.Msg {
	m := model.MsgRegisterModel{Hash: types.SumHash([]byte(label)), Name: name, Format: model.FormatGGUF, Size: 1 + uint64(len(label)),
		License: "MIT", Parent: parent}
	return tx.Msg{Kind: model.KindRegisterModel, Body: m.Encode()}
}

// withModels adds genesis models to a genesis.
func withModels(t *testing.T, gen []byte, ms ...model.Model) []byte {
	var g Genesis
	if err := json.Unmarshal(gen, &g); err != nil {
		t.Fatal(err)
	}
	g.Model.Models = append(g.Model.Models, ms...)
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A model registered at genesis by an owner without an account, then one
// derived from it by a transaction: both are readable, a second
// registration of the same hash is refused by CheckTx and, in a block,
// fails with the registry's code after paying its fee; the owner's
// update and transfer go through; the blob store keeps the models' files.
func TestModelRegistry(t *testing.T) {
	w := newWorld(2, 1)
	foundation := addr(key("foundation")) // no account
	root := model.Model{Hash: types.SumHash([]byte("mycel's own model")), Owner: foundation, Name: "mycel/kjv-small",
		Format: model.FormatGGUF, Size: 123456, License: "MIT", Description: "trained on the King James Bible"}
	n := newNode(t, withModels(t, w.genesis(t), root))
	if got, ok := n.app.RegistryModel(root.Hash); !ok || *got != root {
		t.Fatalf("genesis model %+v, want %+v", got, root)
	}

	alice, bob := w.users[0], w.users[1]
	child := registerMsg("child", "kjv-tuned", root.Hash)
	before := n.balance(addr(alice))
	r := n.block([][]byte{w.sign(alice, child)}).TxResults[0]
	if r.Code != 0 {
		t.Fatalf("register: %s", r.Log)
	}
	if paid := before - n.balance(addr(alice)); paid != types.MYC(1) {
		t.Fatalf("paid %s, want the 1myc fee", paid)
	}
	var ev abci.Event
	for _, e := range r.Events {
		if e.Type == "model_registered" {
			ev = e
		}
	}
	if len(ev.Attributes) == 0 || ev.Attributes[0].Value != types.SumHash([]byte("child")).String() {
		t.Fatalf("events %v", r.Events)
	}
	m, ok := n.app.RegistryModel(types.SumHash([]byte("child")))
	if !ok || m.Owner != addr(alice) || m.Parent != root.Hash || m.Registered != 1 {
		t.Fatalf("registered %+v", m)
	}

	// The same hash again: CheckTx refuses it, and in a block it fails
	// with the registry's code, its fee paid.
	dup := w.sign(bob, registerMsg("child", "mine", types.Hash{}))
	cr, err := n.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: dup})
	if err != nil || cr.Code != model.ErrModelExists.Code || cr.Codespace != model.Codespace {
		t.Fatalf("CheckTx of a duplicate: %v %s/%d %s", err, cr.Codespace, cr.Code, cr.Log)
	}
	r = n.block([][]byte{dup}).TxResults[0]
	if r.Code != model.ErrModelExists.Code || r.Codespace != model.Codespace || !strings.Contains(r.Log, "already registered") {
		t.Fatalf("duplicate in a block: %s/%d %s", r.Codespace, r.Code, r.Log)
	}
	// An update by someone else fails; the owner's passes, then it
	// transfers to bob.
	up := tx.Msg{Kind: model.KindUpdateModel, Body: model.MsgUpdateModel{Hash: m.Hash, Name: "kjv-tuned-v2", License: "MIT"}.Encode()}
	if r := n.block([][]byte{w.sign(bob, up)}).TxResults[0]; r.Code != model.ErrNotOwner.Code {
		t.Fatalf("update by bob: %d %s", r.Code, r.Log)
	}
	xfer := tx.Msg{Kind: model.KindTransferModel, Body: model.MsgTransferModel{Hash: m.Hash, NewOwner: addr(bob)}.Encode()}
	for _, r := range n.block([][]byte{w.sign(alice, up), w.sign(alice, xfer)}).TxResults {
		if r.Code != 0 {
			t.Fatalf("update, transfer: %s", r.Log)
		}
	}
	m, _ = n.app.RegistryModel(m.Hash)
	if m.Owner != addr(bob) || m.Name != "kjv-tuned-v2" || m.Registered != 1 {
		t.Fatalf("after update and transfer: %+v", m)
	}
	ms, err := n.app.RegistryModels(model.Filter{Owner: &foundation})
	if err != nil || len(ms) != 1 || ms[0].Hash != root.Hash {
		t.Fatalf("the foundation's models: %v %v", ms, err)
	}
	ms, _ = n.app.RegistryModels(model.Filter{})
	if len(ms) != 2 {
		t.Fatalf("all models: %v", ms)
	}
	refs := n.app.ReferencedBlobs()
	if !refs[root.Hash] || !refs[m.Hash] {
		t.Fatal("the blob store would collect registered models' files")
	}
	// The decoded transaction shows the message by name.
	v, err := n.app.DescribeTx(w.sign(alice, child))
	if err != nil || v.Msgs[0].Kind != "model/register" || !strings.Contains(string(v.Msgs[0].Body), `"format":"gguf"`) {
		t.Fatalf("describe: %v %+v", err, v)
	}
	// The fee schedule prices the registry's messages.
	p := auth.GetParams(n.db.State())
	need, err := p.RequiredFee([]uint16{model.KindRegisterModel}, 0)
	if err != nil || need != 10000 {
		t.Fatalf("register fee %s %v", need, err)
	}
}

// A genesis whose model breaks a registration rule is refused.
func TestModelGenesisRefused(t *testing.T) {
	w := newWorld(1, 1)
	bad := model.Model{Hash: types.SumHash([]byte("x")), Owner: addr(key("o")), Name: "x", Format: model.FormatGGUF, Size: 1,
		Parent: types.SumHash([]byte("missing"))}
	db, err := storage.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = New(db, Options{}).InitChain(context.Background(), &abci.InitChainRequest{
		ChainId: testChain, Time: genesisTime, InitialHeight: 1, AppStateBytes: withModels(t, w.genesis(t), bad),
		ConsensusParams: &cmtproto.ConsensusParams{Feature: &cmtproto.FeatureParams{VoteExtensionsEnableHeight: &gogotypes.Int64Value{Value: 1}}}})
	if err == nil || !strings.Contains(err.Error(), "parent model not registered") {
		t.Fatalf("genesis with an orphan: %v", err)
	}
}

// Two applications fed the same history of registrations, updates and
// transfers (many of them failing) agree on every app hash, with every
// invariant, the registry's included, checked after every block.
func TestModelDeterminism(t *testing.T) {
	w := newWorld(6, 2)
	gen := w.genesis(t)
	rng := rand.New(rand.NewPCG(7, 7))
	a, b := newNode(t, gen), newNode(t, gen)
	labels := func() string { return fmt.Sprint("m", rng.IntN(60)) }
	keys := map[types.Address]ed25519.PrivateKey{}
	for _, u := range w.users {
		keys[addr(u)] = u
	}
	var ok, failed int
	for blk := 0; blk < 80; blk++ {
		var txs [][]byte
		for i, k := 0, rng.IntN(8); i < k; i++ {
			u := w.users[rng.IntN(len(w.users))]
			h := types.SumHash([]byte(labels()))
			// Half the updates and transfers come from the owner (as of
			// the last block).
			if m, ok := a.app.RegistryModel(h); ok && rng.IntN(2) == 0 && keys[m.Owner] != nil {
				u = keys[m.Owner]
			}
			switch rng.IntN(4) {
			case 0, 1:
				var parent types.Hash
				if rng.IntN(3) == 0 {
					parent = types.SumHash([]byte(labels()))
				}
				txs = append(txs, w.sign(u, registerMsg(labels(), fmt.Sprint("name", rng.IntN(5)), parent)))
			case 2:
				up := model.MsgUpdateModel{Hash: h, Name: fmt.Sprint("name", rng.IntN(5))}
				txs = append(txs, w.sign(u, tx.Msg{Kind: model.KindUpdateModel, Body: up.Encode()}))
			case 3:
				to := addr(w.users[rng.IntN(len(w.users))])
				txs = append(txs, w.sign(u, tx.Msg{Kind: model.KindTransferModel, Body: model.MsgTransferModel{Hash: h, NewOwner: to}.Encode()}))
			}
		}
		ra, rb := a.block(txs), b.block(txs)
		if string(ra.AppHash) != string(rb.AppHash) {
			t.Fatalf("block %d: app hashes differ", blk+1)
		}
		for _, r := range ra.TxResults {
			if r.Code == 0 {
				ok++
			} else {
				failed++
			}
		}
	}
	t.Logf("%d transactions succeeded, %d failed", ok, failed)
	if ok < 50 || failed < 50 {
		t.Fatalf("the history is too tame: %d succeeded, %d failed", ok, failed)
	}
	ms, _ := a.app.RegistryModels(model.Filter{Limit: 1000})
	if len(ms) < 20 {
		t.Fatalf("only %d models registered", len(ms))
	}
}
