package runtime

import (
	"errors"
	"fmt"
)

// Errors of a guest call, matched with errors.Is on the *CallError returned.
var (
	ErrTrap            = errors.New("guest trapped")
	ErrTimeout         = errors.New("guest call exceeded its deadline")
	ErrMemoryExhausted = errors.New("guest exhausted its memory limit")
	ErrGuestStatus     = errors.New("guest returned an error status")
	// ErrClosed is returned by calls on a closed (or broken) instance.
	ErrClosed = errors.New("instance closed")
)

// Compile errors, matched with errors.Is.
var (
	ErrNotWasm       = errors.New("not a WebAssembly module")
	ErrTruncated     = errors.New("truncated WebAssembly module")
	ErrABI           = errors.New("ABI mismatch")
	ErrMissingExport = errors.New("missing required export")
)

// Status codes shared by host functions and guest exports (abi/ABI.md).
const (
	StatusOK              int32 = 0
	StatusInvalidArgument int32 = -1
	StatusOutOfBounds     int32 = -2
	StatusNotFound        int32 = -3
	StatusPermission      int32 = -4
	StatusLimitExceeded   int32 = -5
	StatusUnavailable     int32 = -6
	StatusInternal        int32 = -7
)

// CallError describes a failed guest call.
type CallError struct {
	Kind     error  // ErrTrap, ErrTimeout, ErrMemoryExhausted or ErrGuestStatus
	Instance string // instance name
	Func     string // guest export called
	Status   int32  // guest status when Kind is ErrGuestStatus
	Output   string // last line the guest wrote to stdout/stderr, if any
	Err      error  // underlying wazero error, if any
}

func (e *CallError) Error() string {
	s := fmt.Sprintf("analyzer %q: %s: %v", e.Instance, e.Func, e.Kind)
	if e.Kind == ErrGuestStatus {
		s += fmt.Sprintf(" %d (%s)", e.Status, StatusText(e.Status))
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Output != "" {
		s += " (guest output: " + e.Output + ")"
	}
	return s
}

// Is matches the Kind sentinel.
func (e *CallError) Is(target error) bool { return target == e.Kind }

func (e *CallError) Unwrap() error { return e.Err }

// StatusText names a status code.
func StatusText(s int32) string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusInvalidArgument:
		return "INVALID_ARGUMENT"
	case StatusOutOfBounds:
		return "OUT_OF_BOUNDS"
	case StatusNotFound:
		return "NOT_FOUND"
	case StatusPermission:
		return "PERMISSION_DENIED"
	case StatusLimitExceeded:
		return "LIMIT_EXCEEDED"
	case StatusUnavailable:
		return "UNAVAILABLE"
	case StatusInternal:
		return "INTERNAL"
	}
	return "UNKNOWN"
}
