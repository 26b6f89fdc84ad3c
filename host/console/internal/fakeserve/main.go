// Command fakeserve serves the console over an in-memory Backend with
// synthetic, moving data: pipelines whose counters grow, a window of points
// every 10 s, and an alert every -alert-every. It exists for developing the
// console and for its browser tests while `tidemark demo` does not yet
// implement console.Backend; it is not a test of the pipeline.
//
//	go run ./host/console/internal/fakeserve -listen 127.0.0.1:18080
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidemark/tidemark/host/console"
	"github.com/tidemark/tidemark/host/console/internal/memback"
)

const window = 10 * time.Second

type pipeline struct {
	name   string
	group  string
	keys   []string
	fields map[string]float64 // field → scale
	rate   float64
}

var pipelines = []pipeline{
	{"traffic_by_protocol", "proto", []string{"tcp", "udp", "other"}, map[string]float64{"sum_bytes": 2e8, "max_packet_size": 1500, "count": 2e4, "distinct_src_ip": 300}, 2000},
	{"top_talkers", "src_net", []string{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "192.168.7.0/24", "172.16.4.0/24", "10.9.0.0/24", "10.0.7.0/24", "203.0.113.0/24", "198.51.100.0/24", "10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"}, map[string]float64{"sum_bytes": 5e7, "distinct_ports": 40, "p95_packet_size": 1400}, 2000},
	{"traffic_to_host", "dst_ip", []string{"10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8"}, map[string]float64{"sum_packets": 9e4, "sum_bytes": 6e7, "distinct_src_ip": 120}, 1700},
}

func fieldNames(p pipeline) []string {
	var order = map[string][]string{
		"traffic_by_protocol": {"sum_bytes", "max_packet_size", "count", "distinct_src_ip"},
		"top_talkers":         {"sum_bytes", "distinct_ports", "p95_packet_size"},
		"traffic_to_host":     {"sum_packets", "sum_bytes", "distinct_src_ip"},
	}
	return order[p.name]
}

func value(p pipeline, field string, key int, t time.Time) float64 {
	scale := p.fields[field] / float64(key+1)
	phase := float64(t.Unix())/600*2*math.Pi + float64(key)
	return math.Round(scale * (1 + 0.3*math.Sin(phase) + 0.1*rand.Float64()))
}

func main() {
	listen := flag.String("listen", "127.0.0.1:18080", "address to serve on")
	alertEvery := flag.Duration("alert-every", 4*time.Second, "how often to raise an alert")
	offset := flag.Duration("offset", 0, "event time minus wall time (negative: a replay of the past)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	b := memback.New()
	started := time.Now()
	ov := console.Overview{Health: map[string]string{"kafka": "ok", "influxdb": "ok"}, Started: started}
	for _, p := range pipelines {
		ov.Pipelines = append(ov.Pipelines, console.PipelineStatus{Name: p.name, GroupBy: []string{p.group}, Fields: fieldNames(p), Window: "10s"})
	}
	b.SetOverview(ov)
	b.SetAnalyzers([]console.Analyzer{
		{Name: "proto-spike", Module: "deviation", Version: "1.2.0", Hash: "sha256:9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6", Pipeline: "traffic_by_protocol", State: "ok", LastReload: started},
		{Name: "talker-zscore", Module: "zscore", Version: "0.4.1", Hash: "sha256:1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80", Pipeline: "top_talkers", State: "ok", LastReload: started},
		{Name: "host-ddos", Module: "ddos", Version: "1.0.0", Hash: "sha256:77aa0c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f801", Pipeline: "traffic_to_host", State: "backoff", Failures: 2, LastError: "call timeout after 250ms", LastReload: started},
	})
	// An hour of history, then a window every 10 s.
	addWindow := func(t time.Time) {
		for _, p := range pipelines {
			for f := range p.fields {
				for k, key := range p.keys {
					b.AddPoints(p.name, memback.Point{Tags: map[string]string{p.group: key}, Field: f, Time: t, Value: value(p, f, k, t)})
				}
			}
		}
	}
	clock := func() time.Time { return time.Now().Add(*offset) }
	first := clock().Truncate(window).Add(-time.Hour)
	next := first
	for ; next.Before(clock().Truncate(window)); next = next.Add(window) {
		addWindow(next)
	}

	h := console.Handler(console.Options{
		Registry: prometheus.NewRegistry(), Logger: log, Backend: b,
		Checks: []console.Check{{Name: "fake", Ready: func(context.Context) error { return nil }}},
	})
	go func() {
		tick := time.NewTicker(time.Second)
		alerts := time.NewTicker(*alertEvery)
		defer tick.Stop()
		defer alerts.Stop()
		n := 0
		sevs := []string{"warn", "crit", "warn", "info", "ok"}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				now := clock()
				for now.Truncate(window).After(next) {
					addWindow(next)
					next = next.Add(window)
				}
				for _, p := range pipelines {
					b.UpdatePipeline(p.name, func(s *console.PipelineStatus) {
						s.RecordsPerSec = p.rate * (0.9 + 0.2*rand.Float64())
						s.Aggregated += uint64(s.RecordsPerSec)
						s.WindowsWritten = uint64(now.Sub(first) / window)
						s.PointsWritten = s.WindowsWritten * uint64(len(p.keys))
						s.OpenWindows = 2
						s.LastWindow = next.Add(-window)
						if rand.IntN(5) == 0 {
							s.Late++
						}
					})
				}
			case <-alerts.C:
				now := clock()
				p := pipelines[n%len(pipelines)]
				an := b.Analyzers()[n%3]
				w := now.Truncate(window).Add(-2 * window)
				sev := sevs[n%len(sevs)]
				exp := p.fields[fieldNames(p)[0]]
				b.Raise(console.Alert{
					ID: fmt.Sprintf("%016x", rand.Uint64()), Instance: an.Name, Module: an.Module + "@" + an.Version, Pipeline: p.name,
					Severity: sev, Kind: "anomaly", Series: map[string]string{p.group: p.keys[(n*5)%len(p.keys)]}, Field: fieldNames(p)[0],
					Observed: exp * 4.2, Expected: exp, Lower: exp * 0.6, Upper: exp * 1.4, Window: w,
					Message: fmt.Sprintf("%s %.1fx the expected value", fieldNames(p)[0], 4.2), At: now,
				})
				n++
			}
		}
	}()
	err := console.Serve(ctx, *listen, h, log, func(a net.Addr) { log.Info("fakeserve: console", "url", "http://"+a.String()) })
	if err != nil {
		log.Error("fakeserve", "err", err)
		os.Exit(1)
	}
}
