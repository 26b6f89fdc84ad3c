package service_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/service"
	"github.com/tidemark/tidemark/internal/testenv"
	"github.com/tidemark/tidemark/registry"
)

const reloadConfig = `
[input]
brokers = [%q]
topic = "sflow"
group = "reload"
format = "sflowtool"
max_poll_records = 50

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

[[analyzer]]
module = "ewma"
name = "host-ewma"
pipeline = "to_host"
options = { fields = ["sum_packets"], warmup = 5, alpha = 0.3 }

[http]
listen = "off"
`

// Hot reload under a running pipeline: the module file is replaced after
// window 5 is analysed; every window is analysed exactly once, the windows
// after it by the new version, and the EWMA state carries over (the spike in
// window 7 is judged against the mean learnt before the swap: without it
// the new instance would still be warming up). Then a broken file replaces
// it, and the running version goes on.
func TestHotReloadMidStream(t *testing.T) {
	src := pluginsDir(t, "ewma")
	dir := t.TempDir()
	wasm, err := os.ReadFile(filepath.Join(src, "ewma.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	modPath := filepath.Join(dir, "ewma.wasm")
	if err := os.WriteFile(modPath, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	man, err := abi.ReadManifest(wasm)
	if err != nil {
		t.Fatal(err)
	}
	man.Version = "1.0.1-reloaded"
	v2, err := abi.AppendManifest(wasm, man)
	if err != nil {
		t.Fatal(err)
	}

	in := testenv.Influx(t)
	_, seeds := testenv.Kafka(t, "sflow")
	const windows = 10
	produceAt(t, seeds, "192.0.2.1", "198.51.100.1", windowTimes(windows, func(w int) int {
		if w == 7 {
			return 100
		}
		return 10
	}, 50*time.Millisecond))

	cfg, err := config.Parse("test.toml", []byte(fmt.Sprintf(reloadConfig, seeds[0], in.URL, in.Bucket, dir, t.TempDir())), []string{})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan registry.Event, 16)
	var mu sync.Mutex
	analysed := map[int64]int{}
	var versions []string
	var alerts []analyze.Alert
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var svc *service.Service
	waitEvent := func(kind registry.EventKind) registry.Event {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Kind == kind {
					return ev
				}
			case <-time.After(30 * time.Second):
				t.Errorf("no %s event within 30s", kind)
				return registry.Event{}
			}
		}
	}
	svc, err = service.New(ctx, cfg, service.Options{
		OnModuleEvent: func(ev registry.Event) { events <- ev },
		OnAnalyzed: func(_ string, start int64, as []analyze.Alert, err error) {
			if err != nil {
				t.Errorf("window %v: %v", time.Unix(0, start).UTC(), err)
			}
			mu.Lock()
			analysed[start]++
			n := len(analysed)
			versions = append(versions, svc.Modules.Modules()[0].Version)
			alerts = append(alerts, as...)
			mu.Unlock()
			switch n {
			case 5:
				// Swap the module between windows 5 and 6, and hold this
				// instance until the registry has swapped it.
				if err := os.WriteFile(modPath, v2, 0o644); err != nil {
					t.Error(err)
				}
				waitEvent(registry.EventReloaded)
			case 8:
				// A truncated replacement must leave 1.0.1 running.
				if err := os.WriteFile(modPath, v2[:len(v2)/3], 0o644); err != nil {
					t.Error(err)
				}
				waitEvent(registry.EventFailed)
			case windows:
				close(done)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	runUntil(t, ctx, cancel, svc, done, "not every window was analysed")

	mu.Lock()
	defer mu.Unlock()
	for w := 0; w < windows; w++ {
		start := t0.Add(time.Duration(w) * 10 * time.Second).UnixNano()
		if analysed[start] != 1 {
			t.Errorf("window %d analysed %d times, want exactly once", w, analysed[start])
		}
	}
	if len(analysed) != windows {
		t.Errorf("%d windows analysed, want %d", len(analysed), windows)
	}
	if versions[4] != "1.0.0" || versions[5] != "1.0.1-reloaded" || versions[windows-1] != "1.0.1-reloaded" {
		t.Errorf("module versions per window = %v", versions)
	}
	var spike []analyze.Alert
	for _, a := range alerts {
		if a.State == "firing" {
			spike = append(spike, a)
		}
	}
	if len(spike) != 1 || spike[0].WindowStart != t0.Add(70*time.Second) || spike[0].Module != "ewma@1.0.1-reloaded" {
		t.Errorf("want one firing alert for window 7 from the reloaded module (state carried over), got %+v", spike)
	}
}
