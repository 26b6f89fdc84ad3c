package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/service"
	"github.com/tidemark/tidemark/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// pluginsDir is the repository's plugins directory, where `make plugins`
// puts the built-in analyzers.
func pluginsDir(t *testing.T, module string) string {
	t.Helper()
	dir, err := filepath.Abs("../../plugins")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, module+".wasm")); err != nil {
		t.Fatalf("%s.wasm is not built: run `make plugins` (%v)", module, err)
	}
	return dir
}

// produceAt writes one flow line per timestamp to partition 0 of "sflow",
// in order, so lateness is deterministic.
func produceAt(t *testing.T, seeds []string, src, dst string, times []time.Time) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(times))
	for i, at := range times {
		recs[i] = &kgo.Record{Topic: "sflow", Value: []byte(flow(src, dst)), Timestamp: at}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// windowTimes spreads n records per window over windows [0, windows) of
// 10 s each, n(w) records in window w.
func windowTimes(windows int, n func(w int) int, step time.Duration) []time.Time {
	var out []time.Time
	for w := 0; w < windows; w++ {
		for i := 0; i < n(w); i++ {
			out = append(out, t0.Add(time.Duration(w)*10*time.Second+time.Duration(i)*step))
		}
	}
	return out
}

// runUntil runs svc until done is closed, then stops it and waits for Run
// to return. The callbacks that close done run on the service's goroutines.
func runUntil(t *testing.T, ctx context.Context, cancel context.CancelFunc, svc *service.Service, done <-chan struct{}, what string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- svc.Run(ctx) }()
	select {
	case <-done:
	case err := <-errc:
		t.Fatalf("service stopped early: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		<-errc
		t.Fatalf("%s within 2 minutes", what)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func flow(src, dst string) string {
	return fmt.Sprintf("FLOW,10.0.0.1,1,2,00aabbccddee,001122334455,0x0800,0,0,%s,%s,6,0x00,64,40000,443,0x10,1000,980,10", src, dst)
}

const analyzerConfig = `
[input]
brokers = [%q]
topic = "sflow"
group = %q
format = "sflowtool"

[[pipeline]]
name = "to_host"
fields = ["packets = sampling_rate"]
window = "10s"
lateness = "1s"
idle_timeout = "300ms"
group_by = ["dst_ip"]
aggregate = ["sum(packets)", "count()"]

[output.influxdb]
url = %q
bucket = %q

[alerts]
topic = "alerts"

[plugins]
dir = %q
state_dir = %q
watch = false

[[analyzer]]
module = "deviation"
name = "host-spike"
pipeline = "to_host"
history = "1 windows"
options = { fields = ["sum_packets"], factor = 3.0 }

[http]
listen = "off"
`

// runService runs a service until its analyzer has analysed `windows`
// windows, then stops it and returns what it published.
func runService(t *testing.T, cfg *config.Config, windows int) []analyze.Alert {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var alerts []analyze.Alert
	analysed := 0
	done := make(chan struct{})
	svc, err := service.New(ctx, cfg, service.Options{
		OnAnalyzed: func(instance string, _ int64, as []analyze.Alert, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("analyzer %s failed: %v", instance, err)
			}
			alerts = append(alerts, as...)
			if analysed++; analysed == windows {
				close(done)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	runUntil(t, ctx, cancel, svc, done, "the analyzer did not analyse every window")
	mu.Lock()
	defer mu.Unlock()
	return alerts
}

// End to end: sflowtool lines with an injected spike → windows in a real
// influxd → the deviation analyzer with history from it → one firing and
// one resolving alert on the Kafka alert topic, with the expected ids and
// values. A replay of the same input raises nothing new.
func TestAnalyzerAlertsEndToEnd(t *testing.T) {
	plugins := pluginsDir(t, "deviation")
	in := testenv.Influx(t)
	_, seeds := testenv.Kafka(t, "sflow", "alerts")
	state := t.TempDir()

	// 8 windows; host A gets 10 flows per window, 100 in window 5, host B 10.
	produceAt(t, seeds, "192.0.2.1", "198.51.100.1", windowTimes(8, func(w int) int {
		if w == 5 {
			return 100
		}
		return 10
	}, 50*time.Millisecond))
	produceAt(t, seeds, "192.0.2.2", "198.51.100.2", windowTimes(8, func(int) int { return 10 }, 60*time.Millisecond))

	load := func(group string) *config.Config {
		src := fmt.Sprintf(analyzerConfig, seeds[0], group, in.URL, in.Bucket, plugins, state)
		cfg, err := config.Parse("test.toml", []byte(src), []string{})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	got := runService(t, load("first"), 8)
	spike := t0.Add(50 * time.Second).UnixNano()
	after := t0.Add(60 * time.Second).UnixNano()
	want := []struct {
		state, severity string
		window          int64
		observed        float64
	}{
		{"firing", "crit", spike, 1000},
		{"resolved", "crit", after, -1},
	}
	if len(got) != len(want) {
		b, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("got %d alerts, want %d:\n%s", len(got), len(want), b)
	}
	for i, w := range want {
		a := got[i]
		if a.State != w.state || a.Severity != w.severity || a.WindowStart.UnixNano() != w.window || a.Series["dst_ip"] != "198.51.100.1" || a.Field != "sum_packets" {
			t.Errorf("alert %d = %+v, want %s %s at %v for dst_ip=198.51.100.1", i, a, w.state, w.severity, time.Unix(0, w.window).UTC())
		}
		if id := analyze.AlertID("host-spike", "dst_ip=198.51.100.1", "sum_packets", w.window, "anomaly", w.state); a.ID != id {
			t.Errorf("alert %d id = %s, want %s", i, a.ID, id)
		}
		if w.observed > 0 && (a.Observed == nil || *a.Observed != w.observed || a.Expected == nil || *a.Expected != 100) {
			t.Errorf("alert %d observed/expected = %v/%v, want %v/100", i, a.Observed, a.Expected, w.observed)
		}
		if a.Module != "deviation@1.0.0" {
			t.Errorf("module = %q", a.Module)
		}
	}

	// The alert topic holds exactly those two, as JSON.
	onTopic := consumeAlerts(t, seeds, 2)
	for i, a := range onTopic {
		if a.ID != got[i].ID {
			t.Errorf("topic alert %d id %s, want %s", i, a.ID, got[i].ID)
		}
	}

	// Replay the whole input in a new consumer group: the windows are
	// rewritten and analysed again, and nothing new is published.
	if again := runService(t, load("replay"), 8); len(again) != 0 {
		t.Errorf("replay published %d alerts, want none: %+v", len(again), again)
	}
	if n := len(consumeAlerts(t, seeds, 2)); n != 2 {
		t.Errorf("alert topic holds %d alerts after the replay, want 2", n)
	}
}

// consumeAlerts reads the alert topic from the start until it has read at
// least n alerts and then a poll that brings nothing more.
func consumeAlerts(t *testing.T, seeds []string, n int) []analyze.Alert {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("alerts"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []analyze.Alert
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		f := cl.PollFetches(ctx)
		cancel()
		recs := f.Records()
		for _, r := range recs {
			var a analyze.Alert
			if err := json.Unmarshal(r.Value, &a); err != nil {
				t.Fatalf("alert is not JSON: %v: %s", err, r.Value)
			}
			out = append(out, a)
		}
		if len(recs) == 0 && len(out) >= n {
			return out
		}
	}
	t.Fatalf("read %d alerts from the topic, want at least %d", len(out), n)
	return nil
}
