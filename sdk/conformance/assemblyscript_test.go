package conformance

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tidemark/tidemark/host/runtime"
)

// TestAssemblyScriptSDK runs the AS SDK's own node tests (every golden vector
// decoded by the SDK compiled to wasm, alert encoding, options, the JS test
// harness), so `go test` covers the SDK that has no Go code.
func TestAssemblyScriptSDK(t *testing.T) {
	pkg := filepath.Join(repoRoot(), "sdk", "assemblyscript")
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("npm not found: %s", setupHint)
	}
	if _, err := os.Stat(filepath.Join(pkg, "node_modules", "assemblyscript", "package.json")); err != nil {
		t.Fatalf("AssemblyScript compiler not installed in sdk/assemblyscript/node_modules: %s", setupHint)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	cmd := exec.Command("npm", "test")
	cmd.Dir = pkg
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm test in sdk/assemblyscript: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^# pass (\d+)$`).FindSubmatch(out)
	if m == nil || string(m[1]) == "0" {
		t.Fatalf("npm test ran no test:\n%s", out)
	}
	t.Logf("sdk/assemblyscript: %s node tests passed", m[1])
}

// TestAssemblyScriptUnderHost runs the AS SDK's test module under the real
// host: init with options, analyze of a golden vector, emit through the
// host's checks, and the hot-reload hand-over (state_save writes key "",
// state_load reads it).
func TestAssemblyScriptUnderHost(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	m := compileModule(t, rt, "assemblyscript-harness", buildASHarness(t))
	c := &collector{}
	in, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "as", Options: []byte(`{"k":1}`), Host: c})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	input, err := os.ReadFile(filepath.Join(repoRoot(), "abi", "testdata", "large.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Analyze(ctx, input); err != nil {
		t.Fatalf("analyze: %v (logs %v)", err, c.logs)
	}
	blob, ok, err := in.SaveState(ctx)
	if err != nil || !ok || string(blob) != `{"k":1}` {
		t.Fatalf("SaveState = %q, %v, %v; want the options JSON", blob, ok, err)
	}
	next, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "as2", Options: []byte(`{}`), Host: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close(ctx)
	if ok, err := next.LoadState(ctx, blob); err != nil || !ok {
		t.Fatalf("LoadState = %v, %v", ok, err)
	}
	// A malformed input is refused with INVALID_ARGUMENT and a log line, not a trap.
	err = next.Analyze(ctx, input[:100])
	var ce *runtime.CallError
	if !errors.As(err, &ce) || ce.Kind != runtime.ErrGuestStatus || ce.Status != -1 {
		t.Fatalf("analyze of a truncated input: %v, want guest status -1", err)
	}
	if err := next.Analyze(ctx, input); err != nil {
		t.Fatalf("the instance is kept after a guest error, but: %v", err)
	}
}
