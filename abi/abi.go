// Package abi is the Go side of the Tidemark host↔analyzer contract
// (abi/ABI.md): the binary analyze input, the binary alert, the manifest
// custom section, status codes and limits. It is pure Go without cgo so the
// host and the Go SDK (GOOS=wasip1) share one encoder and one decoder.
package abi

// ImportModule is the wasm import module every host function lives in. The
// major ABI version is part of the name so an incompatible host fails at link
// time instead of misreading memory.
const ImportModule = "tidemark_v1"

// Version of the ABI this package implements. Minor versions only add
// optional exports, imports, flags or trailing sections.
const (
	VersionMajor = 1
	VersionMinor = 0
	// VersionString is the manifest "abi" value this package writes.
	VersionString = "1.0"
)

// Guest export names.
const (
	ExportMemory     = "memory"
	ExportInitialize = "_initialize"
	ExportInit       = "tidemark_init"
	ExportAnalyze    = "tidemark_analyze"
	ExportStateSave  = "tidemark_state_save"
	ExportStateLoad  = "tidemark_state_load"
)

// Host import names (module ImportModule).
const (
	ImportInputRead = "input_read"
	ImportEmitAlert = "emit_alert"
	ImportLog       = "log"
	ImportStateGet  = "state_get"
	ImportStateSet  = "state_set"
	ImportQuery     = "query"
	ImportQueryRead = "query_read"
	ImportClockNow  = "clock_now"
)

// Status is the i32 every export and host function returns: 0 or a positive
// count on success, a negative code on failure.
type Status int32

// Status codes (ABI.md "Status codes").
const (
	StatusOK               Status = 0
	StatusInvalidArgument  Status = -1
	StatusOutOfBounds      Status = -2
	StatusNotFound         Status = -3
	StatusPermissionDenied Status = -4
	StatusLimitExceeded    Status = -5
	StatusUnavailable      Status = -6
	StatusInternal         Status = -7
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusInvalidArgument:
		return "INVALID_ARGUMENT"
	case StatusOutOfBounds:
		return "OUT_OF_BOUNDS"
	case StatusNotFound:
		return "NOT_FOUND"
	case StatusPermissionDenied:
		return "PERMISSION_DENIED"
	case StatusLimitExceeded:
		return "LIMIT_EXCEEDED"
	case StatusUnavailable:
		return "UNAVAILABLE"
	case StatusInternal:
		return "INTERNAL"
	}
	if s > 0 {
		return "OK"
	}
	return "UNKNOWN"
}

// Limits the host enforces (ABI.md "Limits"). A guest can rely on inputs
// never exceeding them and must expect LIMIT_EXCEEDED past them.
const (
	MaxInputBytes      = 64 << 20 // one analyze input
	MaxOptionsBytes    = 64 << 10 // the options JSON given to tidemark_init
	MaxAlertsPerCall   = 10000    // emit_alert calls accepted per analyze call
	MaxAlertMessage    = 1024     // bytes of alert message kept (longer is truncated)
	MaxLogLine         = 4096     // bytes of a log line kept (longer is truncated)
	MaxLogLinesPerCall = 100      // log calls accepted per export call
	MaxStateKey        = 256      // bytes of a state key
	MaxStateValue      = 1 << 20  // bytes of one state value
	MaxStateTotal      = 4 << 20  // bytes of all keys+values of one instance
	MaxManifestBytes   = 64 << 10 // the tidemark.manifest custom section
)

// Log levels for the log host function; they map to slog levels.
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)
