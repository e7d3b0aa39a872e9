package model

import "github.com/mycelnet/mycel/types"

// Codespace of the model registry's result codes.
const Codespace = "model"

// Result codes. Never renumber.
var (
	ErrMalformed          = types.NewError(Codespace, 2, "malformed model message")
	ErrInvalidHash        = types.NewError(Codespace, 3, "invalid model hash")
	ErrInvalidName        = types.NewError(Codespace, 4, "invalid model name")
	ErrInvalidFormat      = types.NewError(Codespace, 5, "invalid model format")
	ErrInvalidSize        = types.NewError(Codespace, 6, "invalid model size")
	ErrInvalidLicense     = types.NewError(Codespace, 7, "invalid model license")
	ErrInvalidDescription = types.NewError(Codespace, 8, "invalid model description")
	ErrModelExists        = types.NewError(Codespace, 9, "model already registered")
	ErrUnknownModel       = types.NewError(Codespace, 10, "model not registered")
	ErrUnknownParent      = types.NewError(Codespace, 11, "parent model not registered")
	ErrNotOwner           = types.NewError(Codespace, 12, "not the model's owner")
	ErrInvalidOwner       = types.NewError(Codespace, 13, "invalid owner")
	ErrInvalidQuery       = types.NewError(Codespace, 14, "invalid model query")
)
