package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Vote extensions carry what only validators' nodes can see: which
// revealed job outputs their blob stores hold, and 32 random bytes for
// the randomness beacon. The proposer of the next block puts the
// extensions it collected in front of the block's transactions, as one
// pseudo-transaction that starts with extTxPrefix (no real transaction
// can: its first byte would be a chain id length over the limit), and
// validators check the signatures in ProcessProposal.
const extTxPrefix = "mycel/vote-extensions/v1\x00"

// maxAttested bounds the job ids one extension may carry.
const maxAttested = 512

var (
	keyVEHeight = []byte("app/ve_height")
	keyBeacon   = []byte("app/beacon")
)

// voteExtension is what a validator adds to its precommit.
type voteExtension struct {
	Random    [32]byte
	Available []uint64 // strictly increasing job ids
}

func (v voteExtension) encode() []byte {
	w := codec.NewWriter(40 + 4*len(v.Available))
	w.Byte(1)
	w.Fixed(v.Random[:])
	w.Uvarint(uint64(len(v.Available)))
	for _, id := range v.Available {
		w.Uvarint(id)
	}
	return w.Bytes()
}

func decodeVoteExtension(b []byte) (voteExtension, error) {
	var v voteExtension
	r := codec.NewReader(b)
	if r.Byte() != 1 {
		return v, fmt.Errorf("vote extension version")
	}
	r.FixedInto(v.Random[:])
	n := r.Count(maxAttested)
	for i := 0; i < n; i++ {
		id := r.Uvarint()
		if i > 0 && id <= v.Available[i-1] {
			return v, fmt.Errorf("vote extension job ids not increasing")
		}
		v.Available = append(v.Available, id)
	}
	if err := r.Done(); err != nil {
		return v, err
	}
	return v, nil
}

// veHeight returns the first height whose precommits carry extensions (0:
// never).
func veHeight(r store.Reader) int64 {
	if b := r.Get(keyVEHeight); len(b) == 8 {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// extensionsFor reports whether the block at height h carries the
// extensions of height h-1.
func extensionsFor(r store.Reader, h int64) bool {
	e := veHeight(r)
	return e > 0 && h-1 >= e
}

// ExtendVote adds this node's availability attestations and random bytes
// to its precommit.
func (a *App) ExtendVote(_ context.Context, req *abci.ExtendVoteRequest) (*abci.ExtendVoteResponse, error) {
	var v voteExtension
	if _, err := rand.Read(v.Random[:]); err != nil {
		return nil, fmt.Errorf("vote extension randomness: %w", err)
	}
	if a.opts.Availability != nil {
		ids := a.opts.Availability()
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for i, id := range ids {
			if len(v.Available) == maxAttested {
				break
			}
			if i == 0 || id != ids[i-1] {
				v.Available = append(v.Available, id)
			}
		}
	}
	return &abci.ExtendVoteResponse{VoteExtension: v.encode()}, nil
}

// VerifyVoteExtension accepts well-formed extensions.
func (a *App) VerifyVoteExtension(_ context.Context, req *abci.VerifyVoteExtensionRequest) (*abci.VerifyVoteExtensionResponse, error) {
	if _, err := decodeVoteExtension(req.VoteExtension); err != nil {
		return &abci.VerifyVoteExtensionResponse{Status: abci.VERIFY_VOTE_EXTENSION_STATUS_REJECT}, nil
	}
	return &abci.VerifyVoteExtensionResponse{Status: abci.VERIFY_VOTE_EXTENSION_STATUS_ACCEPT}, nil
}

func extensionTx(info abci.ExtendedCommitInfo) ([]byte, error) {
	b, err := info.Marshal()
	if err != nil {
		return nil, err
	}
	return append([]byte(extTxPrefix), b...), nil
}

func isExtensionTx(b []byte) bool { return bytes.HasPrefix(b, []byte(extTxPrefix)) }

func decodeExtensionTx(b []byte) (abci.ExtendedCommitInfo, error) {
	var info abci.ExtendedCommitInfo
	if !isExtensionTx(b) {
		return info, fmt.Errorf("not a vote extension transaction")
	}
	if err := info.Unmarshal(b[len(extTxPrefix):]); err != nil {
		return info, fmt.Errorf("vote extensions: %w", err)
	}
	return info, nil
}

// checkExtensions verifies injected extensions against the last commit
// CometBFT proposes: the same validators and powers, every extension
// signed by its validator's consensus key, and more than two thirds of
// the power behind them.
func checkExtensions(r store.Reader, chainID string, height int64, info abci.ExtendedCommitInfo, last abci.CommitInfo) error {
	if len(info.Votes) != len(last.Votes) || info.Round != last.Round {
		return fmt.Errorf("%d extended votes in round %d, the last commit has %d in round %d", len(info.Votes), info.Round, len(last.Votes), last.Round)
	}
	var total, signed int64
	for i, v := range info.Votes {
		lv := last.Votes[i]
		if !bytes.Equal(v.Validator.Address, lv.Validator.Address) || v.Validator.Power != lv.Validator.Power || v.BlockIdFlag != lv.BlockIdFlag {
			return fmt.Errorf("vote %d does not match the last commit", i)
		}
		total += v.Validator.Power
		if v.BlockIdFlag != cmtproto.BlockIDFlagCommit {
			continue
		}
		pub, err := consensusKey(r, v.Validator.Address)
		if err != nil {
			return err
		}
		vote := &cmtproto.Vote{Height: height - 1, Round: info.Round, Extension: v.VoteExtension}
		if !types.VerifySignature(pub, cmttypes.VoteExtensionSignBytes(chainID, vote), v.ExtensionSignature) {
			return fmt.Errorf("vote extension of validator %X is not signed by it", v.Validator.Address)
		}
		if _, err := decodeVoteExtension(v.VoteExtension); err != nil {
			return fmt.Errorf("vote extension of validator %X: %w", v.Validator.Address, err)
		}
		signed += v.Validator.Power
	}
	if signed*3 <= total*2 {
		return fmt.Errorf("extensions carry %d of %d voting power, need more than two thirds", signed, total)
	}
	return nil
}

func consensusKey(r store.Reader, consAddr []byte) ([]byte, error) {
	op, ok := stake.OperatorOf(r, consAddr)
	if !ok {
		return nil, fmt.Errorf("no operator for consensus address %X", consAddr)
	}
	b, ok := stake.GetBond(r, op, stake.Validator)
	if !ok || b.ConsensusKey == nil {
		return nil, fmt.Errorf("operator %s has no consensus key", op)
	}
	return b.ConsensusKey, nil
}

// applyExtensions hands the attestations to the compute module and mixes
// the random bytes into the beacon.
func (a *App) applyExtensions(ctx exec.Ctx, info abci.ExtendedCommitInfo) error {
	var atts []compute.Attestation
	var total int64
	type rnd struct {
		addr []byte
		r    [32]byte
	}
	var rnds []rnd
	for _, v := range info.Votes {
		total += v.Validator.Power
		if v.BlockIdFlag != cmtproto.BlockIDFlagCommit {
			continue
		}
		ext, err := decodeVoteExtension(v.VoteExtension)
		if err != nil {
			continue // ProcessProposal refused such blocks; a replay sees what was decided
		}
		atts = append(atts, compute.Attestation{Power: v.Validator.Power, Jobs: ext.Available})
		rnds = append(rnds, rnd{v.Validator.Address, ext.Random})
	}
	sort.Slice(rnds, func(i, j int) bool { return bytes.Compare(rnds[i].addr, rnds[j].addr) < 0 })
	h := sha256.New()
	h.Write(ctx.KV.Get(keyBeacon))
	for _, r := range rnds {
		h.Write(r.addr)
		h.Write(r.r[:])
	}
	ctx.KV.Set(keyBeacon, h.Sum(nil))
	ctx.Emit(types.NewEvent("vote_extensions", "validators", types.U64(uint64(len(rnds))), "total_power", types.U64(uint64(total))))
	return a.compute.ApplyAttestations(ctx, atts, total)
}
