package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/gen"
	"github.com/tidemark/tidemark/host/influxd"
)

// TestDemoCatchesInjectedAnomalies runs the demo as `make run` does, on
// real parts (kfake, bin/influxd, the built plugins, gen → UDP → collector),
// with its own config and scenario at full speed, and checks that the
// injected DDoS and ramp raise the alerts the config promises, on the
// right series and soon enough, and that nothing else fires.
func TestDemoCatchesInjectedAnomalies(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := influxd.FindBinary()
	if err != nil {
		t.Fatalf("%v (`make test` builds it first; or `make influxd`)", err)
	}
	cfgPath := filepath.Join(root, "configs", "demo.toml")
	pluginsDir := filepath.Join(root, "plugins")
	env := []string{"TIDEMARK_PLUGINS_DIR=" + pluginsDir, "TIDEMARK_HTTP_LISTEN=127.0.0.1:0"}
	cfg, err := config.Load(cfgPath, append(os.Environ(), env...))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.Analyzer {
		if _, err := os.Stat(filepath.Join(pluginsDir, a.Module+".wasm")); err != nil {
			t.Fatalf("analyzer %s needs %s.wasm: %v: run make plugins", a.Name, a.Module, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	var stderr lockedBuffer
	var ready atomic.Bool
	sum, err := demo(ctx, demoOptions{
		Config: cfgPath, Influxd: bin, DataDir: t.TempDir(), Source: "gen",
		Scenario: filepath.Join(root, "configs", "samples", "demo-scenario.toml"),
		Seed:     1, Speed: 0,
		Env:       env,
		Stderr:    &stderr,
		HTTPReady: func(net.Addr) { ready.Store(true) },
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	if sum.Interrupted {
		t.Fatalf("demo did not finish in time\n%s", stderr.String())
	}
	if !ready.Load() {
		t.Error("the console never listened")
	}
	for _, p := range sum.Pipelines {
		if p.Windows == 0 || p.Late != 0 || p.Errs != 0 {
			t.Errorf("pipeline %s: %d windows, %d late, %d errors; want windows and no late records or errors", p.Name, p.Windows, p.Late, p.Errs)
		}
	}

	// What the demo promises (configs/demo.toml, demo-scenario.toml):
	// instance → the most windows after the anomaly's start its first alert may come.
	want := map[string]map[string]int{
		gen.KindDDoS: {"ddos-dst": 1, "dst-zscore": 1},
		gen.KindRamp: {"dst-zscore": 18, "https-forecast": 36},
	}
	if len(sum.Anomalies) != len(want) {
		t.Fatalf("%d anomalies injected, want %d (ddos and ramp)", len(sum.Anomalies), len(want))
	}
	for _, an := range sum.Anomalies {
		if an.Samples == 0 {
			t.Errorf("%s: no samples injected", an.Kind)
		}
		for inst, maxDelay := range want[an.Kind] {
			c := an.First(inst)
			if c == nil {
				t.Errorf("%s on %s: no alert from %s", an.Kind, an.Target, inst)
				continue
			}
			if got := c.Alert.Series["dst_ip"]; got != an.Target.String() {
				t.Errorf("%s: %s alerted on dst_ip=%s, want %s", an.Kind, inst, got, an.Target)
			}
			if c.Delay < 0 || c.Delay > maxDelay {
				t.Errorf("%s: %s fired %d windows after the start, want at most %d", an.Kind, inst, c.Delay, maxDelay)
			}
		}
		for _, c := range an.Caught {
			t.Logf("%s on %s caught after %d windows: %s", an.Kind, an.Target, c.Delay, alertText(c.Alert))
			if _, ok := want[an.Kind][c.Alert.Instance]; !ok {
				t.Errorf("%s: unexpected alert from %s: %s", an.Kind, c.Alert.Instance, alertText(c.Alert))
			}
		}
	}
	for _, a := range sum.FalsePositives {
		t.Errorf("false positive: %s", alertText(a))
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", stderr.String())
	}
}

func alertText(a analyze.Alert) string {
	return a.Instance + " " + a.Kind + " " + a.Severity + " " + seriesText(a.Series) + " window " + a.WindowStart.Format(time.RFC3339) + ": " + a.Message
}

// lockedBuffer collects the demo's live output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestMatchAnomaly pins how alerts are attributed: by target (a tag equal
// to it, or a prefix holding it) and by time (from the anomaly's first
// window to demoGrace windows after its end), delay in whole windows.
func TestMatchAnomaly(t *testing.T) {
	start := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	in := gen.Injection{
		Anomaly: gen.Anomaly{Kind: gen.KindDDoS, Target: netip.MustParseAddr("203.0.113.20")},
		From:    start.Add(95 * time.Second), To: start.Add(155 * time.Second),
	}
	alert := func(tags map[string]string, at time.Duration) analyze.Alert {
		ws := start.Add(at)
		return analyze.Alert{Series: tags, WindowStart: ws, WindowEnd: ws.Add(10 * time.Second)}
	}
	dst := map[string]string{"dst_ip": "203.0.113.20"}
	for _, c := range []struct {
		name  string
		a     analyze.Alert
		delay int
		ok    bool
	}{
		{"window holding the start", alert(dst, 90*time.Second), 0, true},
		{"two windows later", alert(dst, 110*time.Second), 2, true},
		{"window before", alert(dst, 80*time.Second), 0, false},
		{"last window of the grace", alert(dst, 150*time.Second+demoGrace*10*time.Second), 12, true},
		{"after the grace", alert(dst, 160*time.Second+demoGrace*10*time.Second), 0, false},
		{"other server", alert(map[string]string{"dst_ip": "203.0.113.21"}, 100*time.Second), 0, false},
		{"subnet holding it", alert(map[string]string{"dst_net": "203.0.113.0/24"}, 100*time.Second), 1, true},
	} {
		delay, ok := matchAnomaly(c.a, in)
		if ok != c.ok || (ok && delay != c.delay) {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", c.name, delay, ok, c.delay, c.ok)
		}
	}
}

// TestDemoInterruptStopsEverything interrupts the demo (as Ctrl-C does)
// when the first alert fires: it returns a partial summary, and the
// generator, the influxd child and the embedded Kafka are all stopped.
func TestDemoInterruptStopsEverything(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := influxd.FindBinary()
	if err != nil {
		t.Fatalf("%v (`make test` builds it first; or `make influxd`)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	var once sync.Once
	sum, err := demo(ctx, demoOptions{
		Config: filepath.Join(root, "configs", "demo.toml"), Influxd: bin, DataDir: t.TempDir(), Source: "gen",
		// Paced, so the generator is still running when the first alert
		// fires even if the pipeline lags on a busy machine.
		Scenario: filepath.Join(root, "configs", "samples", "demo-scenario.toml"), Seed: 1, Speed: 20,
		Env:     []string{"TIDEMARK_PLUGINS_DIR=" + filepath.Join(root, "plugins"), "TIDEMARK_HTTP_LISTEN=127.0.0.1:0"},
		Stderr:  &stderr,
		OnAlert: func(analyze.Alert) { once.Do(cancel) },
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	if !sum.Interrupted || len(sum.Firing) == 0 {
		t.Fatalf("interrupted %v with %d alerts; want an interrupted run with the alert that interrupted it\n%s", sum.Interrupted, len(sum.Firing), stderr.String())
	}
	if end := sum.SimStart.Add(sum.SimLen); !sum.SimReached.Before(end) {
		t.Errorf("the generator reached %s, the scenario's end %s: it was not stopped", sum.SimReached, end)
	}
	if resp, err := http.Get(sum.InfluxURL + "/ping"); err == nil {
		resp.Body.Close()
		t.Errorf("influxd still answers on %s after the demo returned", sum.InfluxURL)
	}
	for _, b := range sum.Brokers {
		if c, err := net.DialTimeout("tcp", b, time.Second); err == nil {
			c.Close()
			t.Errorf("embedded Kafka still listens on %s after the demo returned", b)
		}
	}
}
