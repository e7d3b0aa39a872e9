package app

import (
	"fmt"
	"sort"

	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/auth"
	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/mint"
	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/stake"
	"github.com/mycelnet/mycel/types"
)

// Genesis is the application's genesis state: the app_state of CometBFT's
// genesis.json.
type Genesis struct {
	Auth    AuthGenesis    `json:"auth"`
	Bank    bank.Genesis   `json:"bank"`
	Stake   stake.Genesis  `json:"stake"`
	Mint    mint.Params    `json:"mint"`
	Compute compute.Params `json:"compute"`
	// Model lists the models registered at genesis.
	Model model.Genesis `json:"model"`
	// Paych is the payment channels' rules; left out, the defaults.
	Paych paych.Params `json:"paych"`
	// Agent is the agent registry's rules; left out, the defaults.
	Agent agent.Genesis `json:"agent"`
}

// AuthGenesis is the fee schedule, with message kinds by name.
type AuthGenesis struct {
	MaxTxBytes    uint64                  `json:"max_tx_bytes"`
	BaseFee       types.Amount            `json:"base_fee"`
	FeePerByte    types.Amount            `json:"fee_per_byte"`
	DefaultMsgFee types.Amount            `json:"default_msg_fee"`
	MsgFees       map[string]types.Amount `json:"msg_fees"`
}

// DefaultAuth is the fee schedule new networks start with: a transfer of
// about 150 bytes costs 0.0025 MYC.
func DefaultAuth() AuthGenesis {
	return AuthGenesis{
		MaxTxBytes:    32 << 10,
		FeePerByte:    10,
		DefaultMsgFee: 1000,
		MsgFees: map[string]types.Amount{
			"bank/send":    1000,
			"stake/bond":   5000,
			"stake/unbond": 5000,
			"stake/unjail": 5000,
			// Submitting pays for the scheduler's work in end block.
			"compute/submit_job":          20000,
			"compute/register_provider":   5000,
			"compute/cancel_job":          1000,
			"compute/deregister_provider": 1000,
			"compute/renew_lease":         1000,
			"compute/ack_job":             1000,
			"compute/commit_result":       1000,
			"compute/reveal_result":       1000,
			"compute/challenge":           5000,
			"compute/dispute":             5000,
			"compute/ballot":              1000,
			"compute/ballot_reveal":       1000,
			// A registration is kept for good: three state entries.
			"model/register": 10000,
			"model/update":   2000,
			"model/transfer": 2000,
			// An open writes three entries; a redeem checks a signature
			// and may write a lane.
			"paych/open":    5000,
			"paych/topup":   1000,
			"paych/redeem":  2000,
			"paych/settle":  1000,
			"paych/collect": 1000,
			// A registration keeps a record and four index entries;
			// the other agent messages touch a few entries each.
			"agent/register":          10000,
			"agent/update":            2000,
			"agent/renew":             1000,
			"agent/deregister":        1000,
			"agent/transfer":          2000,
			"agent/set_key":           1000,
			"agent/list_for_sale":     2000,
			"agent/delist":            1000,
			"agent/buy":               2000,
			"agent/create_collective": 5000,
			"agent/propose_split":     2000,
			"agent/accept_split":      1000,
			"agent/leave_collective":  1000,
			"agent/pay_collective":    2000,
			"agent/rate":              1000,
			"agent/report":            5000,
			"agent/withdraw_report":   1000,
			"agent/report_ballot":     1000,
			"agent/report_reveal":     1000,
		},
	}
}

// DefaultMint is the emission schedule new networks start with: 1 MYC a
// block, halving every 31,536,000 blocks (a year of one-second blocks),
// half of it to the provider reward pool. It mints about 63 million MYC in
// all.
func DefaultMint() mint.Params {
	return mint.Params{InitialReward: types.MYC(1), HalvingBlocks: 31_536_000, ProviderShare: types.FractionOne / 2}
}

// DefaultStake is the stake rules new networks start with; the unbonding
// period must be set to at least the evidence max age.
func DefaultStake(unbondingBlocks, unbondingSeconds int64) stake.Params {
	return stake.Params{
		UnbondingBlocks:  unbondingBlocks,
		UnbondingSeconds: unbondingSeconds,
		MinValidatorBond: types.MYC(1),
		PowerReduction:   types.MYC(1),
		MaxValidators:    100,
		JailBlocks:       100,
		DoubleSignSlash:  types.FractionOne / 20,
		ReporterReward:   types.FractionOne / 10,
	}
}

// authParams turns the named fee schedule into the state's form.
func (r *router) authParams(g AuthGenesis) (auth.Params, error) {
	p := auth.Params{MaxTxBytes: g.MaxTxBytes, BaseFee: g.BaseFee, FeePerByte: g.FeePerByte, DefaultMsgFee: g.DefaultMsgFee}
	for _, name := range types.SortedKeys(g.MsgFees) {
		rt, ok := r.byName[name]
		if !ok {
			return p, fmt.Errorf("fee schedule names unknown message kind %q (known: %v)", name, r.names())
		}
		p.MsgFees = append(p.MsgFees, auth.KindFee{Kind: rt.Kind, Fee: g.MsgFees[name]})
	}
	sort.Slice(p.MsgFees, func(i, j int) bool { return p.MsgFees[i].Kind < p.MsgFees[j].Kind })
	return p, p.Validate()
}

// initGenesis writes the genesis state and returns the first validators.
func (a *App) initGenesis(ctx exec.Ctx, g Genesis) ([]stake.ValidatorUpdate, error) {
	ap, err := a.router.authParams(g.Auth)
	if err != nil {
		return nil, fmt.Errorf("auth genesis: %w", err)
	}
	if err := auth.SetParams(ctx.KV, ap); err != nil {
		return nil, fmt.Errorf("auth genesis: %w", err)
	}
	if err := bank.InitGenesis(ctx.KV, g.Bank); err != nil {
		return nil, err
	}
	if err := mint.InitGenesis(ctx.KV, g.Mint); err != nil {
		return nil, err
	}
	if err := compute.InitGenesis(ctx.KV, g.Compute); err != nil {
		return nil, err
	}
	if err := model.InitGenesis(ctx.KV, g.Model); err != nil {
		return nil, err
	}
	if g.Paych == (paych.Params{}) {
		// A genesis written before payment channels existed.
		g.Paych = paych.DefaultParams()
	}
	if err := paych.InitGenesis(ctx.KV, g.Paych); err != nil {
		return nil, err
	}
	if g.Agent.Params == (agent.Params{}) {
		// A genesis written before the agent registry existed.
		g.Agent.Params = agent.DefaultParams()
	}
	if err := agent.InitGenesis(ctx.KV, g.Agent); err != nil {
		return nil, err
	}
	return stake.InitGenesis(ctx, g.Stake)
}

// GenesisAccount is a funded account in a genesis being built.
type GenesisAccount struct {
	Address types.Address
	Amount  types.Amount
}

// GenesisValidator is a validator in a genesis being built; its bond is
// taken on top of its account's balance.
type GenesisValidator struct {
	Operator     types.Address
	ConsensusKey []byte
	Bond         types.Amount
}

// BuildGenesis assembles the app state of a new network from funded
// accounts and validators, with the default fee and emission schedules.
func BuildGenesis(accounts []GenesisAccount, validators []GenesisValidator, stakeParams stake.Params) (Genesis, error) {
	g := Genesis{Auth: DefaultAuth(), Mint: DefaultMint(), Stake: stake.Genesis{Params: stakeParams}, Compute: compute.DefaultParams(),
		Paych: paych.DefaultParams(), Agent: agent.Genesis{Params: agent.DefaultParams()}}
	if stakeParams.UnbondingBlocks > 0 {
		// An agent's deposit unbonds like a stake: the evidence window.
		g.Agent.Params.UnbondingBlocks = stakeParams.UnbondingBlocks
	}
	var pool types.Amount
	for _, v := range validators {
		g.Stake.Validators = append(g.Stake.Validators, stake.GenesisValidator{Operator: v.Operator, ConsensusKey: v.ConsensusKey, Amount: v.Bond})
		var err error
		if pool, err = pool.Add(v.Bond); err != nil {
			return g, fmt.Errorf("validator bonds overflow")
		}
	}
	for _, acc := range accounts {
		g.Bank.Balances = append(g.Bank.Balances, bank.GenesisBalance{Address: acc.Address, Amount: acc.Amount})
	}
	if pool > 0 {
		g.Bank.Balances = append(g.Bank.Balances, bank.GenesisBalance{Address: stake.Pool, Amount: pool})
	}
	return g, nil
}

// RequiredFee returns the minimum fee, under this schedule, of a
// transaction of txLen bytes carrying messages of the given kinds.
func (g AuthGenesis) RequiredFee(kinds []uint16, txLen int) (types.Amount, error) {
	p, err := newRouter(Routes()).authParams(g)
	if err != nil {
		return 0, err
	}
	return p.RequiredFee(kinds, txLen)
}
