package console

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// webDir is the front end's sources, relative to this package.
const webDir = "../../web"

// sourceFiles lists the inputs of the front-end build as web/build.mjs
// does: build.mjs, package.json, package-lock.json and everything under
// src/, relative to web/ with forward slashes, in byte order.
func sourceFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"build.mjs", "package.json", "package-lock.json"}
	err := filepath.WalkDir(filepath.Join(webDir, "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(webDir, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatalf("walk web/src: %v", err)
	}
	sort.Strings(files)
	return files
}

// TestDistIsFresh fails when web/ changed after dist was built: the binary
// would embed an old console. Fix: web/build.sh, then commit host/console/dist.
func TestDistIsFresh(t *testing.T) {
	var lines strings.Builder
	for _, f := range sourceFiles(t) {
		b, err := os.ReadFile(filepath.Join(webDir, f))
		if err != nil {
			t.Fatalf("read web/%s: %v", f, err)
		}
		fmt.Fprintf(&lines, "%x  %s\n", sha256.Sum256(b), f)
	}
	sum := sha256.Sum256([]byte(lines.String()))
	want := hex.EncodeToString(sum[:])
	got := buildHash()
	if got != want {
		t.Fatalf("host/console/dist is stale: built from web/ sources %q, they now hash to %q.\nRun web/build.sh and commit host/console/dist.\nInputs:\n%s", got, want, lines.String())
	}
}

// TestDistHasAssets checks the embedded build holds what index.html loads.
func TestDistHasAssets(t *testing.T) {
	index, err := dist.ReadFile("dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, asset := range []string{"/assets/app.js", "/assets/style.css"} {
		if !strings.Contains(string(index), asset) {
			t.Errorf("index.html does not load %s", asset)
		}
		if _, err := dist.ReadFile("dist" + asset); err != nil {
			t.Errorf("embedded dist lacks %s: %v", asset, err)
		}
	}
}
