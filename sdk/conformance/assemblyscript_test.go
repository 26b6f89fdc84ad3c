package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
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
