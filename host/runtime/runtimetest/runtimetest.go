// Package runtimetest builds the test guests under host/runtime/testdata/guests
// (Go, GOOS=wasip1, -buildmode=c-shared) for tests of the runtime and of its
// users. Builds are cached by source hash under the user cache dir, so only
// the first run pays the few seconds per guest.
package runtimetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

var mu sync.Mutex // one build at a time: the machine has two shared cores

// GuestsDir is the directory holding one folder per guest.
func GuestsDir() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "guests")
}

// CompilationCacheDir is a wazero compilation cache shared by test runs.
func CompilationCacheDir() string {
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	return filepath.Join(root, "tidemark-test-wazero")
}

// Guest returns the wasm of testdata/guests/<name>, built with the given
// -ldflags (e.g. "-X main.version=2" to get a distinct module).
func Guest(tb testing.TB, name string, ldflags string) []byte {
	tb.Helper()
	b, err := Build(name, ldflags)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Build is Guest without a testing.TB.
func Build(name, ldflags string) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	dir := filepath.Join(GuestsDir(), name)
	key, err := sourceHash(dir, ldflags)
	if err != nil {
		return nil, err
	}
	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		cacheRoot = os.TempDir()
	}
	cacheDir := filepath.Join(cacheRoot, "tidemark-test-guests")
	out := filepath.Join(cacheDir, name+"-"+key[:16]+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp := out + ".tmp"
	args := []string{"build", "-buildmode=c-shared", "-o", tmp}
	if ldflags != "" {
		args = append(args, "-ldflags="+ldflags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build guest %s: %v\n%s", name, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

func sourceHash(dir, ldflags string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, goruntime.Version(), ldflags)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("guest %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
