package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/pipeline"
)

// findModule returns the manifest of the module named name in dir: the
// file name.wasm, or else a file whose manifest has that name.
func findModule(dir, name string) (*abi.Manifest, string, error) {
	path := filepath.Join(dir, name+".wasm")
	if b, err := os.ReadFile(path); err == nil {
		m, err := abi.ReadManifest(b)
		if errors.Is(err, abi.ErrNoManifest) {
			return nil, path, nil
		}
		return m, path, err
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if m, err := abi.ReadManifest(b); err == nil && m.Name == name {
			return m, p, nil
		}
	}
	return nil, "", os.ErrNotExist
}

// checkAnalyzers checks each [[analyzer]] against its module's manifest:
// the module exists, its options satisfy the option schema, the
// capabilities it needs are granted, and the fields it reads are written by
// its pipeline.
func checkAnalyzers(cfg *config.Config, plan *pipeline.Plan, allowMissing bool) (config.Errors, []string) {
	var errs config.Errors
	var warnings []string
	for i, a := range cfg.Analyzer {
		at := func(k string) string { return fmt.Sprintf("analyzer[%d].%s", i, k) }
		if plan != nil {
			for _, p := range plan.Pipes {
				if p.Name != a.Pipeline {
					continue
				}
				var written []string
				for _, ag := range p.Window.Aggs {
					written = append(written, ag.Name)
				}
				for j, f := range a.Fields {
					if !slices.Contains(written, f) {
						msg := fmt.Sprintf("pipeline %q writes no field %q", p.Name, f)
						if s := config.Suggest(f, written); s != "" {
							msg += fmt.Sprintf(" (did you mean %q?)", s)
						}
						errs = append(errs, cfg.Errorf(fmt.Sprintf("analyzer[%d].fields[%d]", i, j), "%s", msg))
					}
				}
			}
		}
		man, path, err := findModule(cfg.Plugins.Dir, a.Module)
		switch {
		case errors.Is(err, os.ErrNotExist):
			msg := fmt.Sprintf("no module %q in plugins dir %q (run `make plugins`, or drop %s.wasm there)", a.Module, cfg.Plugins.Dir, a.Module)
			if allowMissing {
				warnings = append(warnings, at("module")+": "+msg)
			} else {
				errs = append(errs, cfg.Errorf(at("module"), "%s", msg))
			}
			continue
		case err != nil:
			errs = append(errs, cfg.Errorf(at("module"), "%s: %v", path, err))
			continue
		case man == nil:
			warnings = append(warnings, fmt.Sprintf("%s: %s has no manifest; options are not checked", at("module"), path))
			continue
		}
		if err := man.CheckOptions(a.Options); err != nil {
			for _, e := range flatten(err) {
				errs = append(errs, cfg.Errorf(at("options"), "%s", e.Error()))
			}
		}
		for _, c := range man.Capabilities {
			if !slices.Contains(a.Capabilities, c) {
				errs = append(errs, cfg.Errorf(at("capabilities"), "module %s needs capability %q; grant it with capabilities = [%q]", a.Module, c, c))
			}
		}
		if man.History && a.History == "" && a.Offset == "" {
			warnings = append(warnings, fmt.Sprintf("%s: module %s reads history but the instance declares none (history = \"N windows\" or offset)", at("history"), a.Module))
		}
	}
	return errs, warnings
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
