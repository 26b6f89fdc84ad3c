// Package runtime runs analyzer modules (wasip1 reactors speaking the
// tidemark_v1 ABI) in wazero, with a memory cap, a per-call deadline, no
// filesystem, network or environment, and supervision that recreates a
// failed instance. See RATIONALE.md for the decisions and their numbers.
package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/tidemark/tidemark/host/runtime/internal/wasmbin"
)

// ABIModule is the import module of the ABI major version this host provides.
const ABIModule = "tidemark_v1"

const abiPrefix = "tidemark_v"

// Guest exports.
const (
	exportInit      = "tidemark_init"
	exportAnalyze   = "tidemark_analyze"
	exportStateSave = "tidemark_state_save"
	exportStateLoad = "tidemark_state_load"
	exportStart     = "_initialize"
)

// Runtime compiles and instantiates analyzer modules. It is safe for
// concurrent use.
type Runtime struct {
	cfg   Config
	log   *slog.Logger
	wz    wazero.Runtime
	cache wazero.CompilationCache
}

// New creates a runtime with the WASI (nothing mounted) and tidemark_v1 host
// modules.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	cfg = cfg.withDefaults()
	pages := cfg.memoryLimit / wasmPageSize
	if pages == 0 || pages > 65536 {
		return nil, fmt.Errorf("runtime: memory limit %d bytes out of range (64 KiB to 4 GiB)", cfg.memoryLimit)
	}
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(uint32(pages))
	if cfg.deadline == deadlineCloseOnDone {
		rc = rc.WithCloseOnContextDone(true)
	}
	r := &Runtime{cfg: cfg, log: cfg.logger}
	if cfg.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("runtime: compilation cache %s: %w", cfg.cacheDir, err)
		}
		r.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	r.wz = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.wz); err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("runtime: wasi: %w", err)
	}
	if err := instantiateHostModule(ctx, r.wz); err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("runtime: host module: %w", err)
	}
	return r, nil
}

// Close releases everything compiled or instantiated by this runtime.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.wz.Close(ctx)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// Module is a validated, compiled analyzer module; all its instances share
// the compiled code. It is immutable.
type Module struct {
	rt       *Runtime
	compiled wazero.CompiledModule
	hash     string
	exports  []string
	imports  []string
	custom   map[string][]byte
	hasStart bool
	hasSave  bool
	hasLoad  bool
}

// Hash is the sha256 of the module file, hex.
func (m *Module) Hash() string { return m.hash }

// Exports lists the exported function names.
func (m *Module) Exports() []string { return slices.Clone(m.exports) }

// Imports lists the imported functions as "module.name".
func (m *Module) Imports() []string { return slices.Clone(m.imports) }

// CustomSection returns the payload of a custom section (e.g. the manifest).
func (m *Module) CustomSection(name string) ([]byte, bool) {
	b, ok := m.custom[name]
	return b, ok
}

// HasStateTransfer reports whether the module can save and load its state.
func (m *Module) HasStateTransfer() bool { return m.hasSave && m.hasLoad }

// Close releases the compiled code; running instances are not affected.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

// Compile validates and compiles a module. Errors match ErrNotWasm,
// ErrTruncated, ErrABI or ErrMissingExport where they apply.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	sum := sha256.Sum256(wasm)
	m := &Module{rt: r, hash: hex.EncodeToString(sum[:]), custom: map[string][]byte{}}
	parsed, err := wasmbin.Parse(wasm)
	switch {
	case errors.Is(err, wasmbin.ErrNotWasm):
		return nil, fmt.Errorf("compile: %w (the file does not start with \\0asm version 1)", ErrNotWasm)
	case errors.Is(err, wasmbin.ErrTruncated):
		return nil, fmt.Errorf("compile: %w (%d bytes; a section runs past the end of the file)", ErrTruncated, len(wasm))
	case err != nil:
		return nil, fmt.Errorf("compile: malformed module: %w", err)
	}
	if err := checkImports(parsed.Imports); err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	var memory bool
	for _, e := range parsed.Exports {
		switch e.Kind {
		case 0:
			m.exports = append(m.exports, e.Name)
		case 2:
			memory = memory || e.Name == "memory"
		}
	}
	for _, name := range []string{exportAnalyze, exportInit} {
		if !slices.Contains(m.exports, name) {
			return nil, fmt.Errorf("compile: %w %q: not an analyzer for %s", ErrMissingExport, name, ABIModule)
		}
	}
	if !memory {
		return nil, fmt.Errorf("compile: %w \"memory\" (the ABI copies data into the guest's exported memory)", ErrMissingExport)
	}
	m.hasStart = slices.Contains(m.exports, exportStart)
	m.hasSave = slices.Contains(m.exports, exportStateSave)
	m.hasLoad = slices.Contains(m.exports, exportStateLoad)
	for _, im := range parsed.Imports {
		m.imports = append(m.imports, im.Module+"."+im.Name)
	}
	for _, s := range parsed.Sections {
		if s.ID == 0 {
			if _, dup := m.custom[s.Name]; !dup {
				m.custom[s.Name] = slices.Clone(s.Payload)
			}
		}
	}
	code := wasm
	if r.cfg.deadline == deadlineInterrupt {
		if code, err = r.instrument(wasm, m.hash); err != nil {
			return nil, fmt.Errorf("compile: adding deadline checks: %w", err)
		}
	}
	if m.compiled, err = r.wz.CompileModule(ctx, code); err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	if err := checkSignatures(m.compiled); err != nil {
		m.compiled.Close(ctx)
		return nil, fmt.Errorf("compile: %w", err)
	}
	return m, nil
}

func checkImports(imports []wasmbin.Import) error {
	for _, im := range imports {
		switch {
		case im.Module == ABIModule:
			if im.Kind != 0 {
				return fmt.Errorf("%w: import %s.%s is not a function", ErrABI, im.Module, im.Name)
			}
			if _, ok := hostFunctions[im.Name]; !ok {
				return fmt.Errorf("%w: module imports %s.%s, which this host does not provide (built for a newer ABI minor version?)", ErrABI, im.Module, im.Name)
			}
		case strings.HasPrefix(im.Module, abiPrefix):
			return fmt.Errorf("%w: module needs ABI %s, this host provides %s", ErrABI, im.Module, ABIModule)
		case im.Module == wasi_snapshot_preview1.ModuleName:
		default:
			return fmt.Errorf("%w: module imports %s.%s; only %s and %s are provided", ErrABI, im.Module, im.Name, ABIModule, wasi_snapshot_preview1.ModuleName)
		}
	}
	return nil
}

// guestSignatures are the ABI's export signatures (params, results).
var guestSignatures = map[string][2][]api.ValueType{
	exportInit:      {{api.ValueTypeI32}, {api.ValueTypeI32}},
	exportAnalyze:   {{api.ValueTypeI32}, {api.ValueTypeI32}},
	exportStateSave: {nil, {api.ValueTypeI32}},
	exportStateLoad: {{api.ValueTypeI32}, {api.ValueTypeI32}},
	exportStart:     {nil, nil},
}

func checkSignatures(c wazero.CompiledModule) error {
	for name, def := range c.ExportedFunctions() {
		want, ok := guestSignatures[name]
		if !ok {
			continue
		}
		if !slices.Equal(def.ParamTypes(), want[0]) || !slices.Equal(def.ResultTypes(), want[1]) {
			return fmt.Errorf("%w: export %s has signature (%s) -> (%s), the ABI needs (%s) -> (%s)", ErrABI, name,
				typeNames(def.ParamTypes()), typeNames(def.ResultTypes()), typeNames(want[0]), typeNames(want[1]))
		}
	}
	return nil
}

func typeNames(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ", ")
}

// instrumentVersion names the rewrite in cache file names: bump it when
// the inserted code changes.
const instrumentVersion = "v3"

// instrument adds the deadline checks, keeping the result beside wazero's
// compilation cache (keyed by the original's hash) to save the 5–15 ms pass
// on a restart.
func (r *Runtime) instrument(wasm []byte, hash string) ([]byte, error) {
	var path string
	if r.cfg.cacheDir != "" {
		path = filepath.Join(r.cfg.cacheDir, "tidemark", fmt.Sprintf("%s-%s-%+v.wasm", hash, instrumentVersion, r.cfg.checks))
		path = strings.NewReplacer(" ", "_", ":", "=", "{", "", "}", "").Replace(path)
		if b, err := os.ReadFile(path); err == nil {
			return b, nil
		}
	}
	code, _, err := wasmbin.Instrument(wasm, r.cfg.checks)
	if err != nil || path == "" {
		return code, err
	}
	// best effort: a failed write only costs the pass next time
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
		if err := os.WriteFile(tmp, code, 0o644); err == nil {
			if err := os.Rename(tmp, path); err != nil {
				os.Remove(tmp)
			}
		}
	}
	return code, nil
}
