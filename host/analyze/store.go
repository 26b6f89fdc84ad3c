package analyze

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// MaxStateBytes bounds one instance's host-kept state (keys + values).
const MaxStateBytes = 4 << 20

// store is one instance's host-kept state: what the guest puts with
// state_set, and the alert tracker. It lives in the host, so it survives a
// hot reload (and a restart: it is snapshotted to the state dir).
type store struct {
	mu    sync.Mutex
	kv    map[string][]byte
	bytes int
}

func newStore() *store { return &store{kv: map[string][]byte{}} }

func (s *store) get(k string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.kv[k]
	return v, ok
}

func (s *store) set(k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.kv[k]
	n := s.bytes + len(v) - len(old)
	if !had {
		n += len(k)
	}
	if n > MaxStateBytes {
		return fmt.Errorf("state of %d bytes would pass the %d-byte limit", n, MaxStateBytes)
	}
	if len(v) == 0 {
		delete(s.kv, k)
		n -= len(k)
	} else {
		s.kv[k] = append([]byte(nil), v...)
	}
	s.bytes = n
	return nil
}

// snapshot is the file format of <state_dir>/<instance>.json.
type snapshot struct {
	Version int               `json:"version"`
	State   map[string][]byte `json:"state"`
	Alerts  trackerSnapshot   `json:"alerts"`
}

func saveSnapshot(dir, instance string, st *store, tr *Tracker) error {
	st.mu.Lock()
	s := snapshot{Version: 1, State: st.kv, Alerts: tr.snapshot()}
	b, err := json.Marshal(s)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, instance+".json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	// Rename is atomic: a crash mid-save leaves the previous snapshot.
	return os.Rename(tmp, path)
}

func loadSnapshot(dir, instance string, st *store, tr *Tracker) error {
	b, err := os.ReadFile(filepath.Join(dir, instance+".json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("state snapshot of %q: %w", instance, err)
	}
	for k, v := range s.State {
		if err := st.set(k, v); err != nil {
			return err
		}
	}
	tr.restore(s.Alerts)
	return nil
}
