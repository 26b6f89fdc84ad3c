package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime"
)

const toolchainHint = "install the toolchains with `bash sdk/conformance/setup.sh`"

// TestPluginNewBuilds scaffolds a project per language, runs `make` (the
// module with its manifest) and `make test` (the project's own test with
// the SDK harness) in it, and loads the module under the real host runtime.
func TestPluginNewBuilds(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := findRepoRoot(wd)
	if root == "" {
		t.Fatalf("no repository root above %s", wd)
	}
	for _, tool := range []string{"make", "go", "npm", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: %s", tool, toolchainHint)
		}
	}
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	for _, lang := range []string{"go", "rust", "as"} {
		t.Run(lang, func(t *testing.T) {
			name := "spike-" + lang
			dir := filepath.Join(t.TempDir(), name)
			// No --sdk: the checkout is found from the working directory.
			if err := runPluginNew(ctx, []string{"--lang", lang, name, dir}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"Makefile", "README.md", "sample.toml", "manifest.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %s: %v", f, err)
				}
			}
			readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
			if !strings.Contains(string(readme), root) {
				t.Errorf("README does not say where the SDK is (%s)", root)
			}
			for _, target := range [][]string{nil, {"test"}} {
				cmd := exec.Command("make", target...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("make %s in %s: %v (%s)\n%s", strings.Join(target, " "), dir, err, toolchainHint, out)
				}
			}
			wasm, err := os.ReadFile(filepath.Join(dir, name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := abi.ReadManifest(wasm)
			if err != nil {
				t.Fatalf("%s.wasm manifest: %v", name, err)
			}
			if m.Name != name || m.Version != "0.1.0" {
				t.Errorf("manifest name %q version %q", m.Name, m.Version)
			}
			mod, err := rt.Compile(ctx, wasm)
			if err != nil {
				t.Fatalf("%s.wasm does not load: %v", name, err)
			}
			in, err := mod.Instantiate(ctx, runtime.InstanceConfig{Name: "t", Options: []byte(`{"field":"sum_bytes","factor":3}`)})
			if err != nil {
				t.Fatalf("%s.wasm does not start: %v", name, err)
			}
			in.Close(ctx)
		})
	}
}

func TestPluginNewRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "go", "Bad Name", filepath.Join(dir, "x")}, "a module name is"},
		{[]string{"--lang", "cobol", "x", filepath.Join(dir, "x")}, `--lang "cobol"`},
		{[]string{"--lang", "go", "--sdk", dir, "x", filepath.Join(dir, "x")}, "not a Tidemark checkout"},
		{[]string{"--lang", "go", "x", dir + "/.."}, "not empty"},
	} {
		err := runPluginNew(ctx, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("plugin new %v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestIdentifier(t *testing.T) {
	for in, want := range map[string]string{"dns-spike": "DnsSpike", "a_b": "AB", "9lives": "Analyzer9lives", "x": "X"} {
		if got := identifier(in); got != want {
			t.Errorf("identifier(%q) = %q, want %q", in, got, want)
		}
	}
}
