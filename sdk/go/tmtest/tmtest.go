//go:build !wasip1

// Package tmtest runs Tidemark analyzers in go test: a built .wasm under the
// real host runtime (host/runtime, the same wazero setup, limits and host
// functions as production), or an Analyzer natively for fast unit tests.
// Both return the alerts as abi.Alert, so one test can check both.
package tmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime"
	tm "github.com/tidemark/tidemark/sdk/go"
)

// Host records what an analyzer does: alerts of the current call, logs, and
// state (kept across instances, as the real host keeps it across reloads).
// It implements runtime.HostHandler and tm.Host.
type Host struct {
	mu     sync.Mutex
	alerts []abi.Alert
	logs   []string
	state  map[string][]byte
	total  int
}

// EmitAlert decodes and records an alert.
func (h *Host) EmitAlert(raw []byte) error {
	a, err := abi.DecodeAlert(raw)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alerts = append(h.alerts, a)
	return nil
}

// Log records a log line.
func (h *Host) Log(level int, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, msg)
}

// StateGet returns a stored value.
func (h *Host) StateGet(key string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.state[key]
	return v, ok
}

// StateSet stores a copy of val; an empty val deletes. It enforces the ABI
// limits so tests see what production would refuse.
func (h *Host) StateSet(key string, val []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		h.state = map[string][]byte{}
	}
	if len(val) == 0 {
		if old, ok := h.state[key]; ok {
			h.total -= len(key) + len(old)
			delete(h.state, key)
		}
		return nil
	}
	newTotal := h.total + len(key) + len(val)
	if old, ok := h.state[key]; ok {
		newTotal -= len(key) + len(old)
	}
	if len(key) > abi.MaxStateKey || len(val) > abi.MaxStateValue || newTotal > abi.MaxStateTotal {
		return fmt.Errorf("state %q: %w", key, errLimit)
	}
	h.state[key] = bytes.Clone(val)
	h.total = newTotal
	return nil
}

var errLimit = errors.New("state limit exceeded")

// Query refuses: no query capability in tests.
func (h *Host) Query([]byte) ([]byte, error) { return nil, errors.New("tmtest: no query capability") }

// State returns a copy of the stored state.
func (h *Host) State() map[string][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.state)
}

// Logs returns the log lines so far.
func (h *Host) Logs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.logs...)
}

func (h *Host) takeAlerts() []abi.Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.alerts
	h.alerts = nil
	return a
}

// Instance is a module instance running under host/runtime.
type Instance struct {
	Host     *Host
	Manifest *abi.Manifest
	rt       *runtime.Runtime
	mod      *runtime.Module
	inst     *runtime.Instance
	buf      []byte
}

// Start compiles wasm under the production runtime (default memory limit
// and call timeout), validates opts against its manifest (when it has one)
// and initialises an instance. Everything is closed at the end of the test.
func Start(tb testing.TB, wasm []byte, opts map[string]any) *Instance {
	tb.Helper()
	return StartWithHost(tb, wasm, opts, &Host{})
}

// StartWithHost is Start with a given Host, e.g. one carrying state from an
// earlier instance.
func StartWithHost(tb testing.TB, wasm []byte, opts map[string]any, h *Host) *Instance {
	tb.Helper()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	cfg := runtime.NewConfig().WithLogger(logger)
	if dir, err := os.UserCacheDir(); err == nil {
		// Compiled code cached by content hash, as in production.
		cfg = cfg.WithCacheDir(filepath.Join(dir, "tidemark-tmtest-wazero"))
	}
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Compile(ctx, wasm)
	if err != nil {
		tb.Fatal(err)
	}
	in := &Instance{Host: h, rt: rt, mod: mod}
	optJSON := []byte("{}")
	if m, err := abi.ReadManifest(wasm); err == nil {
		in.Manifest = m
		if optJSON, err = m.OptionsJSON(opts); err != nil {
			tb.Fatalf("options: %v", err)
		}
	} else if !errors.Is(err, abi.ErrNoManifest) {
		tb.Fatal(err)
	} else if len(opts) > 0 {
		tb.Fatal("tmtest: module has no manifest to check options against")
	}
	in.inst, err = mod.Instantiate(ctx, runtime.InstanceConfig{Name: "tmtest", Options: optJSON, Host: h})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.inst.Close(ctx) })
	return in
}

// Analyze runs one window and returns the alerts the guest emitted.
func (in *Instance) Analyze(input *abi.Input) ([]abi.Alert, error) {
	in.buf = input.Encode(in.buf[:0])
	return in.AnalyzeBytes(in.buf)
}

// AnalyzeBytes runs one window given as an encoded input.
func (in *Instance) AnalyzeBytes(b []byte) ([]abi.Alert, error) {
	in.Host.takeAlerts()
	err := in.inst.Analyze(context.Background(), b)
	alerts := in.Host.takeAlerts()
	if err != nil {
		return nil, err // the host discards a failed call's alerts
	}
	return alerts, nil
}

// Reload hot-reloads to wasm the way the host does: the new module is
// started (sharing the Host), the old one saves its state, the new one
// loads it.
func (in *Instance) Reload(tb testing.TB, wasm []byte, opts map[string]any) *Instance {
	tb.Helper()
	next := StartWithHost(tb, wasm, opts, in.Host)
	blob, ok, err := in.inst.SaveState(context.Background())
	if err != nil {
		tb.Fatalf("state save: %v", err)
	}
	if ok && len(blob) > 0 {
		if _, err := next.inst.LoadState(context.Background(), blob); err != nil {
			tb.Fatalf("state load: %v", err)
		}
	}
	in.inst.Close(context.Background())
	return next
}

// Native runs an Analyzer in-process through the SDK's Go types: the same
// encoding, decoding and alert checks as in wasm, without a build.
type Native struct {
	Host     *Host
	analyzer tm.Analyzer
	buf      []byte
	view     abi.View
}

// NewNative validates opts against manifestJSON (if not nil) and calls
// a.Init with them.
func NewNative(tb testing.TB, a tm.Analyzer, manifestJSON []byte, opts map[string]any) *Native {
	tb.Helper()
	n := &Native{Host: &Host{}, analyzer: a}
	if manifestJSON != nil {
		m, err := abi.ParseManifest(manifestJSON)
		if err != nil {
			tb.Fatal(err)
		}
		if opts, err = m.ResolveOptions(opts); err != nil {
			tb.Fatalf("options: %v", err)
		}
	}
	// Through JSON, as the guest receives them.
	js, err := jsonMarshal(opts)
	if err != nil {
		tb.Fatal(err)
	}
	o, err := tm.ParseOptions(js)
	if err != nil {
		tb.Fatal(err)
	}
	restore := tm.UseHost(n.Host)
	defer restore()
	if err := a.Init(o); err != nil {
		tb.Fatalf("init: %v", err)
	}
	return n
}

// Analyze runs one window and returns the alerts.
func (n *Native) Analyze(input *abi.Input) ([]abi.Alert, error) {
	restore := tm.UseHost(n.Host)
	defer restore()
	n.buf = input.Encode(n.buf[:0])
	if err := n.view.Reset(n.buf); err != nil {
		return nil, err
	}
	var alerts []abi.Alert
	out := tm.NewEmitter(n.view.NumSeries(), n.view.NumFields(), func(a *abi.Alert) error {
		// Through the wire format, as the host receives them.
		got, err := abi.DecodeAlert(a.AppendEncode(nil))
		if err != nil {
			return err
		}
		alerts = append(alerts, got)
		return nil
	})
	if err := n.analyzer.Analyze(tm.NewInput(&n.view), out); err != nil {
		return nil, err
	}
	return alerts, nil
}
