//go:build !wasip1

package tmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tidemark/tidemark/abi"
)

var buildMu sync.Mutex // one build at a time: shared cores

// Build compiles the Go analyzer in dir (a main package using this SDK) with
// GOOS=wasip1 GOARCH=wasm -buildmode=c-shared and appends dir/manifest.json
// when present. Results are cached by a hash of the sources (dir, the SDK
// and abi), so only the first run pays for the build.
func Build(tb testing.TB, dir string) []byte {
	tb.Helper()
	b, err := BuildDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BuildDir is Build without a testing.TB.
func BuildDir(dir string) ([]byte, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// Hash every package of this module the analyzer depends on.
	list := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", ".")
	list.Dir = dir
	list.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	deps, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", dir, err)
	}
	h := sha256.New()
	fmt.Fprintln(h, goruntime.Version())
	for _, d := range strings.Fields(string(deps)) {
		if err := hashDir(h, d); err != nil {
			return nil, err
		}
	}
	key := hex.EncodeToString(h.Sum(nil))[:20]
	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		cacheRoot = os.TempDir()
	}
	cacheDir := filepath.Join(cacheRoot, "tidemark-analyzers")
	out := filepath.Join(cacheDir, filepath.Base(dir)+"-"+key+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp := out + fmt.Sprintf(".%d.tmp", os.Getpid())
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %v\n%s", dir, err, msg)
	}
	defer os.Remove(tmp)
	wasm, err := os.ReadFile(tmp)
	if err != nil {
		return nil, err
	}
	if js, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		m, err := abi.ParseManifest(js)
		if err != nil {
			return nil, fmt.Errorf("%s/manifest.json: %w", dir, err)
		}
		if wasm, err = abi.AppendManifest(wasm, m); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(tmp, wasm, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return wasm, nil
}

// hashDir hashes the non-test .go files and manifest.json of one package dir.
func hashDir(h io.Writer, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries { // ReadDir sorts by name
		n := e.Name()
		if e.IsDir() || !((strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go")) || n == "manifest.json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		fmt.Fprintln(h, dir, n, len(b))
		h.Write(b)
	}
	return nil
}
