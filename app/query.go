package app

import (
	"context"
	"encoding/json"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/storage"
	"github.com/mycelnet/mycel/types"
)

// ProofOpType names mycel's Merkle proofs in ABCI query responses.
const ProofOpType = "mycel/tree"

// ProvenValue is a state key, its value (nil when absent) and a proof of
// that against the app hash of the height it was read at. That app hash is
// the one the header of the next block carries.
type ProvenValue struct {
	Key   []byte      `json:"key"`
	Value []byte      `json:"value"`
	Proof store.Proof `json:"proof"`
}

// Verify checks the value against an app hash.
func (p ProvenValue) Verify(appHash types.Hash) error {
	return store.VerifyProof(appHash, p.Key, p.Value, p.Proof)
}

// BondState is one of an account's bonds.
type BondState struct {
	Purpose stake.Purpose `json:"purpose"`
	stake.Bond
}

// AccountState is everything the chain holds about an account.
type AccountState struct {
	Address  types.Address `json:"address"`
	Balance  types.Amount  `json:"balance"`
	Sequence uint64        `json:"sequence"`
	// NextSequence counts transactions admitted to this node's mempool
	// too: the sequence to sign the next transaction with.
	NextSequence  uint64            `json:"next_sequence"`
	PubKey        []byte            `json:"pub_key,omitempty"`
	Bonds         []BondState       `json:"bonds"`
	Unbonding     []stake.Unbonding `json:"unbonding"`
	RewardsEarned types.Amount      `json:"rewards_earned"`
	Height        int64             `json:"height"`
	AppHash       types.Hash        `json:"app_hash"`
	// Proofs of the balance and account records, when asked for.
	Proofs []ProvenValue `json:"proofs,omitempty"`
}

// Account reads an account from the last committed state.
func (a *App) Account(addr types.Address, prove bool) (AccountState, error) {
	snap := a.db.Snapshot()
	defer snap.Close()
	st := snap.State()
	acc := auth.GetAccount(st, addr)
	out := AccountState{
		Address: addr, Balance: bank.Balance(st, addr), Sequence: acc.Sequence, PubKey: acc.PubKey,
		Bonds: []BondState{}, Unbonding: stake.UnbondingsOf(st, addr), RewardsEarned: mint.Earned(st, addr),
		Height: snap.Height(), AppHash: snap.Root(),
	}
	out.NextSequence = a.pendingSequence(addr)
	if out.NextSequence < out.Sequence {
		out.NextSequence = out.Sequence
	}
	if out.Unbonding == nil {
		out.Unbonding = []stake.Unbonding{}
	}
	for _, p := range stake.Purposes() {
		if b, ok := stake.GetBond(st, addr, p); ok {
			out.Bonds = append(out.Bonds, BondState{Purpose: p, Bond: b})
		}
	}
	if prove {
		for _, key := range [][]byte{bank.BalanceKey(addr), auth.AccountKey(addr)} {
			pv, err := proveKey(snap, key)
			if err != nil {
				return out, err
			}
			out.Proofs = append(out.Proofs, pv)
		}
	}
	return out, nil
}

// VerifyProofs checks the account's proofs against appHash (the app hash
// in the header of the block after s.Height) and that the proven values
// are the balance and sequence shown.
func (s AccountState) VerifyProofs(appHash types.Hash) error {
	if len(s.Proofs) != 2 {
		return fmt.Errorf("account %s: %d proofs, want the balance's and the account's", s.Address, len(s.Proofs))
	}
	bal, acc := s.Proofs[0], s.Proofs[1]
	if string(bal.Key) != string(bank.BalanceKey(s.Address)) || string(acc.Key) != string(auth.AccountKey(s.Address)) {
		return fmt.Errorf("account %s: proofs of the wrong keys", s.Address)
	}
	for _, p := range s.Proofs {
		if err := p.Verify(appHash); err != nil {
			return fmt.Errorf("proof of key %q: %w", p.Key, err)
		}
	}
	var proven types.Amount
	if bal.Value != nil {
		r := codec.NewReader(bal.Value)
		proven = types.Amount(r.Uvarint())
		if err := r.Done(); err != nil {
			return fmt.Errorf("proven balance: %w", err)
		}
	}
	if proven != s.Balance {
		return fmt.Errorf("account %s: the proven balance is %s, the node showed %s", s.Address, proven, s.Balance)
	}
	var seq uint64
	if acc.Value != nil {
		r := codec.NewReader(acc.Value)
		r.LenBytes(32)
		seq = r.Uvarint()
		if err := r.Done(); err != nil {
			return fmt.Errorf("proven account: %w", err)
		}
	}
	if seq != s.Sequence {
		return fmt.Errorf("account %s: the proven sequence is %d, the node showed %d", s.Address, seq, s.Sequence)
	}
	return nil
}

func proveKey(snap *storage.Snapshot, key []byte) (ProvenValue, error) {
	p, err := store.Prove(snap.Nodes(), key)
	if err != nil {
		return ProvenValue{}, fmt.Errorf("prove %q: %w", key, err)
	}
	return ProvenValue{Key: key, Value: snap.State().Get(key), Proof: p}, nil
}

// pendingSequence reads an account's sequence in the check state.
func (a *App) pendingSequence(addr types.Address) uint64 {
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	return auth.GetAccount(a.check, addr).Sequence
}

// Status is where the committed state stands.
type Status struct {
	ChainID       string     `json:"chain_id"`
	Height        int64      `json:"height"`
	AppHash       types.Hash `json:"app_hash"`
	BlockTimeUnix int64      `json:"block_time_unix_nano"`
}

// Status returns the committed height and app hash.
func (a *App) Status() Status {
	snap := a.db.Snapshot()
	defer snap.Close()
	lb := lastBlock(snap.State())
	return Status{ChainID: lb.ChainID, Height: snap.Height(), AppHash: snap.Root(), BlockTimeUnix: lb.TimeUnixNano}
}

// AppHashAt returns the app hash this node computed for a height.
func (a *App) AppHashAt(height int64) (types.Hash, bool) { return a.db.AppHashAt(height) }

// Params are the chain's rules, with message kinds by name.
type Params struct {
	Auth    AuthGenesis    `json:"auth"`
	Stake   stake.Params   `json:"stake"`
	Mint    mint.Params    `json:"mint"`
	Compute compute.Params `json:"compute"`
	Paych   paych.Params   `json:"paych"`
	Agent   agent.Params   `json:"agent"`
}

// Params returns the committed rules.
func (a *App) Params() Params {
	st := a.db.State()
	ap := auth.GetParams(st)
	g := AuthGenesis{MaxTxBytes: ap.MaxTxBytes, BaseFee: ap.BaseFee, FeePerByte: ap.FeePerByte,
		DefaultMsgFee: ap.DefaultMsgFee, MsgFees: map[string]types.Amount{}}
	for _, f := range ap.MsgFees {
		g.MsgFees[a.router.byKind[f.Kind].Name] = f.Fee
	}
	return Params{Auth: g, Stake: stake.GetParams(st), Mint: mint.GetParams(st), Compute: compute.GetParams(st),
		Paych: paych.GetParams(st), Agent: agentParams(st)}
}

// Supply returns the token supply's accounting and the module pools.
type Supply struct {
	bank.Supply
	Total        types.Amount `json:"total"`
	Bonded       types.Amount `json:"bonded"`
	ProviderPool types.Amount `json:"provider_pool"`
	NextReward   types.Amount `json:"next_block_reward"`
	Height       int64        `json:"height"`
}

// Supply reads the supply.
func (a *App) Supply() Supply {
	snap := a.db.Snapshot()
	defer snap.Close()
	st := snap.State()
	s := bank.GetSupply(st)
	return Supply{Supply: s, Total: s.Total(), Bonded: bank.Balance(st, stake.Pool),
		ProviderPool: bank.Balance(st, mint.ProviderPool), NextReward: mint.GetParams(st).Reward(snap.Height() + 1),
		Height: snap.Height()}
}

// Validators lists the active validator set.
func (a *App) Validators() []stake.ActiveValidator { return stake.ActiveValidators(a.db.State()) }

// TxView is a decoded transaction.
type TxView struct {
	Hash     types.Hash    `json:"hash"`
	ChainID  string        `json:"chain_id"`
	Signer   types.Address `json:"signer"`
	Sequence uint64        `json:"sequence"`
	Fee      types.Amount  `json:"fee"`
	Expiry   int64         `json:"expiry,omitempty"`
	Memo     string        `json:"memo,omitempty"`
	Msgs     []DecodedMsg  `json:"messages"`
}

// DescribeTx decodes a transaction for display.
func (a *App) DescribeTx(raw []byte) (TxView, error) {
	t, err := a.decode(raw)
	if err != nil {
		return TxView{}, err
	}
	v := TxView{Hash: tx.Hash(raw), ChainID: t.ChainID, Signer: t.Signer(), Sequence: t.Sequence, Fee: t.Fee,
		Expiry: t.Expiry, Memo: t.Memo, Msgs: []DecodedMsg{}}
	for _, m := range t.Msgs {
		rt := a.router.byKind[m.Kind]
		body, err := rt.Decode(m.Body)
		if err != nil {
			return v, err
		}
		j, err := json.Marshal(body)
		if err != nil {
			return v, err
		}
		v.Msgs = append(v.Msgs, DecodedMsg{Kind: rt.Name, Body: j})
	}
	return v, nil
}

// MsgKind returns the wire number of a message kind by name.
func MsgKind(name string) (uint16, bool) {
	for _, r := range Routes() {
		if r.Name == name {
			return r.Kind, true
		}
	}
	return 0, false
}

// Query answers CometBFT's abci_query: path "/store" reads a raw state key
// (with a proof when asked), path "/account" an account by address.
func (a *App) Query(_ context.Context, req *abci.QueryRequest) (*abci.QueryResponse, error) {
	switch req.Path {
	case "/store":
		snap := a.db.Snapshot()
		defer snap.Close()
		resp := &abci.QueryResponse{Key: req.Data, Value: snap.State().Get(req.Data), Height: snap.Height()}
		if req.Prove {
			pv, err := proveKey(snap, req.Data)
			if err != nil {
				return &abci.QueryResponse{Code: 1, Log: err.Error()}, nil
			}
			b, _ := json.Marshal(pv.Proof)
			resp.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ProofOpType, Key: req.Data, Data: b}}}
		}
		return resp, nil
	case "/account":
		addr, err := types.ParseAddress(string(req.Data))
		if err != nil {
			return &abci.QueryResponse{Code: 1, Log: err.Error()}, nil
		}
		st, err := a.Account(addr, req.Prove)
		if err != nil {
			return &abci.QueryResponse{Code: 1, Log: err.Error()}, nil
		}
		b, _ := json.Marshal(st)
		return &abci.QueryResponse{Key: req.Data, Value: b, Height: st.Height}, nil
	default:
		return &abci.QueryResponse{Code: 1, Log: fmt.Sprintf("unknown query path %q; use /store or /account", req.Path)}, nil
	}
}

// ProviderInfo is a provider with its stake.
type ProviderInfo struct {
	compute.Provider
	Stake  types.Amount `json:"stake"`
	Jailed bool         `json:"jailed"`
	// Available says whether the scheduler can give it work now.
	Available bool `json:"available"`
	// Reputation is the provider's score now, in parts per million.
	Reputation uint32 `json:"reputation"`
	// Banned says a proven fault banned the provider for good.
	Banned bool `json:"banned,omitempty"`
}

func providerInfo(r store.Reader, p *compute.Provider, height int64) ProviderInfo {
	b, _ := stake.GetBond(r, p.Address, stake.Provider)
	return ProviderInfo{Provider: *p, Stake: b.Amount, Jailed: b.Jailed, Available: p.Indexed != nil, Banned: b.Tombstoned,
		Reputation: compute.Reputation(p, b.Amount, height, compute.GetParams(r))}
}

// Provider reads one provider; ok is false if it never registered.
func (a *App) Provider(addr types.Address) (ProviderInfo, bool) {
	st := a.db.State()
	p := compute.GetProvider(st, addr)
	if p == nil {
		return ProviderInfo{}, false
	}
	return providerInfo(st, p, a.db.Height()), true
}

// Providers lists providers after a cursor.
func (a *App) Providers(after types.Address, limit int) []ProviderInfo {
	snap := a.db.Snapshot()
	defer snap.Close()
	st := snap.State()
	out := []ProviderInfo{}
	for _, p := range compute.Providers(st, after, limit) {
		out = append(out, providerInfo(st, p, a.db.Height()))
	}
	return out
}

// Group reads a job's verification group, with the claims put to its
// referees: the revealed results of its runs (or, for a task the
// protocol planted, the claim it made up; both look the same).
func (a *App) Group(id uint64) (*compute.Group, bool) {
	st := a.db.State()
	g := compute.GetGroup(st, id)
	if g == nil {
		return nil, false
	}
	if len(g.Claims) == 0 {
		for _, mid := range g.Members {
			if j := compute.GetJob(st, mid); j != nil && !j.Output.IsZero() { // set by a reveal
				g.Claims = append(g.Claims, compute.Claim{Provider: j.Provider, Output: j.Output, OutputSize: j.OutputSize, GasUsed: j.GasUsed, Failure: j.RunFailure})
			}
		}
	}
	return g, true
}

// Job reads one job.
func (a *App) Job(id uint64) (*compute.Job, bool) {
	j := compute.GetJob(a.db.State(), id)
	return j, j != nil
}

// Jobs lists jobs.
func (a *App) Jobs(f compute.JobFilter) []*compute.Job {
	snap := a.db.Snapshot()
	defer snap.Close()
	out := compute.Jobs(snap.State(), f)
	if out == nil {
		out = []*compute.Job{}
	}
	return out
}

// RevealedJobs lists the jobs waiting for their outputs to be attested.
func (a *App) RevealedJobs(limit int) []*compute.Job {
	return compute.RevealedJobs(a.db.State(), limit)
}

// ComputeParams returns the compute market's rules.
func (a *App) ComputeParams() compute.Params { return compute.GetParams(a.db.State()) }

// Height returns the last committed height.
func (a *App) Height() int64 { return a.db.Height() }

// ReferencedBlobs returns the blobs unfinished jobs refer to (programs,
// inputs, revealed outputs) and the files of registered models, which the
// blob store keeps.
func (a *App) ReferencedBlobs() map[types.Hash]bool {
	out := map[types.Hash]bool{}
	st := a.db.State()
	for _, j := range compute.OpenJobs(st) {
		out[j.Program], out[j.Input], out[j.Output] = true, true, true
	}
	model.Each(st, func(m *model.Model) bool {
		out[m.Hash] = true
		return true
	})
	agentCards(st, out)
	return out
}

// RegistryModel reads a registered model.
func (a *App) RegistryModel(h types.Hash) (*model.Model, bool) {
	m := model.Get(a.db.State(), h)
	return m, m != nil
}

// RegistryModels lists registered models.
func (a *App) RegistryModels(f model.Filter) ([]*model.Model, error) {
	snap := a.db.Snapshot()
	defer snap.Close()
	return model.List(snap.State(), f)
}
