package model

import (
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/types"
)

// HandleRegisterModel registers a model owned by the signer.
func HandleRegisterModel(ctx exec.Ctx, signer types.Address, body []byte) error {
	msg, err := DecodeMsgRegisterModel(body)
	if err != nil {
		return err
	}
	m := &Model{Hash: msg.Hash, Owner: signer, Name: msg.Name, Format: msg.Format, Size: msg.Size,
		License: msg.License, Parent: msg.Parent, Description: msg.Description, Registered: ctx.Block.Height}
	if err := register(ctx.KV, m); err != nil {
		return err
	}
	kv := []string{"hash", m.Hash.String(), "owner", m.Owner.String(), "name", m.Name,
		"format", m.Format.String(), "size", types.U64(m.Size)}
	if !m.Parent.IsZero() {
		kv = append(kv, "parent", m.Parent.String())
	}
	ctx.Emit(types.NewEvent("model_registered", kv...))
	return nil
}

// owned reads a model the signer must own.
func owned(ctx exec.Ctx, signer types.Address, h types.Hash) (*Model, error) {
	m := Get(ctx.KV, h)
	if m == nil {
		return nil, ErrUnknownModel.Wrapf("%s", h)
	}
	if m.Owner != signer {
		return nil, ErrNotOwner.Wrapf("model %s belongs to %s, not %s", h, m.Owner, signer)
	}
	return m, nil
}

// HandleUpdateModel sets the name, license and description of a model the
// signer owns.
func HandleUpdateModel(ctx exec.Ctx, signer types.Address, body []byte) error {
	msg, err := DecodeMsgUpdateModel(body)
	if err != nil {
		return err
	}
	m, err := owned(ctx, signer, msg.Hash)
	if err != nil {
		return err
	}
	if err := ValidateName(msg.Name); err != nil {
		return err
	}
	if err := ValidateLicense(msg.License); err != nil {
		return err
	}
	if err := ValidateDescription(msg.Description); err != nil {
		return err
	}
	if msg.Name != m.Name {
		ctx.KV.Delete(nameKey(m.Name, m.Registered, m.Hash))
		ctx.KV.Set(nameKey(msg.Name, m.Registered, m.Hash), []byte{})
	}
	m.Name, m.License, m.Description = msg.Name, msg.License, msg.Description
	ctx.KV.Set(modelKey(m.Hash), m.encode())
	ctx.Emit(types.NewEvent("model_updated", "hash", m.Hash.String(), "owner", m.Owner.String(), "name", m.Name))
	return nil
}

// HandleTransferModel gives a model the signer owns to a new owner.
func HandleTransferModel(ctx exec.Ctx, signer types.Address, body []byte) error {
	msg, err := DecodeMsgTransferModel(body)
	if err != nil {
		return err
	}
	m, err := owned(ctx, signer, msg.Hash)
	if err != nil {
		return err
	}
	switch {
	case msg.NewOwner.IsZero():
		return ErrInvalidOwner.Wrapf("the zero address cannot own a model")
	case msg.NewOwner == m.Owner:
		return ErrInvalidOwner.Wrapf("%s already owns model %s", m.Owner, m.Hash)
	}
	prev := m.Owner
	ctx.KV.Delete(ownerKey(prev, m.Hash))
	ctx.KV.Set(ownerKey(msg.NewOwner, m.Hash), []byte{})
	m.Owner = msg.NewOwner
	ctx.KV.Set(modelKey(m.Hash), m.encode())
	ctx.Emit(types.NewEvent("model_transferred", "hash", m.Hash.String(), "owner", m.Owner.String(), "name", m.Name,
		"previous_owner", prev.String()))
	return nil
}
