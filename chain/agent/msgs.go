package agent

import (
	"math"

	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Message kinds. The high byte follows DESIGN.md's list of modules (bank
// 1, stake 2, compute 3, verify 4, model 5, paych 6, agent 7). Never
// renumber.
const (
	KindRegister         uint16 = 0x0701
	KindUpdate           uint16 = 0x0702
	KindRenew            uint16 = 0x0703
	KindDeregister       uint16 = 0x0704
	KindTransfer         uint16 = 0x0705
	KindSetKey           uint16 = 0x0706
	KindListForSale      uint16 = 0x0707
	KindDelist           uint16 = 0x0708
	KindBuy              uint16 = 0x0709
	KindCreateCollective uint16 = 0x070a
	KindProposeSplit     uint16 = 0x070b
	KindAcceptSplit      uint16 = 0x070c
	KindLeaveCollective  uint16 = 0x070d
	KindPayCollective    uint16 = 0x070e
	KindRate             uint16 = 0x070f
	KindReport           uint16 = 0x0710
	KindWithdrawReport   uint16 = 0x0711
	KindReportBallot     uint16 = 0x0712
	KindReportReveal     uint16 = 0x0713
)

// MsgRegister registers an agent owned by the signer, escrowing Deposit.
type MsgRegister struct {
	// SigningKey signs the agent's messages; it should not be the owner's
	// account key, so that a host holding it cannot move the owner's funds.
	SigningKey PublicKey  `json:"signing_key"`
	CardHash   types.Hash `json:"card_hash"`
	CardSize   uint64     `json:"card_size"`
	// Name, Description and Skills summarise the card (the CLI copies
	// them from it) for discovery.
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Skills      []Skill      `json:"skills"`
	Price       types.Amount `json:"price"`
	// Endpoint is where the agent takes messages; empty for the mailbox.
	Endpoint string       `json:"endpoint"`
	Deposit  types.Amount `json:"deposit"`
}

// Encode returns the message body.
func (m MsgRegister) Encode() []byte {
	w := codec.NewWriter(120 + len(m.Name) + len(m.Description) + len(m.Endpoint) + skillsLen(m.Skills))
	w.Fixed(m.SigningKey[:])
	w.Fixed(m.CardHash[:])
	w.Uvarint(m.CardSize)
	w.String(m.Name)
	w.String(m.Description)
	writeSkills(w, m.Skills)
	w.Uvarint(uint64(m.Price))
	w.String(m.Endpoint)
	w.Uvarint(uint64(m.Deposit))
	return w.Bytes()
}

// DecodeMsgRegister parses the body.
func DecodeMsgRegister(b []byte) (MsgRegister, error) {
	r := codec.NewReader(b)
	var m MsgRegister
	r.FixedInto(m.SigningKey[:])
	r.FixedInto(m.CardHash[:])
	m.CardSize = r.Uvarint()
	m.Name = r.String(maxDecodeLen)
	m.Description = r.String(maxDecodeLen)
	m.Skills = readSkills(r)
	m.Price = types.Amount(r.Uvarint())
	m.Endpoint = r.String(maxDecodeLen)
	m.Deposit = types.Amount(r.Uvarint())
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("register: %v", err)
	}
	return m, nil
}

// MsgUpdate sets what an agent's owner may change: the card and its
// summary, the price and the endpoint, all at once (send the current
// values of those that stay).
type MsgUpdate struct {
	Agent       uint64       `json:"agent,string"`
	CardHash    types.Hash   `json:"card_hash"`
	CardSize    uint64       `json:"card_size"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Skills      []Skill      `json:"skills"`
	Price       types.Amount `json:"price"`
	Endpoint    string       `json:"endpoint"`
}

// Encode returns the message body.
func (m MsgUpdate) Encode() []byte {
	w := codec.NewWriter(80 + len(m.Name) + len(m.Description) + len(m.Endpoint) + skillsLen(m.Skills))
	w.Uvarint(m.Agent)
	w.Fixed(m.CardHash[:])
	w.Uvarint(m.CardSize)
	w.String(m.Name)
	w.String(m.Description)
	writeSkills(w, m.Skills)
	w.Uvarint(uint64(m.Price))
	w.String(m.Endpoint)
	return w.Bytes()
}

// DecodeMsgUpdate parses the body.
func DecodeMsgUpdate(b []byte) (MsgUpdate, error) {
	r := codec.NewReader(b)
	m := MsgUpdate{Agent: r.Uvarint()}
	r.FixedInto(m.CardHash[:])
	m.CardSize = r.Uvarint()
	m.Name = r.String(maxDecodeLen)
	m.Description = r.String(maxDecodeLen)
	m.Skills = readSkills(r)
	m.Price = types.Amount(r.Uvarint())
	m.Endpoint = r.String(maxDecodeLen)
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("update: %v", err)
	}
	return m, nil
}

// MsgRenew extends an active or expired agent's registration by the
// registration period from now, adding AddDeposit (which may be 0) to its
// deposit.
type MsgRenew struct {
	Agent      uint64       `json:"agent,string"`
	AddDeposit types.Amount `json:"add_deposit"`
}

// Encode returns the message body.
func (m MsgRenew) Encode() []byte {
	w := codec.NewWriter(20)
	w.Uvarint(m.Agent)
	w.Uvarint(uint64(m.AddDeposit))
	return w.Bytes()
}

// DecodeMsgRenew parses the body.
func DecodeMsgRenew(b []byte) (MsgRenew, error) {
	r := codec.NewReader(b)
	m := MsgRenew{Agent: r.Uvarint(), AddDeposit: types.Amount(r.Uvarint())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("renew: %v", err)
	}
	return m, nil
}

// MsgAgent names an agent: the body of a deregistration and of a delisting.
type MsgAgent struct {
	Agent uint64 `json:"agent,string"`
}

// Encode returns the message body.
func (m MsgAgent) Encode() []byte {
	w := codec.NewWriter(10)
	w.Uvarint(m.Agent)
	return w.Bytes()
}

// DecodeMsgAgent parses the body.
func DecodeMsgAgent(b []byte) (MsgAgent, error) {
	r := codec.NewReader(b)
	m := MsgAgent{Agent: r.Uvarint()}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("agent: %v", err)
	}
	return m, nil
}

// MsgTransfer gives an agent the signer owns to NewOwner. The agent's
// signing key is cleared: the new owner sets its own (MsgSetKey).
type MsgTransfer struct {
	Agent    uint64        `json:"agent,string"`
	NewOwner types.Address `json:"new_owner"`
}

// Encode returns the message body.
func (m MsgTransfer) Encode() []byte {
	w := codec.NewWriter(10 + types.AddressLen)
	w.Uvarint(m.Agent)
	w.Fixed(m.NewOwner[:])
	return w.Bytes()
}

// DecodeMsgTransfer parses the body.
func DecodeMsgTransfer(b []byte) (MsgTransfer, error) {
	r := codec.NewReader(b)
	m := MsgTransfer{Agent: r.Uvarint()}
	r.FixedInto(m.NewOwner[:])
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("transfer: %v", err)
	}
	return m, nil
}

// MsgSetKey sets the signing key of an agent the signer owns: after a
// transfer or a purchase, or to rotate it.
type MsgSetKey struct {
	Agent uint64    `json:"agent,string"`
	Key   PublicKey `json:"key"`
}

// Encode returns the message body.
func (m MsgSetKey) Encode() []byte {
	w := codec.NewWriter(42)
	w.Uvarint(m.Agent)
	w.Fixed(m.Key[:])
	return w.Bytes()
}

// DecodeMsgSetKey parses the body.
func DecodeMsgSetKey(b []byte) (MsgSetKey, error) {
	r := codec.NewReader(b)
	m := MsgSetKey{Agent: r.Uvarint()}
	r.FixedInto(m.Key[:])
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("set key: %v", err)
	}
	return m, nil
}

// MsgListForSale puts an agent the signer owns on the market at Price, or
// changes the price of its listing.
type MsgListForSale struct {
	Agent uint64       `json:"agent,string"`
	Price types.Amount `json:"price"`
}

// Encode returns the message body.
func (m MsgListForSale) Encode() []byte {
	w := codec.NewWriter(20)
	w.Uvarint(m.Agent)
	w.Uvarint(uint64(m.Price))
	return w.Bytes()
}

// DecodeMsgListForSale parses the body.
func DecodeMsgListForSale(b []byte) (MsgListForSale, error) {
	r := codec.NewReader(b)
	m := MsgListForSale{Agent: r.Uvarint(), Price: types.Amount(r.Uvarint())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("list for sale: %v", err)
	}
	return m, nil
}

// MsgBuy buys a listed agent at its sale price, if that is at most
// MaxPrice (so a seller cannot raise the price under a buyer's feet).
type MsgBuy struct {
	Agent    uint64       `json:"agent,string"`
	MaxPrice types.Amount `json:"max_price"`
}

// Encode returns the message body.
func (m MsgBuy) Encode() []byte {
	w := codec.NewWriter(20)
	w.Uvarint(m.Agent)
	w.Uvarint(uint64(m.MaxPrice))
	return w.Bytes()
}

// DecodeMsgBuy parses the body.
func DecodeMsgBuy(b []byte) (MsgBuy, error) {
	r := codec.NewReader(b)
	m := MsgBuy{Agent: r.Uvarint(), MaxPrice: types.Amount(r.Uvarint())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("buy: %v", err)
	}
	return m, nil
}

// Split is a proposed revenue split: member agents and their basis
// points, summing to 10,000.
type Split struct {
	Agent uint64 `json:"agent,string"`
	Bps   uint32 `json:"bps"`
}

func writeSplit(w *codec.Writer, ss []Split) {
	w.Uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.Uvarint(s.Agent)
		w.Uvarint(uint64(s.Bps))
	}
}

// readSplit reads a split; ok is false when a share does not fit in 32
// bits.
func readSplit(r *codec.Reader) (out []Split, ok bool) {
	n := r.Count(maxDecodeCount)
	out = make([]Split, 0, n)
	ok = true
	for i := 0; i < n && r.Err() == nil; i++ {
		a, bps := r.Uvarint(), r.Uvarint()
		ok = ok && bps <= math.MaxUint32
		out = append(out, Split{Agent: a, Bps: uint32(bps)})
	}
	return out, ok
}

// MsgCreateCollective creates a collective managed by an agent the signer
// owns, proposing its first split and combined card. The manager's own
// share counts as accepted; every other member's owner accepts with
// MsgAcceptSplit.
type MsgCreateCollective struct {
	Manager  uint64     `json:"manager,string"`
	Name     string     `json:"name"`
	CardHash types.Hash `json:"card_hash"`
	CardSize uint64     `json:"card_size"`
	Split    []Split    `json:"split"`
}

// Encode returns the message body.
func (m MsgCreateCollective) Encode() []byte {
	w := codec.NewWriter(60 + len(m.Name) + 12*len(m.Split))
	w.Uvarint(m.Manager)
	w.String(m.Name)
	w.Fixed(m.CardHash[:])
	w.Uvarint(m.CardSize)
	writeSplit(w, m.Split)
	return w.Bytes()
}

// DecodeMsgCreateCollective parses the body.
func DecodeMsgCreateCollective(b []byte) (MsgCreateCollective, error) {
	r := codec.NewReader(b)
	m := MsgCreateCollective{Manager: r.Uvarint(), Name: r.String(maxDecodeLen)}
	r.FixedInto(m.CardHash[:])
	m.CardSize = r.Uvarint()
	var ok bool
	m.Split, ok = readSplit(r)
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("create collective: %v", err)
	}
	if !ok {
		return m, ErrMalformed.Wrapf("create collective: a share over 32 bits")
	}
	return m, nil
}

// MsgProposeSplit proposes a new split and combined card for a collective
// whose manager the signer owns: to invite members, drop them or change
// shares. It replaces any earlier proposal, and takes force once every
// member in it has accepted.
type MsgProposeSplit struct {
	Collective uint64     `json:"collective,string"`
	CardHash   types.Hash `json:"card_hash"`
	CardSize   uint64     `json:"card_size"`
	Split      []Split    `json:"split"`
}

// Encode returns the message body.
func (m MsgProposeSplit) Encode() []byte {
	w := codec.NewWriter(60 + 12*len(m.Split))
	w.Uvarint(m.Collective)
	w.Fixed(m.CardHash[:])
	w.Uvarint(m.CardSize)
	writeSplit(w, m.Split)
	return w.Bytes()
}

// DecodeMsgProposeSplit parses the body.
func DecodeMsgProposeSplit(b []byte) (MsgProposeSplit, error) {
	r := codec.NewReader(b)
	m := MsgProposeSplit{Collective: r.Uvarint()}
	r.FixedInto(m.CardHash[:])
	m.CardSize = r.Uvarint()
	var ok bool
	m.Split, ok = readSplit(r)
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("propose split: %v", err)
	}
	if !ok {
		return m, ErrMalformed.Wrapf("propose split: a share over 32 bits")
	}
	return m, nil
}

// MsgAcceptSplit is a member's consent, signed by the owner of Agent, to
// the collective's proposal of this Version (so that nobody accepts a
// split other than the one they read).
type MsgAcceptSplit struct {
	Collective uint64 `json:"collective,string"`
	Agent      uint64 `json:"agent,string"`
	Version    uint64 `json:"version,string"`
}

// Encode returns the message body.
func (m MsgAcceptSplit) Encode() []byte {
	w := codec.NewWriter(30)
	w.Uvarint(m.Collective)
	w.Uvarint(m.Agent)
	w.Uvarint(m.Version)
	return w.Bytes()
}

// DecodeMsgAcceptSplit parses the body.
func DecodeMsgAcceptSplit(b []byte) (MsgAcceptSplit, error) {
	r := codec.NewReader(b)
	m := MsgAcceptSplit{Collective: r.Uvarint(), Agent: r.Uvarint(), Version: r.Uvarint()}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("accept split: %v", err)
	}
	return m, nil
}

// MsgLeaveCollective takes Agent, which the signer owns, out of a
// collective; the manager leaving dissolves it.
type MsgLeaveCollective struct {
	Collective uint64 `json:"collective,string"`
	Agent      uint64 `json:"agent,string"`
}

// Encode returns the message body.
func (m MsgLeaveCollective) Encode() []byte {
	w := codec.NewWriter(20)
	w.Uvarint(m.Collective)
	w.Uvarint(m.Agent)
	return w.Bytes()
}

// DecodeMsgLeaveCollective parses the body.
func DecodeMsgLeaveCollective(b []byte) (MsgLeaveCollective, error) {
	r := codec.NewReader(b)
	m := MsgLeaveCollective{Collective: r.Uvarint(), Agent: r.Uvarint()}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("leave collective: %v", err)
	}
	return m, nil
}

// MsgPayCollective pays Amount from the signer to a collective's members,
// by the split in force.
type MsgPayCollective struct {
	Collective uint64       `json:"collective,string"`
	Amount     types.Amount `json:"amount"`
}

// Encode returns the message body.
func (m MsgPayCollective) Encode() []byte {
	w := codec.NewWriter(20)
	w.Uvarint(m.Collective)
	w.Uvarint(uint64(m.Amount))
	return w.Bytes()
}

// DecodeMsgPayCollective parses the body.
func DecodeMsgPayCollective(b []byte) (MsgPayCollective, error) {
	r := codec.NewReader(b)
	m := MsgPayCollective{Collective: r.Uvarint(), Amount: types.Amount(r.Uvarint())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("pay collective: %v", err)
	}
	return m, nil
}

// MsgRate rates an agent's task 1 to 5 stars, paying Amount to its owner
// in the same message: every rating has a payment behind it.
type MsgRate struct {
	Agent  uint64       `json:"agent,string"`
	Stars  uint8        `json:"stars"`
	Amount types.Amount `json:"amount"`
	// Task names the task rated (a hash the two sides agree on, such as
	// that of the request); zero for none. It is recorded in the event.
	Task types.Hash `json:"task,omitzero"`
}

// Encode returns the message body.
func (m MsgRate) Encode() []byte {
	w := codec.NewWriter(52)
	w.Uvarint(m.Agent)
	w.Byte(m.Stars)
	w.Uvarint(uint64(m.Amount))
	w.Fixed(m.Task[:])
	return w.Bytes()
}

// DecodeMsgRate parses the body.
func DecodeMsgRate(b []byte) (MsgRate, error) {
	r := codec.NewReader(b)
	m := MsgRate{Agent: r.Uvarint(), Stars: r.Byte(), Amount: types.Amount(r.Uvarint())}
	r.FixedInto(m.Task[:])
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("rate: %v", err)
	}
	return m, nil
}

// MsgReport records a claim of misbehaviour against an agent, escrowing
// Bond, for the dispute track.
type MsgReport struct {
	Agent    uint64       `json:"agent,string"`
	Bond     types.Amount `json:"bond"`
	Evidence types.Hash   `json:"evidence,omitzero"`
	Reason   string       `json:"reason"`
}

// Encode returns the message body.
func (m MsgReport) Encode() []byte {
	w := codec.NewWriter(60 + len(m.Reason))
	w.Uvarint(m.Agent)
	w.Uvarint(uint64(m.Bond))
	w.Fixed(m.Evidence[:])
	w.String(m.Reason)
	return w.Bytes()
}

// DecodeMsgReport parses the body.
func DecodeMsgReport(b []byte) (MsgReport, error) {
	r := codec.NewReader(b)
	m := MsgReport{Agent: r.Uvarint(), Bond: types.Amount(r.Uvarint())}
	r.FixedInto(m.Evidence[:])
	m.Reason = r.String(maxDecodeLen)
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("report: %v", err)
	}
	return m, nil
}

// MsgWithdrawReport withdraws an open report the signer made, returning
// its bond.
type MsgWithdrawReport struct {
	Report uint64 `json:"report,string"`
}

// Encode returns the message body.
func (m MsgWithdrawReport) Encode() []byte {
	w := codec.NewWriter(10)
	w.Uvarint(m.Report)
	return w.Bytes()
}

// DecodeMsgWithdrawReport parses the body.
func DecodeMsgWithdrawReport(b []byte) (MsgWithdrawReport, error) {
	r := codec.NewReader(b)
	m := MsgWithdrawReport{Report: r.Uvarint()}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("withdraw report: %v", err)
	}
	return m, nil
}
