package app

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/types"
)

// A provider whose whole balance is staked still acknowledges, commits
// and reveals: the job's escrow pays those fees, once each, and only the
// exact scheduled fee.
func TestEscrowPaysProviderFees(t *testing.T) {
	w := newWorld(2, 1)
	n := newNode(t, w.genesis(t))
	client, prov := w.users[0], w.users[1]
	reg := compute.MsgRegisterProvider{Profile: compute.Profile{Cores: 2, MemoryMB: 2048}, Price: 1, Tier: compute.TierConsumer, Slots: 1,
		Stake: types.MYC(999)} // all but the fee
	r := n.block([][]byte{w.sign(prov, tx.Msg{Kind: compute.KindRegisterProvider, Body: reg.Encode()})}).TxResults[0]
	if r.Code != 0 {
		t.Fatalf("register: %s", r.Log)
	}
	if bal := n.balance(addr(prov)); bal != 0 {
		t.Fatalf("provider kept %s liquid", bal)
	}
	sub := compute.MsgSubmitJob{Kind: compute.KindWasm, Program: types.SumHash([]byte("p")), MaxPrice: types.MYC(1), GasLimit: 1e6}
	if r := n.block([][]byte{w.sign(client, tx.Msg{Kind: compute.KindSubmitJob, Body: sub.Encode()})}).TxResults[0]; r.Code != 0 {
		t.Fatalf("submit: %s", r.Log)
	}
	n.block(nil) // scheduled at the end of the submitting block; now assigned
	if j := compute.GetJob(n.db.State(), 1); j.State != compute.Assigned || j.Provider != addr(prov) {
		t.Fatalf("job %+v", j)
	}

	// exactFee signs msg by the provider with exactly the scheduled fee.
	exactFee := func(m tx.Msg, extra types.Amount) []byte {
		pa := auth.GetParams(n.db.State())
		t1 := &tx.Tx{ChainID: testChain, Sequence: w.seq[addr(prov)], Msgs: []tx.Msg{m}}
		for i := 0; i < 3; i++ {
			t1.Sign(prov)
			need, _ := pa.RequiredFee([]uint16{m.Kind}, len(t1.Encode()))
			t1.Fee = need
		}
		t1.Fee += extra
		t1.Sign(prov)
		return t1.Encode()
	}
	ack := tx.Msg{Kind: compute.KindAckJob, Body: compute.MsgJob{ID: 1}.Encode()}
	// A fee above the schedule is not paid by the escrow.
	if r := n.block([][]byte{exactFee(ack, 1)}).TxResults[0]; r.Codespace != "compute" || r.Code != compute.ErrEscrowFee.Code {
		t.Fatalf("overpaid ack: %s/%d %s", r.Codespace, r.Code, r.Log)
	}
	before := compute.GetJob(n.db.State(), 1).Escrow
	if r := n.block([][]byte{exactFee(ack, 0)}).TxResults[0]; r.Code != 0 {
		t.Fatalf("ack: %s", r.Log)
	}
	w.seq[addr(prov)]++
	after := compute.GetJob(n.db.State(), 1).Escrow
	if after >= before {
		t.Fatalf("escrow did not pay the ack: %s -> %s", before, after)
	}
	// A second ack is not the escrow's to pay, and the provider has nothing.
	if r := n.block([][]byte{exactFee(ack, 0)}).TxResults[0]; r.Code != auth.ErrCannotPayFee.Code || r.Codespace != "auth" {
		t.Fatalf("second ack: %s/%d %s", r.Codespace, r.Code, r.Log)
	}
	salt := sha256.Sum256([]byte("salt"))
	commit := tx.Msg{Kind: compute.KindCommitResult, Body: compute.MsgCommitResult{ID: 1,
		Commitment: compute.Commitment(1, compute.EmptyHash, 500, "", salt)}.Encode()}
	if r := n.block([][]byte{exactFee(commit, 0)}).TxResults[0]; r.Code != 0 {
		t.Fatalf("commit: %s", r.Log)
	}
	w.seq[addr(prov)]++
	reveal := tx.Msg{Kind: compute.KindRevealResult, Body: compute.MsgRevealResult{ID: 1, Output: compute.EmptyHash, GasUsed: 500, Salt: salt}.Encode()}
	if r := n.block([][]byte{exactFee(reveal, 0)}).TxResults[0]; r.Code != 0 {
		t.Fatalf("reveal: %s", r.Log)
	}
	j := compute.GetJob(n.db.State(), 1)
	if j.State != compute.Succeeded || j.Paid != 1 {
		t.Fatalf("job after reveal %+v", j)
	}
	if bal := n.balance(addr(prov)); bal != 1 {
		t.Fatalf("provider balance %s, want the 1umyc payment", bal)
	}
}

// ProcessProposal refuses a block without the last height's vote
// extensions, or with one its validator did not sign, and accepts them
// signed; FinalizeBlock feeds them to the attestations.
func TestVoteExtensionsInProposals(t *testing.T) {
	w := newWorld(1, 1)
	n := newNode(t, w.genesis(t))
	n.block(nil)
	cons := w.cons[0]
	valAddr := stake.ConsensusAddress(cons.Public().(ed25519.PublicKey))
	ext := voteExtension{Available: []uint64{7}}
	info := func(sig []byte) abci.ExtendedCommitInfo {
		return abci.ExtendedCommitInfo{Round: 0, Votes: []abci.ExtendedVoteInfo{{
			Validator: abci.Validator{Address: valAddr, Power: 10}, VoteExtension: ext.encode(),
			ExtensionSignature: sig, BlockIdFlag: cmtproto.BlockIDFlagCommit}}}
	}
	signBytes := cmttypes.VoteExtensionSignBytes(testChain, &cmtproto.Vote{Height: 1, Round: 0, Extension: ext.encode()})
	good := ed25519.Sign(cons, signBytes)
	bad := ed25519.Sign(key("someone else"), signBytes)
	last := abci.CommitInfo{Round: 0, Votes: []abci.VoteInfo{{Validator: abci.Validator{Address: valAddr, Power: 10}, BlockIdFlag: cmtproto.BlockIDFlagCommit}}}

	process := func(txs [][]byte) abci.ProcessProposalStatus {
		r, err := n.app.ProcessProposal(context.Background(), &abci.ProcessProposalRequest{Height: 2, Txs: txs, ProposedLastCommit: last})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	goodTx, _ := extensionTx(info(good))
	badTx, _ := extensionTx(info(bad))
	if s := process(nil); s != abci.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatal("accepted a block without vote extensions")
	}
	if s := process([][]byte{badTx}); s != abci.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatal("accepted a forged vote extension")
	}
	if s := process([][]byte{goodTx}); s != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatal("refused signed vote extensions")
	}
	before := n.db.State().Get(keyBeacon)
	resp := n.block([][]byte{goodTx})
	if len(resp.TxResults) != 1 || resp.TxResults[0].Code != 0 {
		t.Fatalf("results %v", resp.TxResults)
	}
	if string(n.db.State().Get(keyBeacon)) == string(before) {
		t.Fatal("the beacon did not change")
	}
	// The proposer's side: PrepareProposal puts the extensions first.
	pp, err := n.app.PrepareProposal(context.Background(), &abci.PrepareProposalRequest{Height: 3, MaxTxBytes: 1 << 20, LocalLastCommit: info(good)})
	if err != nil || len(pp.Txs) != 1 || !isExtensionTx(pp.Txs[0]) {
		t.Fatalf("prepare: %v %d txs", err, len(pp.Txs))
	}
}
