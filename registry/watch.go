package registry

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch follows the directory until ctx is done: once no *.wasm file has
// changed for the debounce interval, each changed file is loaded (or
// reloaded, or removed). Run it in its own goroutine.
func (r *Registry) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("registry: watch: %w", err)
	}
	defer w.Close()
	if err := w.Add(r.cfg.Dir); err != nil {
		return fmt.Errorf("registry: watch %s: %w", r.cfg.Dir, err)
	}
	// catch up with changes between Open and Add
	if paths, err := filepath.Glob(filepath.Join(r.cfg.Dir, "*.wasm")); err == nil {
		for _, p := range paths {
			r.sync(ctx, p)
		}
	}
	r.mu.Lock()
	var known []string
	for p := range r.files {
		known = append(known, p)
	}
	r.mu.Unlock()
	for _, p := range known {
		r.sync(ctx, p) // files removed meanwhile
	}

	dirty := map[string]bool{}
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			r.log.Warn("plugins dir watch error", "dir", r.cfg.Dir, "err", err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !strings.HasSuffix(ev.Name, ".wasm") {
				continue
			}
			dirty[ev.Name] = true
			quiet.Reset(r.cfg.Debounce)
		case <-quiet.C:
			paths := make([]string, 0, len(dirty))
			for p := range dirty {
				paths = append(paths, p)
			}
			clear(dirty)
			sort.Strings(paths)
			for _, p := range paths {
				r.sync(ctx, p)
			}
		}
	}
}
