package app

import (
	"encoding/json"
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

// Handler executes one message for its signer.
type Handler func(ctx exec.Ctx, signer types.Address, body []byte) error

// Route is one message kind: its number on the wire, its stable name (used
// in the fee schedule and in JSON), the handler, and a decoder to show it.
type Route struct {
	Kind   uint16
	Name   string
	Handle Handler
	Decode func(body []byte) (any, error)
}

// moduleAccounts may not receive transfers: their balances must equal what
// their modules account for.
func moduleAccounts() map[types.Address]bool {
	return map[types.Address]bool{
		auth.FeeCollector: true,
		stake.Pool:        true,
		mint.ProviderPool: true,
		mint.Distribution: true,
		paych.Escrow:      true,
		compute.Escrow:    true,
		agent.Deposits:    true,
	}
}

// Routes lists every message kind the chain accepts. Adding a module means
// adding its messages here; nothing registers itself.
func Routes() []Route {
	ck := computeKeeper()
	pk := paychKeeper()
	ak := agentKeeper()
	return []Route{
		{bank.KindSend, "bank/send", bank.SendHandler(moduleAccounts()), decodeAs(bank.DecodeMsgSend, sendJSON)},
		{stake.KindBond, "stake/bond", stake.HandleBond, decodeAs(stake.DecodeMsgBond, bondJSON)},
		{stake.KindUnbond, "stake/unbond", stake.HandleUnbond, decodeAs(stake.DecodeMsgUnbond, unbondJSON)},
		{stake.KindUnjail, "stake/unjail", stake.HandleUnjail, decodeAs(stake.DecodeMsgUnjail, unjailJSON)},
		{compute.KindRegisterProvider, "compute/register_provider", ck.HandleRegisterProvider, decodeAs(compute.DecodeMsgRegisterProvider, asIs[compute.MsgRegisterProvider])},
		{compute.KindDeregisterProvider, "compute/deregister_provider", ck.HandleDeregisterProvider, decodeEmpty},
		{compute.KindRenewLease, "compute/renew_lease", ck.HandleRenewLease, decodeEmpty},
		{compute.KindSubmitJob, "compute/submit_job", ck.HandleSubmitJob, decodeAs(compute.DecodeMsgSubmitJob, asIs[compute.MsgSubmitJob])},
		{compute.KindCancelJob, "compute/cancel_job", ck.HandleCancelJob, decodeAs(compute.DecodeMsgJob, asIs[compute.MsgJob])},
		{compute.KindAckJob, "compute/ack_job", ck.HandleAckJob, decodeAs(compute.DecodeMsgJob, asIs[compute.MsgJob])},
		{compute.KindCommitResult, "compute/commit_result", ck.HandleCommitResult, decodeAs(compute.DecodeMsgCommitResult, asIs[compute.MsgCommitResult])},
		{compute.KindRevealResult, "compute/reveal_result", ck.HandleRevealResult, decodeAs(compute.DecodeMsgRevealResult, asIs[compute.MsgRevealResult])},
		{compute.KindChallenge, "compute/challenge", ck.HandleChallenge, decodeAs(compute.DecodeMsgChallenge, asIs[compute.MsgChallenge])},
		{compute.KindDispute, "compute/dispute", ck.HandleDispute, decodeAs(compute.DecodeMsgDispute, asIs[compute.MsgDispute])},
		{compute.KindBallot, "compute/ballot", ck.HandleBallot, decodeAs(compute.DecodeMsgBallot, asIs[compute.MsgBallot])},
		{compute.KindBallotReveal, "compute/ballot_reveal", ck.HandleBallotReveal, decodeAs(compute.DecodeMsgBallotReveal, asIs[compute.MsgBallotReveal])},
		{model.KindRegisterModel, "model/register", model.HandleRegisterModel, decodeAs(model.DecodeMsgRegisterModel, asIs[model.MsgRegisterModel])},
		{model.KindUpdateModel, "model/update", model.HandleUpdateModel, decodeAs(model.DecodeMsgUpdateModel, asIs[model.MsgUpdateModel])},
		{model.KindTransferModel, "model/transfer", model.HandleTransferModel, decodeAs(model.DecodeMsgTransferModel, asIs[model.MsgTransferModel])},
		{paych.KindOpen, "paych/open", pk.HandleOpen, decodeAs(paych.DecodeMsgOpen, asIs[paych.MsgOpen])},
		{paych.KindTopUp, "paych/topup", pk.HandleTopUp, decodeAs(paych.DecodeMsgTopUp, asIs[paych.MsgTopUp])},
		{paych.KindRedeem, "paych/redeem", pk.HandleRedeem, decodeAs(paych.DecodeMsgRedeem, asIs[paych.MsgRedeem])},
		{paych.KindSettle, "paych/settle", pk.HandleSettle, decodeAs(paych.DecodeMsgChannel, asIs[paych.MsgChannel])},
		{paych.KindCollect, "paych/collect", pk.HandleCollect, decodeAs(paych.DecodeMsgChannel, asIs[paych.MsgChannel])},
		{agent.KindRegister, "agent/register", ak.HandleRegister, decodeAs(agent.DecodeMsgRegister, asIs[agent.MsgRegister])},
		{agent.KindUpdate, "agent/update", ak.HandleUpdate, decodeAs(agent.DecodeMsgUpdate, asIs[agent.MsgUpdate])},
		{agent.KindRenew, "agent/renew", ak.HandleRenew, decodeAs(agent.DecodeMsgRenew, asIs[agent.MsgRenew])},
		{agent.KindDeregister, "agent/deregister", ak.HandleDeregister, decodeAs(agent.DecodeMsgAgent, asIs[agent.MsgAgent])},
		{agent.KindTransfer, "agent/transfer", ak.HandleTransfer, decodeAs(agent.DecodeMsgTransfer, asIs[agent.MsgTransfer])},
		{agent.KindSetKey, "agent/set_key", ak.HandleSetKey, decodeAs(agent.DecodeMsgSetKey, asIs[agent.MsgSetKey])},
		{agent.KindListForSale, "agent/list_for_sale", ak.HandleListForSale, decodeAs(agent.DecodeMsgListForSale, asIs[agent.MsgListForSale])},
		{agent.KindDelist, "agent/delist", ak.HandleDelist, decodeAs(agent.DecodeMsgAgent, asIs[agent.MsgAgent])},
		{agent.KindBuy, "agent/buy", ak.HandleBuy, decodeAs(agent.DecodeMsgBuy, asIs[agent.MsgBuy])},
		{agent.KindCreateCollective, "agent/create_collective", ak.HandleCreateCollective, decodeAs(agent.DecodeMsgCreateCollective, asIs[agent.MsgCreateCollective])},
		{agent.KindProposeSplit, "agent/propose_split", ak.HandleProposeSplit, decodeAs(agent.DecodeMsgProposeSplit, asIs[agent.MsgProposeSplit])},
		{agent.KindAcceptSplit, "agent/accept_split", ak.HandleAcceptSplit, decodeAs(agent.DecodeMsgAcceptSplit, asIs[agent.MsgAcceptSplit])},
		{agent.KindLeaveCollective, "agent/leave_collective", ak.HandleLeaveCollective, decodeAs(agent.DecodeMsgLeaveCollective, asIs[agent.MsgLeaveCollective])},
		{agent.KindPayCollective, "agent/pay_collective", ak.HandlePayCollective, decodeAs(agent.DecodeMsgPayCollective, asIs[agent.MsgPayCollective])},
		{agent.KindRate, "agent/rate", ak.HandleRate, decodeAs(agent.DecodeMsgRate, asIs[agent.MsgRate])},
		{agent.KindReport, "agent/report", ak.HandleReport, decodeAs(agent.DecodeMsgReport, asIs[agent.MsgReport])},
		{agent.KindWithdrawReport, "agent/withdraw_report", ak.HandleWithdrawReport, decodeAs(agent.DecodeMsgWithdrawReport, asIs[agent.MsgWithdrawReport])},
		{agent.KindReportBallot, "agent/report_ballot", ak.HandleReportBallot, decodeAs(agent.DecodeMsgReportBallot, asIs[agent.MsgReportBallot])},
		{agent.KindReportReveal, "agent/report_reveal", ak.HandleReportReveal, decodeAs(agent.DecodeMsgReportReveal, asIs[agent.MsgReportReveal])},
	}
}

type router struct {
	byKind map[uint16]Route
	byName map[string]Route
}

func newRouter(routes []Route) *router {
	r := &router{byKind: map[uint16]Route{}, byName: map[string]Route{}}
	for _, rt := range routes {
		if _, dup := r.byKind[rt.Kind]; dup {
			panic(fmt.Sprintf("app: message kind %#x routed twice", rt.Kind))
		}
		r.byKind[rt.Kind] = rt
		r.byName[rt.Name] = rt
	}
	return r
}

// names returns the route names in kind order.
func (r *router) names() []string {
	kinds := make([]int, 0, len(r.byKind))
	for k := range r.byKind {
		kinds = append(kinds, int(k))
	}
	sort.Ints(kinds)
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = r.byKind[uint16(k)].Name
	}
	return out
}

func decodeAs[M any](dec func([]byte) (M, error), view func(M) any) func([]byte) (any, error) {
	return func(b []byte) (any, error) {
		m, err := dec(b)
		if err != nil {
			return nil, err
		}
		return view(m), nil
	}
}

func asIs[M any](m M) any { return m }

func decodeEmpty(b []byte) (any, error) {
	if len(b) != 0 {
		return nil, compute.ErrMalformed.Wrapf("this message takes no body")
	}
	return struct{}{}, nil
}

func sendJSON(m bank.MsgSend) any {
	return struct {
		To     types.Address `json:"to"`
		Amount types.Amount  `json:"amount"`
	}{m.To, m.Amount}
}

func bondJSON(m stake.MsgBond) any {
	return struct {
		Purpose      stake.Purpose `json:"purpose"`
		Amount       types.Amount  `json:"amount"`
		ConsensusKey []byte        `json:"consensus_key,omitempty"`
	}{m.Purpose, m.Amount, m.ConsensusKey}
}

func unbondJSON(m stake.MsgUnbond) any {
	return struct {
		Purpose stake.Purpose `json:"purpose"`
		Amount  types.Amount  `json:"amount"`
	}{m.Purpose, m.Amount}
}

func unjailJSON(m stake.MsgUnjail) any {
	return struct {
		Purpose stake.Purpose `json:"purpose"`
	}{m.Purpose}
}

// DecodedMsg is a message shown as JSON.
type DecodedMsg struct {
	Kind string          `json:"kind"`
	Body json.RawMessage `json:"body"`
}
