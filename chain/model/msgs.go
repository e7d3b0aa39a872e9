package model

import (
	"github.com/mycelnet/mycel/chain/codec"
	"github.com/mycelnet/mycel/types"
)

// Message kinds. The high byte follows DESIGN.md's list of modules (bank
// 1, stake 2, compute 3, verify 4, model 5). Never renumber.
const (
	KindRegisterModel uint16 = 0x0501
	KindUpdateModel   uint16 = 0x0502
	KindTransferModel uint16 = 0x0503
)

// MsgRegisterModel registers a model, owned by the signer.
type MsgRegisterModel struct {
	Hash        types.Hash `json:"hash"`
	Name        string     `json:"name"`
	Format      Format     `json:"format"`
	Size        uint64     `json:"size"`
	License     string     `json:"license"`
	Parent      types.Hash `json:"parent,omitzero"`
	Description string     `json:"description"`
}

// Encode returns the message body.
func (m MsgRegisterModel) Encode() []byte {
	w := codec.NewWriter(96 + len(m.Name) + len(m.License) + len(m.Description))
	w.Fixed(m.Hash[:])
	w.String(m.Name)
	w.Byte(byte(m.Format))
	w.Uvarint(m.Size)
	w.String(m.License)
	w.Fixed(m.Parent[:])
	w.String(m.Description)
	return w.Bytes()
}

// DecodeMsgRegisterModel parses the body.
func DecodeMsgRegisterModel(b []byte) (MsgRegisterModel, error) {
	r := codec.NewReader(b)
	var m MsgRegisterModel
	r.FixedInto(m.Hash[:])
	m.Name = r.String(maxDecodeLen)
	m.Format = Format(r.Byte())
	m.Size = r.Uvarint()
	m.License = r.String(maxDecodeLen)
	r.FixedInto(m.Parent[:])
	m.Description = r.String(maxDecodeLen)
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("register model: %v", err)
	}
	return m, nil
}

// MsgUpdateModel sets the mutable fields of a model the signer owns: its
// name, license and description, all three (send the current values of
// those that stay).
type MsgUpdateModel struct {
	Hash        types.Hash `json:"hash"`
	Name        string     `json:"name"`
	License     string     `json:"license"`
	Description string     `json:"description"`
}

// Encode returns the message body.
func (m MsgUpdateModel) Encode() []byte {
	w := codec.NewWriter(48 + len(m.Name) + len(m.License) + len(m.Description))
	w.Fixed(m.Hash[:])
	w.String(m.Name)
	w.String(m.License)
	w.String(m.Description)
	return w.Bytes()
}

// DecodeMsgUpdateModel parses the body.
func DecodeMsgUpdateModel(b []byte) (MsgUpdateModel, error) {
	r := codec.NewReader(b)
	var m MsgUpdateModel
	r.FixedInto(m.Hash[:])
	m.Name = r.String(maxDecodeLen)
	m.License = r.String(maxDecodeLen)
	m.Description = r.String(maxDecodeLen)
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("update model: %v", err)
	}
	return m, nil
}

// MsgTransferModel gives a model the signer owns to another owner.
type MsgTransferModel struct {
	Hash     types.Hash    `json:"hash"`
	NewOwner types.Address `json:"new_owner"`
}

// Encode returns the message body.
func (m MsgTransferModel) Encode() []byte {
	w := codec.NewWriter(32 + types.AddressLen)
	w.Fixed(m.Hash[:])
	w.Fixed(m.NewOwner[:])
	return w.Bytes()
}

// DecodeMsgTransferModel parses the body.
func DecodeMsgTransferModel(b []byte) (MsgTransferModel, error) {
	r := codec.NewReader(b)
	var m MsgTransferModel
	r.FixedInto(m.Hash[:])
	r.FixedInto(m.NewOwner[:])
	if err := r.Done(); err != nil {
		return m, ErrMalformed.Wrapf("transfer model: %v", err)
	}
	return m, nil
}
