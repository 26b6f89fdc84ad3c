// Package registry discovers analyzer modules in the plugins directory,
// checks them (manifest, ABI, content hash), binds analyzer instances to
// them and hot-reloads them when their files change: a new file is compiled
// and initialised beside the old one and swapped in between two windows; a
// file that fails leaves the old one running.
package registry

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
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime"
)

// DefaultDebounce is how long a directory must stay quiet before changed
// files are loaded: editors and `cp` write a file in several steps.
const DefaultDebounce = 200 * time.Millisecond

// Config configures a Registry.
type Config struct {
	Dir        string
	Runtime    *runtime.Runtime
	Logger     *slog.Logger
	Supervisor runtime.SupervisorConfig
	Debounce   time.Duration // default DefaultDebounce
	// OnEvent, if set, is called after each load, reload, failure or removal
	// (metrics, the console, tests). It must not call the Registry.
	OnEvent func(Event)
}

// EventKind says what happened to a module file.
type EventKind string

// Event kinds.
const (
	EventLoaded   EventKind = "loaded"   // first good load of a file
	EventReloaded EventKind = "reloaded" // a changed file replaced the running module
	EventFailed   EventKind = "failed"   // a file did not load; the old module (if any) runs on
	EventRemoved  EventKind = "removed"  // the file is gone; its instances are stopped
)

// Event reports a change.
type Event struct {
	Kind EventKind
	Path string
	Name string
	Hash string
	Err  error
}

// State of a module file.
type State string

// Module states.
const (
	StateOK     State = "ok"
	StateFailed State = "failed" // the file on disk did not load (an older version may still run)
	StateParked State = "parked" // at least one instance is parked after repeated failures
)

// ModuleInfo describes one module file for `tidemark plugin list`.
type ModuleInfo struct {
	Name, Version, ABI string
	Hash               string // sha256 of the running module ("" if none ever loaded)
	Path               string
	State              State
	Err                string // why the file on disk failed, if it did
	Running            bool   // a good version is loaded
	Instances          []InstanceInfo
	Manifest           *abi.Manifest // of the running version; nil if it has none
}

// InstanceInfo is one bound analyzer instance.
type InstanceInfo struct {
	Name  string
	Stats runtime.Stats
}

// InstanceSpec binds one configured analyzer instance to a module.
type InstanceSpec struct {
	Name         string
	Module       string // module name (manifest name, else file name without .wasm)
	Options      []byte
	Capabilities []string
	Host         runtime.HostHandler
}

// Errors.
var (
	ErrUnknownModule = errors.New("no such analyzer module")
	ErrRemoved       = errors.New("analyzer module file removed")
)

// Registry owns the modules of one directory and the instances bound to them.
type Registry struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards files; held across a reload so reloads are serial
	files   map[string]*file
	retired []*runtime.Module // replaced modules, closed once no instance uses them
	closed  bool
}

type file struct {
	path     string
	name     string
	manifest *abi.Manifest
	module   *runtime.Module // running version, nil if none loaded
	err      error           // last load failure of the file on disk
	handles  []*Handle
}

// Open scans dir and loads every *.wasm in it. A file that fails is
// recorded (see Modules) and does not fail Open.
func Open(ctx context.Context, cfg Config) (*Registry, error) {
	if cfg.Runtime == nil {
		return nil, errors.New("registry: no runtime")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	st, err := os.Stat(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("registry: plugins dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("registry: plugins dir %s is not a directory", cfg.Dir)
	}
	r := &Registry{cfg: cfg, log: cfg.Logger.With("component", "registry"), files: map[string]*file{}}
	paths, err := filepath.Glob(filepath.Join(cfg.Dir, "*.wasm"))
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		r.sync(ctx, p)
	}
	return r, nil
}

// Modules lists the module files, sorted by name.
func (r *Registry) Modules() []ModuleInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ModuleInfo, 0, len(r.files))
	for _, f := range r.files {
		mi := ModuleInfo{Name: f.name, Path: f.path, State: StateOK, Running: f.module != nil}
		if f.manifest != nil {
			mi.Version, mi.ABI, mi.Manifest = f.manifest.Version, f.manifest.ABI, f.manifest
		}
		if f.module != nil {
			mi.Hash = f.module.Hash()
		}
		for _, h := range f.handles {
			st := h.sup.Stats()
			mi.Instances = append(mi.Instances, InstanceInfo{Name: h.spec.Name, Stats: st})
			if st.Parked {
				mi.State = StateParked
			}
		}
		if f.err != nil {
			mi.State, mi.Err = StateFailed, f.err.Error()
		}
		out = append(out, mi)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || (out[i].Name == out[j].Name && out[i].Path < out[j].Path)
	})
	return out
}

// Bind creates a supervised instance of a module. The handle follows hot
// reloads of the module's file.
func (r *Registry) Bind(ctx context.Context, spec InstanceSpec) (*Handle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("registry: closed")
	}
	var f *file
	for _, c := range r.files {
		if c.name == spec.Module && c.module != nil {
			f = c
		}
	}
	if f == nil {
		return nil, fmt.Errorf("registry: bind %q: %w %q in %s", spec.Name, ErrUnknownModule, spec.Module, r.cfg.Dir)
	}
	if f.manifest != nil {
		for _, c := range f.manifest.Capabilities {
			if !slices.Contains(spec.Capabilities, c) {
				return nil, fmt.Errorf("registry: bind %q: module %s needs capability %q, which the instance is not granted", spec.Name, spec.Module, c)
			}
		}
	}
	sup, err := f.module.Supervise(ctx, runtime.InstanceConfig{
		Name: spec.Name, Options: spec.Options, Capabilities: spec.Capabilities, Host: spec.Host,
	}, r.cfg.Supervisor)
	if err != nil {
		return nil, fmt.Errorf("registry: bind %q: %w", spec.Name, err)
	}
	h := &Handle{reg: r, spec: spec, sup: sup, path: f.path}
	f.handles = append(f.handles, h)
	return h, nil
}

// Handle is one bound analyzer instance.
type Handle struct {
	reg  *Registry
	spec InstanceSpec
	sup  *runtime.Supervisor
	path string

	mu      sync.Mutex
	removed bool
}

// Analyze runs the instance on one window. A reloaded module takes over at
// the start of a call, never in the middle of one. While the instance backs
// off or is parked it returns runtime.ErrBackoff / runtime.ErrParked at once.
func (h *Handle) Analyze(ctx context.Context, input []byte) error {
	err := h.sup.Analyze(ctx, input)
	if errors.Is(err, runtime.ErrClosed) {
		h.mu.Lock()
		removed := h.removed
		h.mu.Unlock()
		if removed {
			return fmt.Errorf("analyzer %q: %w (%s)", h.spec.Name, ErrRemoved, h.path)
		}
	}
	return err
}

// Stats returns the instance's counters.
func (h *Handle) Stats() runtime.Stats { return h.sup.Stats() }

// ModuleHash is the hash of the module currently serving the instance.
func (h *Handle) ModuleHash() string { return h.sup.Module().Hash() }

// Close unbinds and stops the instance.
func (h *Handle) Close(ctx context.Context) error {
	r := h.reg
	r.mu.Lock()
	if f := r.files[h.path]; f != nil {
		f.handles = slices.DeleteFunc(f.handles, func(x *Handle) bool { return x == h })
	}
	r.mu.Unlock()
	return h.sup.Close(ctx)
}

// sync brings one path in line with the disk: load, reload or remove.
func (r *Registry) sync(ctx context.Context, path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	wasm, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		r.removeLocked(ctx, path)
		return
	}
	f := r.files[path]
	if f == nil {
		f = &file{path: path, name: strings.TrimSuffix(filepath.Base(path), ".wasm")}
		r.files[path] = f
	}
	if err != nil { // unreadable (permissions, a directory named *.wasm)
		f.err = fmt.Errorf("%s: %w", filepath.Base(path), err)
		r.log.Error("module file unreadable", "path", path, "err", err)
		r.emit(Event{Kind: EventFailed, Path: path, Name: f.name, Err: f.err})
		return
	}
	ev := Event{Kind: EventLoaded, Path: path, Name: f.name}
	if f.module != nil {
		ev.Kind = EventReloaded
	}
	sum := sha256.Sum256(wasm)
	if f.module != nil && hex.EncodeToString(sum[:]) == f.module.Hash() {
		f.err = nil // same content (touch, chmod, a failed version reverted)
		return
	}
	m, man, err := r.load(ctx, path, wasm)
	if err == nil {
		err = r.replaceLocked(ctx, f, m, man)
	}
	if err != nil {
		f.err = err
		if m != nil {
			m.Close(ctx)
		}
		if f.module != nil {
			r.log.Error("module file failed to load; the previous version keeps running", "path", path, "running", f.module.Hash(), "err", err)
		} else {
			r.log.Error("module file failed to load", "path", path, "err", err)
		}
		r.emit(Event{Kind: EventFailed, Path: path, Name: f.name, Err: err})
		return
	}
	ev.Name, ev.Hash = f.name, m.Hash()
	r.log.Info("module "+string(ev.Kind), "path", path, "name", f.name, "hash", m.Hash(), "instances", len(f.handles))
	r.emit(ev)
	r.collectLocked(ctx)
}

// load compiles first (its errors are the clearest: truncated, not wasm,
// ABI), then reads the manifest.
func (r *Registry) load(ctx context.Context, path string, wasm []byte) (*runtime.Module, *abi.Manifest, error) {
	base := filepath.Base(path)
	m, err := r.cfg.Runtime.Compile(ctx, wasm)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", base, err)
	}
	man, err := abi.ReadManifest(wasm)
	switch {
	case errors.Is(err, abi.ErrNoManifest):
		man = nil // allowed: named after the file, no option schema
	case err != nil:
		m.Close(ctx)
		return nil, nil, fmt.Errorf("%s: manifest: %w", base, err)
	}
	return m, man, nil
}

// replaceLocked makes m the file's module: every bound instance gets a new
// instance of m, initialised beside its running one; only when all of them
// initialised are they staged, to switch at the start of their next call.
func (r *Registry) replaceLocked(ctx context.Context, f *file, m *runtime.Module, man *abi.Manifest) error {
	name := f.name
	if man != nil {
		name = man.Name
	}
	for _, o := range r.files {
		if o != f && o.name == name && o.module != nil {
			return fmt.Errorf("%s: module name %q is already used by %s", filepath.Base(f.path), name, o.path)
		}
	}
	prepared := make([]*runtime.Instance, 0, len(f.handles))
	for _, h := range f.handles {
		in, err := h.sup.Prepare(ctx, m)
		if err != nil {
			for _, p := range prepared {
				p.Close(ctx)
			}
			return fmt.Errorf("%s: init of instance %q: %w", filepath.Base(f.path), h.spec.Name, err)
		}
		prepared = append(prepared, in)
	}
	for i, h := range f.handles {
		if err := h.sup.Stage(ctx, prepared[i]); err != nil {
			r.log.Warn("instance closed during reload", "instance", h.spec.Name, "err", err)
		}
	}
	if f.module != nil {
		r.retired = append(r.retired, f.module)
	}
	f.module, f.manifest, f.name, f.err = m, man, name, nil
	return nil
}

func (r *Registry) removeLocked(ctx context.Context, path string) {
	f := r.files[path]
	if f == nil {
		return
	}
	delete(r.files, path)
	for _, h := range f.handles {
		h.mu.Lock()
		h.removed = true
		h.mu.Unlock()
		h.sup.Close(ctx)
	}
	if f.module != nil {
		r.retired = append(r.retired, f.module)
	}
	r.log.Info("module file removed; its instances are stopped", "path", path, "name", f.name, "instances", len(f.handles))
	r.emit(Event{Kind: EventRemoved, Path: path, Name: f.name})
	r.collectLocked(ctx)
}

// collectLocked closes retired modules that no instance uses any more.
func (r *Registry) collectLocked(ctx context.Context) {
	r.retired = slices.DeleteFunc(r.retired, func(m *runtime.Module) bool {
		for _, f := range r.files {
			for _, h := range f.handles {
				if h.sup.Uses(m) {
					return false
				}
			}
		}
		m.Close(ctx)
		return true
	})
}

func (r *Registry) emit(ev Event) {
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(ev)
	}
}

// Close stops every instance and releases the modules.
func (r *Registry) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for _, f := range r.files {
		for _, h := range f.handles {
			err = errors.Join(err, h.sup.Close(ctx))
		}
		if f.module != nil {
			err = errors.Join(err, f.module.Close(ctx))
		}
	}
	for _, m := range r.retired {
		err = errors.Join(err, m.Close(ctx))
	}
	r.files, r.retired, r.closed = map[string]*file{}, nil, true
	return err
}
