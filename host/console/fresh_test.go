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

// sourceHash is what web/build.mjs writes to dist/BUILD_HASH.
func sourceHash(t *testing.T, webDir string) (hash, inputs string) {
	t.Helper()
	var lines strings.Builder
	for _, f := range sourceFiles(t, webDir) {
		b, err := os.ReadFile(filepath.Join(webDir, f))
		if err != nil {
			t.Fatalf("read web/%s: %v", f, err)
		}
		fmt.Fprintf(&lines, "%x  %s\n", sha256.Sum256(b), f)
	}
	sum := sha256.Sum256([]byte(lines.String()))
	return hex.EncodeToString(sum[:]), lines.String()
}

// sourceFiles lists the inputs of the front-end build as web/build.mjs
// does: build.mjs, package.json, package-lock.json and everything under
// src/, relative to web/ with forward slashes, in byte order.
func sourceFiles(t *testing.T, webDir string) []string {
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
	want, inputs := sourceHash(t, webDir)
	got := buildHash()
	if got != want {
		t.Fatalf("host/console/dist is stale: built from web/ sources %q, they now hash to %q.\nRun web/build.sh and commit host/console/dist.\nInputs:\n%s", got, want, inputs)
	}
}

// TestSourceHashSeesChanges: an edit, a new file and a rename under src/
// and a lockfile change each change the hash; node_modules does not.
func TestSourceHashSeesChanges(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"build.mjs", "package.json", "package-lock.json", "src/main.ts", "src/pages/a.ts"} {
		write(f, f)
	}
	seen := map[string]string{}
	step := func(what string) {
		t.Helper()
		h, _ := sourceHash(t, dir)
		if prev, dup := seen[h]; dup {
			t.Fatalf("%s: hash unchanged since %s", what, prev)
		}
		seen[h] = what
	}
	step("start")
	write("src/pages/a.ts", "changed")
	step("edit")
	write("src/pages/b.ts", "new")
	step("new file")
	if err := os.Rename(filepath.Join(dir, "src/pages/b.ts"), filepath.Join(dir, "src/pages/c.ts")); err != nil {
		t.Fatal(err)
	}
	step("rename")
	write("package-lock.json", "upgraded")
	step("lockfile")
	before, _ := sourceHash(t, dir)
	write("node_modules/x/index.js", "dependency")
	write("e2e/console.test.mjs", "test")
	if after, _ := sourceHash(t, dir); after != before {
		t.Fatal("node_modules or e2e changed the build hash")
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
