package runtime

import (
	"errors"
	"fmt"

	"github.com/tidemark/tidemark/abi"
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

// Status codes shared by host functions and guest exports: the abi
// package's, as the i32 values wazero passes.
const (
	StatusOK              = int32(abi.StatusOK)
	StatusInvalidArgument = int32(abi.StatusInvalidArgument)
	StatusOutOfBounds     = int32(abi.StatusOutOfBounds)
	StatusNotFound        = int32(abi.StatusNotFound)
	StatusPermission      = int32(abi.StatusPermissionDenied)
	StatusLimitExceeded   = int32(abi.StatusLimitExceeded)
	StatusUnavailable     = int32(abi.StatusUnavailable)
	StatusInternal        = int32(abi.StatusInternal)
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
func StatusText(s int32) string { return abi.Status(s).String() }
