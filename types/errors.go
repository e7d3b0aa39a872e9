package types

import (
	"errors"
	"fmt"
)

// Error is a failure with a stable code that clients can act on: the
// ABCI result code and codespace of a refused transaction, and the "code"
// of the HTTP API's JSON errors. Each module declares its own in one file.
type Error struct {
	Codespace string
	Code      uint32
	Msg       string
}

// NewError declares a coded error. Codes are unique within a codespace and
// never reused once released.
func NewError(codespace string, code uint32, msg string) *Error {
	if code == 0 {
		panic("code 0 means success")
	}
	return &Error{Codespace: codespace, Code: code, Msg: msg}
}

func (e *Error) Error() string { return e.Msg }

// Wrapf returns an error that matches e under errors.Is and carries detail.
func (e *Error) Wrapf(format string, args ...any) error {
	return &wrapped{base: e, detail: fmt.Sprintf(format, args...)}
}

type wrapped struct {
	base   *Error
	detail string
}

func (w *wrapped) Error() string { return w.base.Msg + ": " + w.detail }
func (w *wrapped) Unwrap() error { return w.base }

// ErrInternal is the code of a failure that is not the client's fault.
var ErrInternal = NewError("mycel", 1, "internal error")

// CodeOf returns the codespace and code of err, or mycel/1 for errors that
// carry none.
func CodeOf(err error) (codespace string, code uint32) {
	var e *Error
	if errors.As(err, &e) {
		return e.Codespace, e.Code
	}
	return ErrInternal.Codespace, ErrInternal.Code
}
