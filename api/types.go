package api

import (
	"encoding/json"
	"time"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/types"
)

// Status is GET /v1/status.
type Status struct {
	ChainID         string     `json:"chain_id"`
	NodeID          string     `json:"node_id"`
	Moniker         string     `json:"moniker"`
	Height          int64      `json:"height"`
	AppHash         types.Hash `json:"app_hash"`
	LatestBlockTime time.Time  `json:"latest_block_time"`
	CatchingUp      bool       `json:"catching_up"`
	Peers           int        `json:"peers"`
	APIAddress      string     `json:"api_address"`
	RPCAddress      string     `json:"rpc_address"`
	P2PAddress      string     `json:"p2p_address"`
	// Validator is this node's consensus key and its voting power (0 when
	// it is not in the validator set).
	Validator struct {
		Address string `json:"address"`
		Power   int64  `json:"power"`
	} `json:"validator"`
	Version string `json:"version"`
}

// SubmitResult is POST /v1/txs: the transaction's hash and the outcome of
// the mempool's check. A refused transaction is an error response that
// carries the same fields.
type SubmitResult struct {
	Hash      types.Hash `json:"hash"`
	Code      uint32     `json:"code"`
	Codespace string     `json:"codespace,omitempty"`
	Log       string     `json:"log,omitempty"`
}

// TxResult is GET /v1/txs/{hash}: a committed transaction and its outcome.
type TxResult struct {
	Hash      types.Hash    `json:"hash"`
	Height    int64         `json:"height"`
	Index     uint32        `json:"index"`
	Code      uint32        `json:"code"`
	Codespace string        `json:"codespace,omitempty"`
	Log       string        `json:"log,omitempty"`
	Events    []types.Event `json:"events"`
	Tx        *app.TxView   `json:"tx,omitempty"`
}

// OK reports whether the transaction succeeded.
func (r TxResult) OK() bool { return r.Code == 0 }

// BlobResult is PUT /v1/blobs.
type BlobResult struct {
	SHA256 types.Hash `json:"sha256"`
	Size   int64      `json:"size"`
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names an error: a stable code and a message for people.
// Refused transactions add their hash and ABCI code.
type ErrorDetail struct {
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Hash      *types.Hash     `json:"hash,omitempty"`
	ABCICode  uint32          `json:"abci_code,omitempty"`
	Codespace string          `json:"codespace,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
}

// Work is GET /v1/providers/{addr}/work: the provider's open jobs at a
// height.
type Work struct {
	Height int64          `json:"height"`
	Jobs   []*compute.Job `json:"jobs"`
}

// Block is GET /v1/blocks/{height}: a committed block's header fields.
type Block struct {
	Height int64      `json:"height"`
	Hash   types.Hash `json:"hash"`
	Time   time.Time  `json:"time"`
	// AppHash is the app hash after the previous block: the root that
	// proofs read at Height-1 verify against.
	AppHash types.Hash `json:"app_hash"`
	// ResultAppHash is the app hash this node's application computed
	// after executing the block (the next header carries it). Nodes that
	// agree on it agree on the state.
	ResultAppHash *types.Hash `json:"result_app_hash,omitempty"`
	NumTxs        int         `json:"num_txs"`
	Proposer      string      `json:"proposer"`
}
