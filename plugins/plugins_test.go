// Package plugins_test checks that every built-in analyzer directory is
// complete and consistent: manifest, README, sample config, golden files.
package plugins_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/tidemark/tidemark/abi"
)

func TestEveryAnalyzerIsComplete(t *testing.T) {
	dirs, err := filepath.Glob("*/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 6 {
		t.Fatalf("found %d analyzers, want at least 6", len(dirs))
	}
	for _, mf := range dirs {
		dir := filepath.Dir(mf)
		t.Run(dir, func(t *testing.T) {
			js, err := os.ReadFile(mf)
			if err != nil {
				t.Fatal(err)
			}
			m, err := abi.ParseManifest(js)
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != dir {
				t.Errorf("manifest name %q, directory %q: build.sh names the file after the directory", m.Name, dir)
			}
			for _, f := range []string{"main.go", "README.md", "testdata/windows.bin", "testdata/alerts.json", "testdata/options.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %s", f)
				}
			}
			raw, err := os.ReadFile(filepath.Join(dir, "sample.toml"))
			if err != nil {
				t.Fatal(err)
			}
			var sample struct {
				Analyzer []struct {
					Module  string         `toml:"module"`
					Name    string         `toml:"name"`
					Options map[string]any `toml:"options"`
				} `toml:"analyzer"`
			}
			if err := toml.Unmarshal(raw, &sample); err != nil {
				t.Fatalf("sample.toml: %v", err)
			}
			if len(sample.Analyzer) == 0 {
				t.Fatal("sample.toml has no [[analyzer]] block")
			}
			for _, a := range sample.Analyzer {
				if a.Module != m.Name {
					t.Errorf("sample.toml module %q, want %q", a.Module, m.Name)
				}
				if err := m.CheckOptions(a.Options); err != nil {
					t.Errorf("sample.toml options: %v", err)
				}
			}
		})
	}
}
