package runtimetest

import (
	"errors"
	"maps"
	"slices"
	"sync"
)

// Host is a HostHandler that records what guests do. Alerts are also sent
// on the Alerts channel when it is non-nil (tests synchronise on it).
type Host struct {
	mu     sync.Mutex
	alerts []string
	logs   []string
	state  map[string][]byte
	// QueryResult answers Query when non-nil.
	QueryResult []byte
	Alerts      chan string
	// Logs, when non-nil, also receives every log message.
	Logs chan string
}

// EmitAlert implements runtime.HostHandler.
func (h *Host) EmitAlert(raw []byte) error {
	h.mu.Lock()
	h.alerts = append(h.alerts, string(raw))
	ch := h.Alerts
	h.mu.Unlock()
	if ch != nil {
		ch <- string(raw)
	}
	return nil
}

// Log implements runtime.HostHandler.
func (h *Host) Log(level int, msg string) {
	h.mu.Lock()
	h.logs = append(h.logs, msg)
	ch := h.Logs
	h.mu.Unlock()
	if ch != nil {
		ch <- msg
	}
}

// StateGet implements runtime.HostHandler.
func (h *Host) StateGet(key string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.state[key]
	return v, ok
}

// StateSet implements runtime.HostHandler.
func (h *Host) StateSet(key string, val []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		h.state = map[string][]byte{}
	}
	h.state[key] = val
	return nil
}

// Query implements runtime.HostHandler.
func (h *Host) Query(req []byte) ([]byte, error) {
	if h.QueryResult == nil {
		return nil, errors.New("no query result configured")
	}
	return h.QueryResult, nil
}

// AlertList returns the alerts so far.
func (h *Host) AlertList() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.alerts)
}

// LogList returns the logs so far.
func (h *Host) LogList() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.logs)
}

// StateKeys returns the keys stored.
func (h *Host) StateKeys() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.state))
}
