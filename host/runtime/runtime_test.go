package runtime_test

import (
	"context"
	"errors"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/host/runtime/runtimetest"
)

// newRuntime shares an on-disk compilation cache between test runs: the
// test guests are 2 MB Go modules that take over a second each to compile.
func newRuntime(t testing.TB, cfg runtime.Config) *runtime.Runtime {
	t.Helper()
	ctx := context.Background()
	rt, err := runtime.New(ctx, cfg.WithCacheDir(runtimetest.CompilationCacheDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}

func compile(t testing.TB, rt *runtime.Runtime, guest string) *runtime.Module {
	t.Helper()
	m, err := rt.Compile(context.Background(), runtimetest.Guest(t, guest, ""))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func instantiate(t testing.TB, m *runtime.Module, ic runtime.InstanceConfig) *runtime.Instance {
	t.Helper()
	if ic.Name == "" {
		ic.Name = "test"
	}
	in, err := m.Instantiate(context.Background(), ic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	return in
}

// section and wasmModule assemble tiny hand-written modules.
func section(id byte, payload ...byte) []byte {
	return append(append([]byte{id}, uleb(len(payload))...), payload...)
}

func uleb(v int) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func name(s string) []byte { return append(uleb(len(s)), s...) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// unreachableModule exports memory, tidemark_init (returns 0) and
// tidemark_analyze, which returns 0 for an empty input and executes
// `unreachable` otherwise.
func unreachableModule() []byte {
	return cat(
		[]byte{0, 'a', 's', 'm', 1, 0, 0, 0},
		section(1, 1, 0x60, 1, 0x7f, 1, 0x7f),
		section(3, 2, 0, 0),
		section(5, 1, 0, 1),
		section(7, cat([]byte{3},
			name("memory"), []byte{2, 0},
			name("tidemark_init"), []byte{0, 0},
			name("tidemark_analyze"), []byte{0, 1})...),
		section(10, cat([]byte{2},
			[]byte{4, 0, 0x41, 0, 0x0b},
			// local.get 0; i32.eqz; if (result i32) i32.const 0 else unreachable end
			[]byte{12, 0, 0x20, 0, 0x45, 0x04, 0x7f, 0x41, 0, 0x05, 0x00, 0x0b, 0x0b})...),
	)
}

func TestCompileErrors(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig())
	ctx := context.Background()
	ok := runtimetest.Guest(t, "ok", "")
	noAnalyze := cat([]byte{0, 'a', 's', 'm', 1, 0, 0, 0}, section(5, 1, 0, 1), section(7, cat([]byte{1}, name("memory"), []byte{2, 0})...))
	// tidemark_analyze takes no argument
	wrongSignature := cat(
		[]byte{0, 'a', 's', 'm', 1, 0, 0, 0},
		section(1, 2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 1, 0x7f),
		section(3, 2, 0, 1),
		section(5, 1, 0, 1),
		section(7, cat([]byte{3}, name("memory"), []byte{2, 0}, name("tidemark_init"), []byte{0, 0}, name("tidemark_analyze"), []byte{0, 1})...),
		section(10, 2, 4, 0, 0x41, 0, 0x0b, 4, 0, 0x41, 0, 0x0b),
	)
	for _, tc := range []struct {
		name string
		wasm []byte
		is   error
		msg  string
	}{
		{"truncated", ok[:len(ok)/2], runtime.ErrTruncated, "truncated WebAssembly module"},
		{"not wasm", []byte("#!/bin/sh\necho this is a shell script\n"), runtime.ErrNotWasm, "not a WebAssembly module"},
		{"empty", nil, runtime.ErrNotWasm, "not a WebAssembly module"},
		{"abi v2", runtimetest.Guest(t, "abiv2", ""), runtime.ErrABI, "module needs ABI tidemark_v2, this host provides tidemark_v1"},
		{"no analyze", noAnalyze, runtime.ErrMissingExport, `missing required export "tidemark_analyze"`},
		{"wrong signature", wrongSignature, runtime.ErrABI, "export tidemark_analyze has signature () -> (i32), the ABI needs (i32) -> (i32)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rt.Compile(ctx, tc.wasm)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.msg)
			}
		})
	}
}

func TestModuleInfo(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig())
	m := compile(t, rt, "ok")
	if len(m.Hash()) != 64 {
		t.Fatalf("hash = %q", m.Hash())
	}
	for _, want := range []string{"tidemark_init", "tidemark_analyze", "tidemark_state_save", "tidemark_state_load", "_initialize"} {
		if !strings.Contains(strings.Join(m.Exports(), ","), want) {
			t.Errorf("exports %v lack %s", m.Exports(), want)
		}
	}
	if !strings.Contains(strings.Join(m.Imports(), ","), "tidemark_v1.input_read") {
		t.Errorf("imports = %v", m.Imports())
	}
	if !m.HasStateTransfer() {
		t.Error("ok guest should support state transfer")
	}
}

func TestAnalyzeEmitsAlertAndCarriesState(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig())
	m := compile(t, rt, "ok")
	host := &runtimetest.Host{}
	in := instantiate(t, m, runtime.InstanceConfig{Name: "a", Options: []byte("{}"), Host: host})
	ctx := context.Background()
	for _, input := range []string{"hello", "", strings.Repeat("x", 250_000)} {
		if err := in.Analyze(ctx, []byte(input)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"v=1 len=5 calls=1", "v=1 len=0 calls=2", "v=1 len=250000 calls=3"}
	if got := host.AlertList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("alerts = %q, want %q", got, want)
	}
	blob, ok, err := in.SaveState(ctx)
	if err != nil || !ok || string(blob) != "3" {
		t.Fatalf("SaveState = %q %v %v", blob, ok, err)
	}
	in2 := instantiate(t, m, runtime.InstanceConfig{Name: "b", Host: host})
	if ok, err := in2.LoadState(ctx, blob); err != nil || !ok {
		t.Fatalf("LoadState = %v %v", ok, err)
	}
	if err := in2.Analyze(ctx, []byte("z")); err != nil {
		t.Fatal(err)
	}
	if got := host.AlertList(); got[len(got)-1] != "v=1 len=1 calls=4" {
		t.Fatalf("after state load: %q", got[len(got)-1])
	}
}

// TestFailuresClassified runs each misbehaving guest: the call fails with its
// own error kind, the instance refuses further calls, and a new instance of
// the same compiled module works.
func TestFailuresClassified(t *testing.T) {
	// the loop guest gets a short deadline; the others a long one, so that
	// growing to the memory cap on a loaded machine is not a timeout
	rt := newRuntime(t, runtime.NewConfig().WithCallTimeout(5*time.Second))
	short := newRuntime(t, runtime.NewConfig().WithCallTimeout(100*time.Millisecond))
	ctx := context.Background()
	unreachable, err := rt.Compile(ctx, unreachableModule())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		guest  string
		module *runtime.Module
		kind   error
		detail string
	}{
		{"loop", compile(t, short, "loop"), runtime.ErrTimeout, "deadline of 100ms passed"},
		{"grow", compile(t, rt, "grow"), runtime.ErrMemoryExhausted, "out of memory"},
		{"trap", compile(t, rt, "trap"), runtime.ErrTrap, "nil pointer dereference"},
		{"unreachable", unreachable, runtime.ErrTrap, "unreachable"},
	} {
		t.Run(tc.guest, func(t *testing.T) {
			in := instantiate(t, tc.module, runtime.InstanceConfig{Name: tc.guest})
			err := in.Analyze(ctx, []byte("go"))
			var ce *runtime.CallError
			if !errors.Is(err, tc.kind) || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.kind, tc.detail)
			}
			if err := in.Analyze(ctx, nil); !errors.Is(err, runtime.ErrClosed) {
				t.Fatalf("call after failure: err = %v, want ErrClosed", err)
			}
			again := instantiate(t, tc.module, runtime.InstanceConfig{Name: tc.guest + "-2"})
			if err := again.Analyze(ctx, nil); err != nil {
				t.Fatalf("recreated instance: %v", err)
			}
		})
	}
}

func TestQueryNeedsCapability(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig())
	m := compile(t, rt, "query")
	ctx := context.Background()
	host := &runtimetest.Host{QueryResult: []byte("rows")}

	denied := instantiate(t, m, runtime.InstanceConfig{Name: "denied", Host: host})
	err := denied.Analyze(ctx, nil)
	var ce *runtime.CallError
	if !errors.As(err, &ce) || ce.Kind != runtime.ErrGuestStatus || ce.Status != runtime.StatusPermission {
		t.Fatalf("err = %v, want guest status PERMISSION_DENIED", err)
	}
	if err := denied.Analyze(ctx, nil); !errors.Is(err, runtime.ErrGuestStatus) {
		t.Fatalf("a guest status leaves the instance usable; err = %v", err)
	}

	queryOnly := instantiate(t, m, runtime.InstanceConfig{Name: "noclock", Capabilities: []string{runtime.CapQuery}, Host: host})
	if err := queryOnly.Analyze(ctx, nil); !errors.As(err, &ce) || ce.Status != runtime.StatusPermission {
		t.Fatalf("clock_now without the clock capability: err = %v", err)
	}

	granted := instantiate(t, m, runtime.InstanceConfig{Name: "granted", Capabilities: []string{runtime.CapQuery, runtime.CapClock}, Host: host})
	if err := granted.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := host.AlertList(); len(got) != 1 || got[0] != "rows" {
		t.Fatalf("alerts = %q", got)
	}
	if _, err := m.Instantiate(ctx, runtime.InstanceConfig{Name: "x", Capabilities: []string{"network"}}); err == nil {
		t.Fatal("unknown capability accepted")
	}
}

func TestHostFunctionsBoundsCheck(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig())
	host := &runtimetest.Host{}
	in := instantiate(t, compile(t, rt, "bounds"), runtime.InstanceConfig{Name: "b", Host: host})
	if err := in.Analyze(context.Background(), []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	if got := host.AlertList(); len(got) != 1 || got[0] != "-2,-2,-2" {
		t.Fatalf("alerts = %q, want OUT_OF_BOUNDS from input_read, emit_alert, log", got)
	}
}

func TestOutputCapturedAndBounded(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig())
	in := instantiate(t, compile(t, rt, "trap"), runtime.InstanceConfig{Name: "t"})
	_ = in.Analyze(context.Background(), []byte("x"))
	out := string(in.Output())
	if !strings.Contains(out, "panic: runtime error") || len(out) > 16<<10 {
		t.Fatalf("output (%d bytes) = %q", len(out), out)
	}
}

// TestGuestLoopDoesNotBlockGC: compiled wasm cannot be preempted, so a
// guest spinning in a loop would hold up every stop-the-world (and the
// deadline timer behind it) if the checks did not yield to Go.
func TestGuestLoopDoesNotBlockGC(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig().WithCallTimeout(3*time.Second))
	host := &runtimetest.Host{Logs: make(chan string, 1)}
	in := instantiate(t, compile(t, rt, "loop"), runtime.InstanceConfig{Name: "spin", Host: host})
	done := make(chan error, 1)
	go func() { done <- in.Analyze(context.Background(), []byte("x")) }()
	if msg := <-host.Logs; msg != "looping" {
		t.Fatalf("log = %q", msg)
	}
	goruntime.GC() // must complete while the guest spins
	select {
	case err := <-done:
		t.Fatalf("GC waited for the guest call to end (%v)", err)
	default:
	}
	if err := <-done; !errors.Is(err, runtime.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
}
