package influxd

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Two servers side by side: each gets its own HTTP and RPC ports, answers
// /ping with Flux enabled, and is gone after Stop.
func TestStartTwoAndStop(t *testing.T) {
	bin, err := FindBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var servers [2]*Server
	var logs [2]syncBuffer
	var errs [2]error
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = Start(ctx, Options{Binary: bin, DataDir: t.TempDir(), Log: &logs[i]})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v\nlog:\n%s", i, err, logs[i].String())
		}
	}
	if servers[0].URL() == servers[1].URL() {
		t.Fatalf("both servers on %s", servers[0].URL())
	}
	for _, s := range servers {
		// Flux endpoint is only served when flux-enabled = true.
		resp, err := http.Post(s.URL()+"/api/v2/query", "application/vnd.flux", strings.NewReader(`buckets()`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s /api/v2/query: status %d, want 200 (flux enabled)", s.URL(), resp.StatusCode)
		}
	}
	for _, s := range servers {
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		if _, err := http.Get(s.URL() + "/ping"); err == nil {
			t.Fatalf("%s still answers after Stop", s.URL())
		}
	}
}

func TestStartFailsOnBadBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Start(ctx, Options{Binary: "/bin/false", DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("err = %v, want an 'exited' error", err)
	}
}

func TestFindBinary(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "influxd")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TIDEMARK_INFLUXD", fake)
	got, err := FindBinary()
	if err != nil || got != fake {
		t.Fatalf("FindBinary() = %q, %v; want %q", got, err, fake)
	}

	t.Setenv("TIDEMARK_INFLUXD", "")
	got, err = FindBinary() // walks up from host/influxd to the repo's bin/
	if err != nil || !strings.HasSuffix(got, filepath.Join("bin", "influxd")) {
		t.Fatalf("FindBinary() = %q, %v; want the repo's bin/influxd", got, err)
	}

	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(empty)
	_, err = FindBinary()
	if err == nil || !strings.Contains(err.Error(), "make influxd") {
		t.Fatalf("err = %v, want a hint to run make influxd", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
