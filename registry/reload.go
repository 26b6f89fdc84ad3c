package registry

import (
	"context"
	"fmt"
)

// ReloadModule re-reads a module's file now, as a file change would (the
// console's reload button). It returns the load error, if any; the old
// version then keeps running.
func (r *Registry) ReloadModule(ctx context.Context, name string) error {
	r.mu.Lock()
	path := ""
	for p, f := range r.files {
		if f.name == name {
			path = p
		}
	}
	r.mu.Unlock()
	if path == "" {
		return fmt.Errorf("registry: %w %q", ErrUnknownModule, name)
	}
	r.sync(ctx, path)
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.files[path]; f != nil && f.err != nil {
		return f.err
	}
	return nil
}
