package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/host/runtime/runtimetest"
	"github.com/tidemark/tidemark/registry"
)

func newRuntime(t *testing.T) *runtime.Runtime {
	t.Helper()
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(runtimetest.CompilationCacheDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}

// counter is the ok guest (alert "v=<version> len=<n> calls=<c>") with a
// manifest naming it "counter".
func counter(t *testing.T, version string) []byte {
	t.Helper()
	wasm := runtimetest.Guest(t, "ok", "-X main.version="+version)
	out, err := abi.AppendManifest(wasm, &abi.Manifest{Name: "counter", Version: version + ".0.0", ABI: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writeAtomic replaces a file the way a deploy should: write aside, rename.
func writeAtomic(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type events chan registry.Event

func (ch events) wait(t *testing.T, kind registry.EventKind, path string) registry.Event {
	t.Helper()
	deadline := time.After(5 * time.Minute) // a failure guard, not synchronisation (cold compiles under -race take a minute)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind && ev.Path == path {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event for %s", kind, path)
		}
	}
}

func open(t *testing.T, dir string) (*registry.Registry, events) {
	t.Helper()
	ch := make(events, 64)
	reg, err := registry.Open(context.Background(), registry.Config{
		Dir: dir, Runtime: newRuntime(t), Debounce: 50 * time.Millisecond,
		OnEvent: func(ev registry.Event) { ch <- ev },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(context.Background()) })
	return reg, ch
}

func TestOpenChecksEveryFile(t *testing.T) {
	dir := t.TempDir()
	ok := counter(t, "1")
	files := map[string][]byte{
		"counter.wasm":   ok,
		"truncated.wasm": ok[:len(ok)/3],
		"script.wasm":    []byte("#!/bin/sh\n"),
		"future.wasm":    runtimetest.Guest(t, "abiv2", ""),
		"bare.wasm":      runtimetest.Guest(t, "trap", ""), // no manifest: named after the file
		"notes.txt":      []byte("ignored"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, _ := open(t, dir)
	want := map[string]struct {
		state registry.State
		err   string
	}{
		"counter":   {registry.StateOK, ""},
		"bare":      {registry.StateOK, ""},
		"truncated": {registry.StateFailed, "truncated WebAssembly module"},
		"script":    {registry.StateFailed, "not a WebAssembly module"},
		"future":    {registry.StateFailed, "module needs ABI tidemark_v2, this host provides tidemark_v1"},
	}
	mods := reg.Modules()
	if len(mods) != len(want) {
		t.Fatalf("modules = %+v", mods)
	}
	for _, m := range mods {
		w, found := want[m.Name]
		if !found || m.State != w.state || !strings.Contains(m.Err, w.err) || (w.err == "") != (m.Err == "") {
			t.Errorf("%s: state %s err %q, want %s %q", m.Name, m.State, m.Err, w.state, w.err)
		}
		if m.Name == "counter" && (m.Version != "1.0.0" || m.ABI != "1.0" || len(m.Hash) != 64 || !m.Running) {
			t.Errorf("counter info = %+v", m)
		}
	}
	ctx := context.Background()
	if _, err := reg.Bind(ctx, registry.InstanceSpec{Name: "x", Module: "future"}); !errors.Is(err, registry.ErrUnknownModule) {
		t.Fatalf("bind to a failed module: %v", err)
	}
	h, err := reg.Bind(ctx, registry.InstanceSpec{Name: "c1", Module: "counter", Host: &runtimetest.Host{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Analyze(ctx, []byte("abc")); err != nil {
		t.Fatal(err)
	}
}

// TestHotReload: a new version takes over between two calls with its state
// carried over; a broken replacement leaves the running one; removing the
// file stops the instance.
func TestHotReload(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	path := filepath.Join(dir, "counter.wasm")
	writeAtomic(t, path, counter(t, "1"))
	reg, evs := open(t, dir)
	evs.wait(t, registry.EventLoaded, path)
	host := &runtimetest.Host{}
	h, err := reg.Bind(ctx, registry.InstanceSpec{Name: "c1", Module: "counter", Host: host})
	if err != nil {
		t.Fatal(err)
	}
	watchDone := make(chan error, 1)
	go func() { watchDone <- reg.Watch(ctx) }()

	analyze := func(input, want string) {
		t.Helper()
		if err := h.Analyze(ctx, []byte(input)); err != nil {
			t.Fatal(err)
		}
		got := host.AlertList()
		if got[len(got)-1] != want {
			t.Fatalf("alert = %q, want %q", got[len(got)-1], want)
		}
	}
	analyze("a", "v=1 len=1 calls=1")
	analyze("ab", "v=1 len=2 calls=2")

	// new version: staged, switched at the start of the next call, state kept
	v2 := counter(t, "2")
	writeAtomic(t, path, v2)
	ev := evs.wait(t, registry.EventReloaded, path)
	if ev.Name != "counter" || len(ev.Hash) != 64 {
		t.Fatalf("reload event = %+v", ev)
	}
	analyze("abc", "v=2 len=3 calls=3")
	if h.ModuleHash() != ev.Hash {
		t.Fatalf("handle runs %s, want %s", h.ModuleHash(), ev.Hash)
	}
	if got := len(host.AlertList()); got != 3 {
		t.Fatalf("%d alerts for 3 windows", got)
	}

	// broken replacement: the old one keeps running, the failure is listed
	writeAtomic(t, path, v2[:len(v2)/2])
	ev = evs.wait(t, registry.EventFailed, path)
	if !errors.Is(ev.Err, runtime.ErrTruncated) {
		t.Fatalf("failure = %v", ev.Err)
	}
	analyze("abcd", "v=2 len=4 calls=4")
	mods := reg.Modules()
	if len(mods) != 1 || mods[0].State != registry.StateFailed || !mods[0].Running || !strings.Contains(mods[0].Err, "truncated") ||
		len(mods[0].Instances) != 1 || mods[0].Instances[0].Stats.Reloads != 1 {
		t.Fatalf("modules = %+v", mods)
	}

	// a replacement whose init fails (trap guest has no state, init is fine;
	// the abiv2 guest fails its ABI check) also keeps the old one
	writeAtomic(t, path, runtimetest.Guest(t, "abiv2", ""))
	evs.wait(t, registry.EventFailed, path)
	analyze("abcde", "v=2 len=5 calls=5")

	// removal stops the instance
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	evs.wait(t, registry.EventRemoved, path)
	if err := h.Analyze(ctx, []byte("x")); !errors.Is(err, registry.ErrRemoved) {
		t.Fatalf("after removal: %v", err)
	}
	if mods := reg.Modules(); len(mods) != 0 {
		t.Fatalf("modules after removal = %+v", mods)
	}
	cancel()
	if err := <-watchDone; err != nil {
		t.Fatal(err)
	}
}

func TestBindChecksManifestCapabilities(t *testing.T) {
	dir := t.TempDir()
	wasm, err := abi.AppendManifest(runtimetest.Guest(t, "query", ""),
		&abi.Manifest{Name: "asker", Version: "1.0.0", ABI: "1.0", Capabilities: []string{"query", "clock"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "asker.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	reg, _ := open(t, dir)
	ctx := context.Background()
	if _, err := reg.Bind(ctx, registry.InstanceSpec{Name: "a", Module: "asker", Capabilities: []string{"clock"}}); err == nil || !strings.Contains(err.Error(), `needs capability "query"`) {
		t.Fatalf("bind without query: %v", err)
	}
	host := &runtimetest.Host{QueryResult: []byte("42")}
	h, err := reg.Bind(ctx, registry.InstanceSpec{Name: "b", Module: "asker", Capabilities: []string{"query", "clock"}, Host: host})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := host.AlertList(); len(got) != 1 || got[0] != "42" {
		t.Fatalf("alerts = %q", got)
	}
	if mods := reg.Modules(); len(mods) != 1 || len(mods[0].Instances) != 1 || mods[0].Instances[0].Stats.Calls != 1 {
		t.Fatalf("modules = %+v", mods)
	}
}

// TestParkedThenReloaded: an instance that keeps failing is parked and
// listed so; a new file un-parks it.
func TestParkedThenReloaded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	path := filepath.Join(dir, "flaky.wasm")
	writeAtomic(t, path, runtimetest.Guest(t, "trap", ""))
	evs := make(events, 64)
	reg, err := registry.Open(ctx, registry.Config{
		Dir: dir, Runtime: newRuntime(t), Debounce: 50 * time.Millisecond,
		Supervisor: runtime.NewSupervisorConfig().WithMaxFailures(1),
		OnEvent:    func(ev registry.Event) { evs <- ev },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close(ctx)
	h, err := reg.Bind(ctx, registry.InstanceSpec{Name: "f", Module: "flaky", Host: &runtimetest.Host{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Analyze(ctx, []byte("x")); !errors.Is(err, runtime.ErrTrap) {
		t.Fatalf("first call: %v", err)
	}
	if err := h.Analyze(ctx, []byte("x")); !errors.Is(err, runtime.ErrParked) {
		t.Fatalf("second call: %v", err)
	}
	if mods := reg.Modules(); mods[0].State != registry.StateParked {
		t.Fatalf("modules = %+v", mods)
	}
	go reg.Watch(ctx)
	writeAtomic(t, path, runtimetest.Guest(t, "ok", ""))
	evs.wait(t, registry.EventReloaded, path)
	if err := h.Analyze(ctx, []byte("x")); err != nil {
		t.Fatalf("after reload: %v", err)
	}
	if mods := reg.Modules(); mods[0].State != registry.StateOK {
		t.Fatalf("modules = %+v", mods)
	}
}
