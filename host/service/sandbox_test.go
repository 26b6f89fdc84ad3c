package service_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/host/runtime/runtimetest"
	"github.com/tidemark/tidemark/host/service"
	"github.com/tidemark/tidemark/internal/testenv"
	"github.com/tidemark/tidemark/registry"
)

const sandboxConfig = `
[input]
brokers = [%q]
topic = "sflow"
group = "sandbox"
format = "sflowtool"

[[pipeline]]
name = "to_host"
fields = ["packets = sampling_rate"]
window = "10s"
lateness = "1s"
idle_timeout = "300ms"
group_by = ["dst_ip"]
aggregate = ["sum(packets)"]

[output.influxdb]
url = %q
bucket = %q

[plugins]
dir = %q
state_dir = %q
call_timeout = "1s"   # generous: under -race a guest needs longer to reach its memory cap
memory_limit = "64MiB"
watch = false

[[analyzer]]
module = "ewma"
name = "ok"
pipeline = "to_host"
options = { fields = ["sum_packets"] }

[[analyzer]]
module = "loop"
name = "loops-forever"
pipeline = "to_host"

[[analyzer]]
module = "grow"
name = "grows-memory"
pipeline = "to_host"

[[analyzer]]
module = "trap"
name = "traps"
pipeline = "to_host"

[[analyzer]]
module = "query"
name = "queries-ungranted"
pipeline = "to_host"

[http]
listen = "off"
`

// Bad guests under a running pipeline: one loops forever, one grows memory
// past the cap, one traps, one calls a capability it was not granted; a
// module for ABI v2 and a truncated file sit in the plugins dir. Each gives
// its clear error, and the pipeline writes every window all the same.
func TestSandboxFailuresKeepThePipelineGoing(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(pluginsDir(t, "ewma"), "ewma.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ewma.wasm"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"loop", "grow", "trap", "query", "abiv2"} {
		if err := os.WriteFile(filepath.Join(dir, g+".wasm"), runtimetest.Guest(t, g, ""), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	okWasm := runtimetest.Guest(t, "ok", "")
	if err := os.WriteFile(filepath.Join(dir, "truncated.wasm"), okWasm[:len(okWasm)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	in := testenv.Influx(t)
	_, seeds := testenv.Kafka(t, "sflow")
	const windows = 6
	produceAt(t, seeds, "192.0.2.1", "198.51.100.1", windowTimes(windows, func(int) int { return 5 }, time.Second))
	cfg, err := config.Parse("test.toml", []byte(fmt.Sprintf(sandboxConfig, seeds[0], in.URL, in.Bucket, dir, t.TempDir())), []string{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := map[string]int{}
	errs := map[string][]error{}
	done := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := service.New(ctx, cfg, service.Options{
		OnAnalyzed: func(inst string, _ int64, _ []analyze.Alert, err error) {
			mu.Lock()
			defer mu.Unlock()
			calls[inst]++
			if err != nil {
				errs[inst] = append(errs[inst], err)
			}
			all := len(calls) == 5
			for _, n := range calls {
				all = all && n >= windows
			}
			if all {
				once.Do(func() { close(done) })
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	runUntil(t, ctx, cancel, svc, done, "not every instance saw every window")

	// The pipeline wrote every window.
	if n := svc.Runner.Engine().Pipes()[0].WindowsWritten.Load(); n != windows {
		t.Errorf("windows written = %d, want %d", n, windows)
	}
	rows := in.Rows(t, `SELECT count(sum_packets) FROM to_host`)
	if len(rows) != 1 || fmt.Sprint(rows[0]["count"]) != fmt.Sprint(windows) {
		t.Errorf("InfluxDB holds %v, want %d points", rows, windows)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs["ok"]) != 0 {
		t.Errorf("the good instance failed: %v", errs["ok"])
	}
	expect := map[string]struct {
		kind error
		text string
	}{
		"loops-forever":     {runtime.ErrTimeout, "deadline"},
		"grows-memory":      {runtime.ErrMemoryExhausted, "memory"},
		"traps":             {runtime.ErrTrap, "trapped"},
		"queries-ungranted": {runtime.ErrGuestStatus, "PERMISSION_DENIED"},
	}
	for inst, want := range expect {
		if len(errs[inst]) == 0 {
			t.Errorf("%s: no failure recorded", inst)
			continue
		}
		first := errs[inst][0]
		if !errors.Is(first, want.kind) || !strings.Contains(first.Error(), want.text) || !strings.Contains(first.Error(), inst) {
			t.Errorf("%s: first error %q, want %v mentioning %q and the instance", inst, first, want.kind, want.text)
		}
	}

	// The ABI v2 module and the truncated file are listed as failed, with why.
	mods := map[string]registry.ModuleInfo{}
	for _, m := range svc.Modules.Modules() {
		mods[m.Name] = m
	}
	if m := mods["abiv2"]; m.State != registry.StateFailed || !strings.Contains(m.Err, "tidemark_v2") {
		t.Errorf("abiv2: state %s, err %q; want failed naming tidemark_v2", m.State, m.Err)
	}
	if m := mods["truncated"]; m.State != registry.StateFailed || !strings.Contains(m.Err, "truncated") {
		t.Errorf("truncated: state %s, err %q; want failed saying truncated", m.State, m.Err)
	}
}

// An instance of a module that does not load is a start-up error that
// names the analyzer block and the module's error: a bad config never
// starts half a pipeline.
func TestInstanceOfBrokenModuleFailsStartup(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "abiv2.wasm"), runtimetest.Guest(t, "abiv2", ""), 0o644); err != nil {
		t.Fatal(err)
	}
	in := testenv.Influx(t)
	src := fmt.Sprintf(sandboxConfig, "127.0.0.1:1", in.URL, in.Bucket, dir, t.TempDir())
	src = src[:strings.Index(src, "[[analyzer]]")] + "[[analyzer]]\nmodule = \"abiv2\"\nname = \"v2\"\npipeline = \"to_host\"\n"
	cfg, err := config.Parse("test.toml", []byte(src), []string{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = service.New(context.Background(), cfg, service.Options{})
	if err == nil || !strings.Contains(err.Error(), "analyzer[0].module") || !strings.Contains(err.Error(), "tidemark_v2") {
		t.Fatalf("err = %v, want one naming analyzer[0].module and tidemark_v2", err)
	}
}
