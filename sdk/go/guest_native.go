//go:build !wasip1

package tidemark

import (
	"bytes"
	"log/slog"
	"maps"
	"sync"

	"github.com/tidemark/tidemark/abi"
)

// Host is what the native build calls in place of the wasm host functions;
// it has the shape of host/runtime.HostHandler. Only in non-wasip1 builds.
type Host interface {
	EmitAlert(raw []byte) error
	Log(level int, msg string)
	StateGet(key string) ([]byte, bool)
	StateSet(key string, val []byte) error
	Query(req []byte) ([]byte, error)
}

var (
	nativeMu   sync.Mutex
	nativeHost Host = &MemoryHost{}
)

// UseHost makes the native build's host functions call h (tests). It
// returns a function restoring the previous host.
func UseHost(h Host) (restore func()) {
	nativeMu.Lock()
	defer nativeMu.Unlock()
	prev := nativeHost
	nativeHost = h
	return func() {
		nativeMu.Lock()
		defer nativeMu.Unlock()
		nativeHost = prev
	}
}

func currentHost() Host {
	nativeMu.Lock()
	defer nativeMu.Unlock()
	return nativeHost
}

// MemoryHost is an in-memory Host: alerts, logs and state kept in fields.
type MemoryHost struct {
	mu     sync.Mutex
	Alerts []abi.Alert
	Logs   []string
	State  map[string][]byte
}

// EmitAlert implements Host.
func (h *MemoryHost) EmitAlert(raw []byte) error {
	a, err := abi.DecodeAlert(raw)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Alerts = append(h.Alerts, a)
	return nil
}

// Log implements Host.
func (h *MemoryHost) Log(level int, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Logs = append(h.Logs, msg)
	slog.Debug("analyzer log", "level", level, "msg", msg)
}

// StateGet implements Host.
func (h *MemoryHost) StateGet(key string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.State[key]
	return v, ok
}

// StateSet implements Host; an empty value deletes.
func (h *MemoryHost) StateSet(key string, val []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.State == nil {
		h.State = map[string][]byte{}
	}
	if len(val) == 0 {
		delete(h.State, key)
		return nil
	}
	h.State[key] = bytes.Clone(val)
	return nil
}

// Query implements Host: no query capability natively.
func (h *MemoryHost) Query([]byte) ([]byte, error) { return nil, ErrPermission }

// Snapshot returns a copy of the state.
func (h *MemoryHost) Snapshot() map[string][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.State)
}

func hostLog(level int32, msg string) int32 {
	currentHost().Log(int(level), msg)
	return 0
}

func hostStateGet(key string, buf []byte) int32 {
	v, ok := currentHost().StateGet(key)
	if !ok {
		return int32(abi.StatusNotFound)
	}
	copy(buf, v)
	return int32(len(v))
}

func hostStateSet(key string, val []byte) int32 {
	if err := currentHost().StateSet(key, bytes.Clone(val)); err != nil {
		return int32(abi.StatusLimitExceeded)
	}
	return 0
}

func hostQuery(string) int32     { return int32(abi.StatusPermissionDenied) }
func hostQueryRead([]byte) int32 { return int32(abi.StatusPermissionDenied) }
func hostClockNow() int64        { return int64(abi.StatusPermissionDenied) }
