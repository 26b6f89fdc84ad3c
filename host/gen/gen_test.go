package gen

import (
	"bytes"
	"context"
	"flag"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/sflow"
)

func runLines(t *testing.T, cfg Config) (lines, times []string, g *Generator, st Stats) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out, ts bytes.Buffer
	s := NewLineSink(&out, &ts)
	st, err = g.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	times = strings.Split(strings.TrimSuffix(ts.String(), "\n"), "\n")
	return lines, times, g, st
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Duration: 30 * time.Second, Rate: 200}
	a, at, _, sa := runLines(t, cfg)
	b, bt, _, sb := runLines(t, cfg)
	if strings.Join(a, "\n") != strings.Join(b, "\n") || strings.Join(at, "\n") != strings.Join(bt, "\n") {
		t.Fatal("same seed, different output")
	}
	// 200/s × 1.25 (diurnal curve at midnight UTC) × 30 s = 7500.
	if sa.FlowSamples != sb.FlowSamples || sa.FlowSamples < 7200 || sa.FlowSamples > 7800 {
		t.Errorf("flow samples %d / %d, want ~7500", sa.FlowSamples, sb.FlowSamples)
	}
	c, _, _, _ := runLines(t, Config{Seed: 8, Duration: 30 * time.Second, Rate: 200})
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Error("different seeds, same output")
	}
	if len(a) != len(at) {
		t.Fatalf("%d lines but %d times", len(a), len(at))
	}
	// Times are the simulated event times, within the run, non-decreasing.
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	prev := start
	for i, s := range at {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		if ts.Before(prev) || ts.After(start.Add(30*time.Second)) {
			t.Fatalf("line %d time %s out of order or range", i, s)
		}
		prev = ts
	}
}

// TestOutputIsRealistic checks the mix: line format, IPv4 and IPv6, several
// countries' address blocks, TCP/UDP/ICMP, CNTR lines, all agents.
func TestOutputIsRealistic(t *testing.T) {
	lines, _, _, st := runLines(t, Config{Seed: 1, Duration: 2 * time.Minute, Rate: 100})
	var v6, icmp, udp, tcp, cntr int
	agents := map[string]bool{}
	countries := map[string]bool{}
	for _, l := range lines {
		f := strings.Split(l, ",")
		switch f[0] {
		case "CNTR":
			if len(f) != 21 {
				t.Fatalf("CNTR with %d columns: %s", len(f), l)
			}
			cntr++
			continue
		case "FLOW":
			if len(f) != 20 {
				t.Fatalf("FLOW with %d columns: %s", len(f), l)
			}
		default:
			t.Fatalf("bad line %q", l)
		}
		agents[f[1]] = true
		if f[6] == "0x86dd" {
			v6++
		}
		switch f[11] {
		case "1", "58":
			icmp++
		case "6":
			tcp++
		case "17":
			udp++
		}
		for _, ip := range f[9:11] {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				t.Fatalf("bad ip %q in %s", ip, l)
			}
			for _, p := range clientPrefixes {
				if p.net.Contains(a) {
					countries[p.country] = true
				}
			}
		}
	}
	n := int(st.FlowSamples)
	if v6 < n/20 || v6 > n/2 || icmp == 0 || udp < n/20 || tcp < n/2 || cntr == 0 {
		t.Errorf("mix of %d flows: v6 %d icmp %d udp %d tcp %d; cntr %d", n, v6, icmp, udp, tcp, cntr)
	}
	if len(agents) != 4 || !agents["2001:0db8:ffff:0000:0000:0000:0000:0004"] {
		t.Errorf("agents %v", agents)
	}
	if len(countries) < 8 {
		t.Errorf("clients from %d countries: %v", len(countries), countries)
	}
}

func TestDiurnalCurve(t *testing.T) {
	g, err := New(Config{Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	peak, trough := g.rate(day.Add(20*time.Hour)), g.rate(day.Add(8*time.Hour))
	if peak != 1500 || trough != 500 {
		t.Errorf("peak %v trough %v, want 1500 and 500", peak, trough)
	}
}

// countTo counts flow samples per simulated minute whose destination is dst.
func flowsTo(lines, times []string, dst string, from, to time.Time) (n int, srcs map[string]bool, ports map[string]bool) {
	srcs, ports = map[string]bool{}, map[string]bool{}
	for i, l := range lines {
		f := strings.Split(l, ",")
		if f[0] != "FLOW" || f[10] != dst {
			continue
		}
		ts, _ := time.Parse(time.RFC3339Nano, times[i])
		if ts.Before(from) || !ts.Before(to) {
			continue
		}
		n++
		srcs[f[9]] = true
		ports[f[15]] = true
	}
	return n, srcs, ports
}

func TestAnomalies(t *testing.T) {
	sc, err := ParseScenario([]byte(`
[[anomaly]]
kind = "ddos"
start = "2m"
duration = "1m"
target = "203.0.113.10"
sources = 300
factor = 5

[[anomaly]]
kind = "portscan"
start = "4m"
duration = "1m"
target = "203.0.113.20"
source = "198.51.100.66"
factor = 2

[[anomaly]]
kind = "link_failure"
start = "1m"
duration = "2m"
agent = 1

[[anomaly]]
kind = "ramp"
start = "0s"
duration = "5m"
target = "203.0.113.30"
factor = 8
`))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lines, times, g, _ := runLines(t, Config{Seed: 3, Start: start, Duration: 6 * time.Minute, Rate: 300, Scenario: sc,
		DiurnalAmplitude: -1})
	min := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }

	before, _, _ := flowsTo(lines, times, "203.0.113.10", min(0), min(2))
	during, srcs, _ := flowsTo(lines, times, "203.0.113.10", min(2), min(3))
	if during < 5*before || during < 1000 || len(srcs) < 250 {
		t.Errorf("ddos: %d samples to target during (2 min before: %d), %d sources", during, before, len(srcs))
	}
	scan, scanSrcs, ports := flowsTo(lines, times, "203.0.113.20", min(4), min(5))
	if scan < 150 || len(ports) < 150 || !scanSrcs["198.51.100.66"] {
		t.Errorf("portscan: %d samples, %d ports, sources %d", scan, len(ports), len(scanSrcs))
	}
	down := 0
	for i, l := range lines {
		ts, _ := time.Parse(time.RFC3339Nano, times[i])
		if strings.HasPrefix(l, "FLOW,192.0.2.2,") || strings.HasPrefix(l, "CNTR,192.0.2.2,") {
			if !ts.Before(min(1)) && ts.Before(min(3)) {
				down++
			}
		}
	}
	if down != 0 {
		t.Errorf("link_failure: agent 192.0.2.2 sent %d lines while down", down)
	}
	first, _, _ := flowsTo(lines, times, "203.0.113.30", min(0), min(1))
	last, _, _ := flowsTo(lines, times, "203.0.113.30", min(4), min(5))
	if last < 3*first+10 {
		t.Errorf("ramp: %d samples in the first minute, %d in the fifth", first, last)
	}
	inj := g.Injections()
	if len(inj) != 4 || !inj[0].From.Equal(min(2)) || !inj[0].To.Equal(min(3)) || inj[0].Samples < 1000 ||
		inj[1].Samples < 150 || inj[3].Samples == 0 {
		t.Errorf("injections: %v", inj)
	}
	if s := inj[0].String(); !strings.Contains(s, "ddos") || !strings.Contains(s, "2026-03-01T12:02:00Z") {
		t.Errorf("injection text %q", s)
	}
}

func TestParseAnomalyFlagAndErrors(t *testing.T) {
	a, err := ParseAnomaly("ddos,start=2m,duration=1m,target=203.0.113.10,sources=500,factor=20")
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != KindDDoS || a.Start != 2*time.Minute || a.Duration != time.Minute || a.Sources != 500 || a.Factor != 20 ||
		a.Target != netip.MustParseAddr("203.0.113.10") {
		t.Errorf("%+v", a)
	}
	for _, bad := range []string{"ddos,start=2m", "flood,target=1.2.3.4", "ddos,target=1.2.3.4,oops=1", "ramp,target=x",
		"portscan,target=1.2.3.4,duration=-1s", "ddos,target=1.2.3.4,start"} {
		if _, err := ParseAnomaly(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := ParseScenario([]byte("[[anomaly]]\nkind = \"ddos\"\ntarget = \"1.2.3.4\"\nfactr = 3\n")); err == nil ||
		!strings.Contains(err.Error(), "factr") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := New(Config{Scenario: &Scenario{Anomalies: []Anomaly{{Kind: KindLinkFailure, Agent: 9, Duration: time.Minute}}}}); err == nil {
		t.Error("link_failure of a missing agent accepted")
	}
}

// TestSpeedPacing runs against a fake clock: with Speed 60, one simulated
// minute must take one wall second.
func TestSpeedPacing(t *testing.T) {
	g, err := New(Config{Seed: 1, Duration: time.Minute, Rate: 10, Speed: 60})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var slept time.Duration
	g.now = func() time.Time { return wall }
	g.sleep = func(_ context.Context, d time.Duration) error { wall = wall.Add(d); slept += d; return nil }
	st, err := g.Run(context.Background(), &DiscardSink{})
	if err != nil {
		t.Fatal(err)
	}
	if slept != time.Second || st.Wall != time.Second {
		t.Errorf("slept %v, wall %v; want 1s", slept, st.Wall)
	}
}

func TestProgressLine(t *testing.T) {
	var p bytes.Buffer
	g, err := New(Config{Seed: 1, Duration: 10 * time.Second, Rate: 10, Progress: &p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Run(context.Background(), &DiscardSink{}); err != nil {
		t.Fatal(err)
	}
	if s := p.String(); !strings.HasPrefix(s, "\rsim 2026-01-05T00:00:10Z  samples ") || !strings.HasSuffix(s, "\n") {
		t.Errorf("progress %q", s)
	}
}

// Every datagram the generator sends decodes cleanly.
func TestDatagramsDecode(t *testing.T) {
	g, err := New(Config{Seed: 5, Duration: 20 * time.Second, Rate: 500})
	if err != nil {
		t.Fatal(err)
	}
	s := &checkSink{t: t}
	if _, err := g.Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if s.n == 0 || s.max > 1500 {
		t.Errorf("%d datagrams, largest %d bytes (must fit a 1500-byte MTU)", s.n, s.max)
	}
}

type checkSink struct {
	t      *testing.T
	dec    sflow.Decoder
	n, max int
}

func (s *checkSink) Datagram(_ time.Time, agent netip.Addr, b []byte) error {
	d, err := s.dec.Decode(b, nopHandler{})
	if err != nil {
		s.t.Fatalf("datagram %d: %v", s.n, err)
	}
	if d.Agent != agent {
		s.t.Fatalf("agent %v, want %v", d.Agent, agent)
	}
	s.n++
	s.max = max(s.max, len(b)+28) // + IPv4/UDP headers
	return nil
}

type nopHandler struct{}

func (nopHandler) Flow(*sflow.Datagram, *sflow.FlowSample)        {}
func (nopHandler) Counters(*sflow.Datagram, *sflow.CounterSample) {}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	var samples, datagrams int64
	start := time.Now()
	for b.Loop() {
		g, err := New(Config{Seed: 1, Duration: 10 * time.Second, Rate: 10000})
		if err != nil {
			b.Fatal(err)
		}
		st, err := g.Run(context.Background(), &DiscardSink{})
		if err != nil {
			b.Fatal(err)
		}
		samples += st.FlowSamples
		datagrams += st.Datagrams
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(samples)/sec, "records/s")
	b.ReportMetric(float64(datagrams)/sec, "datagrams/s")
}

func BenchmarkGenerateLines(b *testing.B) {
	var lines int64
	start := time.Now()
	for b.Loop() {
		g, err := New(Config{Seed: 1, Duration: 10 * time.Second, Rate: 10000})
		if err != nil {
			b.Fatal(err)
		}
		var c countWriter
		s := NewLineSink(&c, nil)
		if _, err := g.Run(context.Background(), s); err != nil {
			b.Fatal(err)
		}
		s.Flush()
		lines += c.lines
	}
	b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "records/s")
}

type countWriter struct{ lines int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

var updateSample = flag.Bool("update", false, "rewrite configs/samples/sflow-sample.{txt,times}")

// TestSampleFileIsReproducible regenerates configs/samples/sflow-sample.txt
// with the command in configs/samples/README.md.
func TestSampleFileIsReproducible(t *testing.T) {
	a, err := ParseAnomaly("ddos,start=40s,duration=10s,target=203.0.113.10,sources=200,factor=4")
	if err != nil {
		t.Fatal(err)
	}
	lines, times, _, _ := runLines(t, Config{Seed: 42, Start: time.Date(2026, 1, 5, 19, 0, 0, 0, time.UTC),
		Duration: time.Minute, Rate: 25, Scenario: &Scenario{Anomalies: []Anomaly{a}}})
	for _, f := range []struct {
		path string
		got  []string
	}{{"../../configs/samples/sflow-sample.txt", lines}, {"../../configs/samples/sflow-sample.times", times}} {
		if *updateSample {
			if err := os.WriteFile(f.path, []byte(strings.Join(f.got, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if string(want) != strings.Join(f.got, "\n")+"\n" {
			t.Errorf("%s differs from the generator's output (regenerate it, see configs/samples/README.md)", f.path)
		}
	}
}

func TestExampleScenario(t *testing.T) {
	s, err := LoadScenario("../../configs/samples/scenario.toml")
	if err != nil {
		t.Fatal(err)
	}
	kinds := ""
	for _, a := range s.Anomalies {
		kinds += a.Kind + " "
	}
	if kinds != "ramp ddos portscan link_failure " || s.Anomalies[1].Sources != 500 || s.Anomalies[2].Source != netip.MustParseAddr("95.24.13.37") {
		t.Errorf("scenario %+v", s.Anomalies)
	}
	inj := s.Schedule(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	if !inj[1].From.Equal(time.Date(2026, 1, 5, 0, 10, 0, 0, time.UTC)) || !inj[1].To.Equal(time.Date(2026, 1, 5, 0, 13, 0, 0, time.UTC)) {
		t.Errorf("schedule %v", inj[1])
	}
}

// With no Duration the generator runs until its context ends; that is a
// clean stop, and a Generator cannot be run twice.
func TestRunUntilCancelled(t *testing.T) {
	g, err := New(Config{Seed: 1, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &cancelAfter{n: 50, cancel: cancel}
	st, err := g.Run(ctx, s)
	if err != nil || st.Datagrams < 50 || !st.SimEnd.After(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("stats %+v, err %v", st, err)
	}
	if _, err := g.Run(context.Background(), s); err == nil {
		t.Error("second Run accepted")
	}
}

type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Datagram(time.Time, netip.Addr, []byte) error {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return nil
}
