package stake

import (
	"bytes"
	"crypto/ed25519"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/types"
)

// Message kinds.
const (
	KindBond   uint16 = 0x0201
	KindUnbond uint16 = 0x0202
	KindUnjail uint16 = 0x0203
)

// ConsensusKeyDomain prefixes what a consensus key signs to prove that
// its holder agrees to validate for an operator account.
const ConsensusKeyDomain = "mycel/consensus-key/v1\x00"

// ConsensusKeyProofBytes returns the bytes a consensus key signs to bind
// itself to operator on chainID.
func ConsensusKeyProofBytes(chainID string, operator types.Address) []byte {
	w := codec.NewWriter(96)
	w.Fixed([]byte(ConsensusKeyDomain))
	w.String(chainID)
	w.Fixed(operator[:])
	return w.Bytes()
}

// MsgBond bonds Amount of the signer's tokens for Purpose. A validator's
// first bond names its consensus key and proves possession of it.
type MsgBond struct {
	Purpose      Purpose
	Amount       types.Amount
	ConsensusKey []byte // 32 bytes or empty
	ConsensusSig []byte // 64 bytes or empty
}

// Encode returns the message body.
func (m MsgBond) Encode() []byte {
	w := codec.NewWriter(112)
	w.Byte(byte(m.Purpose))
	w.Uvarint(uint64(m.Amount))
	w.LenBytes(m.ConsensusKey)
	w.LenBytes(m.ConsensusSig)
	return w.Bytes()
}

// DecodeMsgBond parses a MsgBond body.
func DecodeMsgBond(b []byte) (MsgBond, error) {
	r := codec.NewReader(b)
	m := MsgBond{Purpose: Purpose(r.Byte()), Amount: types.Amount(r.Uvarint())}
	m.ConsensusKey = r.LenBytes(ed25519.PublicKeySize)
	m.ConsensusSig = r.LenBytes(ed25519.SignatureSize)
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("bond: %v", err)
	}
	return m, nil
}

// MsgUnbond starts unbonding Amount of the signer's bond for Purpose.
type MsgUnbond struct {
	Purpose Purpose
	Amount  types.Amount
}

// Encode returns the message body.
func (m MsgUnbond) Encode() []byte {
	w := codec.NewWriter(16)
	w.Byte(byte(m.Purpose))
	w.Uvarint(uint64(m.Amount))
	return w.Bytes()
}

// DecodeMsgUnbond parses a MsgUnbond body.
func DecodeMsgUnbond(b []byte) (MsgUnbond, error) {
	r := codec.NewReader(b)
	m := MsgUnbond{Purpose: Purpose(r.Byte()), Amount: types.Amount(r.Uvarint())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("unbond: %v", err)
	}
	return m, nil
}

// MsgUnjail lifts an expired jail from the signer's bond for Purpose.
type MsgUnjail struct {
	Purpose Purpose
}

// Encode returns the message body.
func (m MsgUnjail) Encode() []byte { return []byte{byte(m.Purpose)} }

// DecodeMsgUnjail parses a MsgUnjail body.
func DecodeMsgUnjail(b []byte) (MsgUnjail, error) {
	r := codec.NewReader(b)
	m := MsgUnjail{Purpose: Purpose(r.Byte())}
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("unjail: %v", err)
	}
	return m, nil
}

// HandleBond executes MsgBond.
func HandleBond(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgBond(body)
	if err != nil {
		return err
	}
	if !m.Purpose.Valid() {
		return ErrUnknownPurpose.Wrapf("%d", m.Purpose)
	}
	if m.Amount == 0 {
		return ErrInvalidAmount.Wrapf("bond amount must be positive")
	}
	p := GetParams(ctx.KV)
	bd, _ := GetBond(ctx.KV, signer, m.Purpose)
	if bd.Tombstoned {
		return ErrTombstoned.Wrapf("%s may not bond for %s again", signer, m.Purpose)
	}
	if m.Purpose == Validator {
		if err := bindConsensusKey(ctx, signer, &bd, m); err != nil {
			return err
		}
	} else if len(m.ConsensusKey) != 0 || len(m.ConsensusSig) != 0 {
		return ErrConsensusKey.Wrapf("only a validator bond takes a consensus key")
	}
	if m.Purpose == Validator {
		if total, _ := bd.Amount.Add(m.Amount); total < p.MinValidatorBond {
			return ErrInsufficientBond.Wrapf("a validator bond must be at least %s; this would make it %s", p.MinValidatorBond, total)
		}
	}
	return addBond(ctx, signer, m.Purpose, bd, m.Amount)
}

// BondFor bonds amount of a's tokens for a purpose other than validating
// (which needs a consensus key): for modules that take a stake as part of
// a registration.
func BondFor(ctx exec.Ctx, a types.Address, p Purpose, amount types.Amount) error {
	if !p.Valid() || p == Validator {
		return ErrUnknownPurpose.Wrapf("stake.BondFor takes provider, agent or crawler, not %s", p)
	}
	if amount == 0 {
		return ErrInvalidAmount.Wrapf("bond amount must be positive")
	}
	bd, _ := GetBond(ctx.KV, a, p)
	if bd.Tombstoned {
		return ErrTombstoned.Wrapf("%s may not bond for %s again", a, p)
	}
	return addBond(ctx, a, p, bd, amount)
}

func addBond(ctx exec.Ctx, a types.Address, p Purpose, bd Bond, amount types.Amount) error {
	total, err := bd.Amount.Add(amount)
	if err != nil {
		return ErrInvalidAmount.Wrapf("bond overflows")
	}
	if err := bank.Send(ctx.KV, a, Pool, amount); err != nil {
		return err
	}
	bd.Amount = total
	if bd.Since == 0 {
		bd.Since = ctx.Block.Height
	}
	setBond(ctx.KV, a, p, bd)
	ctx.Emit(types.NewEvent("bond", "address", a.String(), "purpose", p.String(),
		"amount", types.U64(uint64(amount)), "bonded", types.U64(uint64(total))))
	return nil
}

func bindConsensusKey(ctx exec.Ctx, operator types.Address, bd *Bond, m MsgBond) error {
	if bd.ConsensusKey != nil {
		if len(m.ConsensusKey) != 0 && !bytes.Equal(m.ConsensusKey, bd.ConsensusKey) {
			return ErrConsensusKey.Wrapf("%s is bound to another consensus key; rotation is not supported", operator)
		}
		return nil
	}
	if len(m.ConsensusKey) != ed25519.PublicKeySize || len(m.ConsensusSig) != ed25519.SignatureSize {
		return ErrConsensusKey.Wrapf("a first validator bond must carry a consensus key and its signature")
	}
	if !types.VerifySignature(m.ConsensusKey, ConsensusKeyProofBytes(ctx.Block.ChainID, operator), m.ConsensusSig) {
		return ErrConsensusKey.Wrapf("the consensus key did not sign for operator %s", operator)
	}
	ca := ConsensusAddress(m.ConsensusKey)
	if other, ok := OperatorOf(ctx.KV, ca); ok {
		return ErrConsensusKey.Wrapf("consensus key already bound to %s", other)
	}
	ctx.KV.Set(store.Key(prefixConsKey, ca), operator[:])
	bd.ConsensusKey = bytes.Clone(m.ConsensusKey)
	return nil
}

// HandleUnbond executes MsgUnbond.
func HandleUnbond(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgUnbond(body)
	if err != nil {
		return err
	}
	if !m.Purpose.Valid() {
		return ErrUnknownPurpose.Wrapf("%d", m.Purpose)
	}
	if m.Amount == 0 {
		return ErrInvalidAmount.Wrapf("unbond amount must be positive")
	}
	bd, ok := GetBond(ctx.KV, signer, m.Purpose)
	if !ok || bd.Amount == 0 {
		return ErrNoBond.Wrapf("%s has no %s bond", signer, m.Purpose)
	}
	rest, err := bd.Amount.Sub(m.Amount)
	if err != nil {
		return ErrInsufficientBond.Wrapf("%s bond of %s is %s, cannot unbond %s", m.Purpose, signer, bd.Amount, m.Amount)
	}
	p := GetParams(ctx.KV)
	if m.Purpose == Validator && rest != 0 && rest < p.MinValidatorBond {
		return ErrInsufficientBond.Wrapf("a validator bond must stay at least %s or go to zero; %s would remain", p.MinValidatorBond, rest)
	}
	bd.Amount = rest
	setBond(ctx.KV, signer, m.Purpose, bd)
	u := Unbonding{
		ID: nextID(ctx.KV), Address: signer, Purpose: m.Purpose, Amount: m.Amount,
		StartHeight:      ctx.Block.Height,
		CompleteHeight:   ctx.Block.Height + p.UnbondingBlocks,
		CompleteTimeUnix: ctx.Block.TimeUnixNano/1e9 + p.UnbondingSeconds,
	}
	putUnbonding(ctx.KV, u)
	ctx.Emit(types.NewEvent("unbond", "address", signer.String(), "purpose", m.Purpose.String(),
		"amount", types.U64(uint64(m.Amount)), "complete_height", types.U64(uint64(u.CompleteHeight))))
	return nil
}

// HandleUnjail executes MsgUnjail.
func HandleUnjail(ctx exec.Ctx, signer types.Address, body []byte) error {
	m, err := DecodeMsgUnjail(body)
	if err != nil {
		return err
	}
	bd, ok := GetBond(ctx.KV, signer, m.Purpose)
	switch {
	case !ok || !bd.Jailed:
		return ErrNotJailed.Wrapf("%s bond of %s", m.Purpose, signer)
	case bd.Tombstoned:
		return ErrTombstoned.Wrapf("%s bond of %s", m.Purpose, signer)
	case ctx.Block.Height < bd.JailedUntil:
		return ErrStillJailed.Wrapf("until height %d (now %d)", bd.JailedUntil, ctx.Block.Height)
	}
	bd.Jailed = false
	bd.JailedUntil = 0
	setBond(ctx.KV, signer, m.Purpose, bd)
	ctx.Emit(types.NewEvent("unjail", "address", signer.String(), "purpose", m.Purpose.String()))
	return nil
}
