package gguf

import (
	"errors"
	"strconv"
)

// The kinds of format error. Every error Read returns about the file's
// contents is a *FormatError that wraps one of these, so callers can tell
// them apart with errors.Is.
var (
	// ErrNotGGUF: the file does not start with the magic "GGUF".
	ErrNotGGUF = errors.New("gguf: not a GGUF file")
	// ErrVersion: a version other than 2 or 3, or big-endian.
	ErrVersion = errors.New("gguf: unsupported version")
	// ErrTruncated: a field, or what a count or length promises, needs more
	// bytes than the file has.
	ErrTruncated = errors.New("gguf: truncated")
	// ErrMalformed: the bytes are there but break a rule of the format.
	ErrMalformed = errors.New("gguf: malformed")
	// ErrDuplicate: a key or tensor name appears twice.
	ErrDuplicate = errors.New("gguf: duplicate")
	// ErrUnknownType: a metadata value type, or a tensor type, that this
	// package does not know.
	ErrUnknownType = errors.New("gguf: unknown type")
)

// FormatError describes what is wrong with a GGUF file and where.
type FormatError struct {
	// Item names what was being read: `header`, `key "general.name"`,
	// `key #3` (before its name is known), `tensor "output.weight"`.
	Item string
	// Offset is the absolute byte offset of the offending field, or -1
	// where there is none (an error from TensorInfo.Bytes).
	Offset int64
	// Msg says what is wrong.
	Msg string
	// Err is one of the Err values above.
	Err error
}

func (e *FormatError) Error() string {
	s := "gguf: "
	if e.Item != "" {
		s += e.Item
		if e.Offset >= 0 {
			s += " at byte " + strconv.FormatInt(e.Offset, 10)
		}
		s += ": "
	} else if e.Offset >= 0 {
		s += "byte " + strconv.FormatInt(e.Offset, 10) + ": "
	}
	return s + e.Msg
}

func (e *FormatError) Unwrap() error { return e.Err }

// withItem names the item an error from a low-level read belongs to. The
// low-level reads leave Item empty so that the happy path never formats a
// name it will not need.
func withItem(err error, item func() string) error {
	var fe *FormatError
	if errors.As(err, &fe) && fe.Item == "" {
		fe.Item = item()
	}
	return err
}
