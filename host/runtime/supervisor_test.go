package runtime_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/host/runtime/runtimetest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSupervisorBackoffParkAndReplace(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, runtime.NewConfig())
	trap := compile(t, rt, "trap")
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	var failures []runtime.Failure
	cfg := runtime.NewSupervisorConfig().WithMaxFailures(3).WithBackoff(time.Second, 4*time.Second).
		WithClock(clock.now).WithFailureHook(func(f runtime.Failure) { failures = append(failures, f) })
	sup, err := trap.Supervise(ctx, runtime.InstanceConfig{Name: "s"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close(ctx)

	if err := sup.Analyze(ctx, []byte("x")); !errors.Is(err, runtime.ErrTrap) {
		t.Fatalf("first call: %v", err)
	}
	if err := sup.Analyze(ctx, nil); !errors.Is(err, runtime.ErrBackoff) {
		t.Fatalf("during backoff: %v", err)
	}
	clock.advance(time.Second)
	if err := sup.Analyze(ctx, nil); err != nil {
		t.Fatalf("recreated instance: %v", err)
	}
	if st := sup.Stats(); st.Restarts != 1 || st.Consecutive != 0 || st.Traps != 1 || st.Skipped != 1 {
		t.Fatalf("stats = %+v", st)
	}

	// three consecutive failures park it; the backoff doubles in between
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 0} {
		if err := sup.Analyze(ctx, []byte("x")); !errors.Is(err, runtime.ErrTrap) {
			t.Fatalf("failure %d: %v", i, err)
		}
		if wait == 0 {
			break
		}
		clock.advance(wait - time.Millisecond)
		if err := sup.Analyze(ctx, nil); !errors.Is(err, runtime.ErrBackoff) {
			t.Fatalf("failure %d: backoff should last %v: %v", i, wait, err)
		}
		clock.advance(time.Millisecond)
	}
	clock.advance(time.Hour)
	if err := sup.Analyze(ctx, nil); !errors.Is(err, runtime.ErrParked) {
		t.Fatalf("after 3 consecutive failures: %v", err)
	}
	if n := len(failures); n != 4 || !failures[3].Parked || failures[3].Consecutive != 3 || failures[3].ModuleHash != trap.Hash() {
		t.Fatalf("failure events = %+v", failures)
	}

	okModule := compile(t, rt, "ok")
	if err := sup.Replace(ctx, okModule); err != nil {
		t.Fatal(err)
	}
	if err := sup.Analyze(ctx, []byte("x")); err != nil {
		t.Fatalf("after Replace: %v", err)
	}
	if st := sup.Stats(); st.Parked || st.Reloads != 1 || st.ModuleHash != okModule.Hash() {
		t.Fatalf("stats after Replace = %+v", st)
	}
}

func TestSupervisorReplaceCarriesStateBetweenCalls(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, runtime.NewConfig())
	v1 := compile(t, rt, "ok")
	v2, err := rt.Compile(ctx, runtimetest.Guest(t, "ok", "-X main.version=2"))
	if err != nil {
		t.Fatal(err)
	}
	host := &runtimetest.Host{}
	sup, err := v1.Supervise(ctx, runtime.InstanceConfig{Name: "carry", Host: host}, runtime.NewSupervisorConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close(ctx)
	for range 2 {
		if err := sup.Analyze(ctx, []byte("ab")); err != nil {
			t.Fatal(err)
		}
	}
	if err := sup.Replace(ctx, v2); err != nil {
		t.Fatal(err)
	}
	if sup.Module() != v1 {
		t.Fatal("Replace must not switch before the next call")
	}
	if err := sup.Analyze(ctx, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	want := []string{"v=1 len=2 calls=1", "v=1 len=2 calls=2", "v=2 len=3 calls=3"}
	got := host.AlertList()
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("alerts = %q, want %q", got, want)
	}
}

// TestCallerCancelStopsGuestWithoutCounting: the caller's context stops a
// running guest; the supervisor recreates the instance without counting a
// failure against the module.
func TestCallerCancelStopsGuestWithoutCounting(t *testing.T) {
	rt := newRuntime(t, runtime.NewConfig().WithCallTimeout(time.Minute))
	host := &runtimetest.Host{Logs: make(chan string, 1)}
	sup, err := compile(t, rt, "loop").Supervise(context.Background(), runtime.InstanceConfig{Name: "c", Host: host}, runtime.NewSupervisorConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Analyze(ctx, []byte("x")) }()
	<-host.Logs // the guest is spinning
	cancel()
	if err := <-done; !errors.Is(err, runtime.ErrTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrTimeout wrapping context.Canceled", err)
	}
	if st := sup.Stats(); st.Failures != 0 || st.Consecutive != 0 {
		t.Fatalf("stats = %+v", st)
	}
	if err := sup.Analyze(context.Background(), nil); err != nil {
		t.Fatalf("next call: %v", err)
	}
}
