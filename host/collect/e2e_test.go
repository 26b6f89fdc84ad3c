package collect

import (
	"bytes"
	"context"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/gen"
)

// TestGeneratorThroughCollector sends a generated minute over UDP through
// the collector into Kafka and compares with the same run written as lines.
func TestGeneratorThroughCollector(t *testing.T) {
	cfg := gen.Config{Seed: 11, Duration: time.Minute, Rate: 30, Speed: 120, // 0.5 s of wall time, paced to spare the socket buffer
		Scenario: &gen.Scenario{Anomalies: []gen.Anomaly{{Kind: gen.KindPortscan, Start: 10 * time.Second,
			Duration: 20 * time.Second, Target: mustAddr("203.0.113.20"), Factor: 1}}}}
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	ls := gen.NewLineSink(&want, nil)
	wantStats, err := g.Run(context.Background(), ls)
	if err != nil {
		t.Fatal(err)
	}
	ls.Flush()

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "sflow"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	c, _, _ := startCollector(t, Config{Listen: "127.0.0.1:0", Workers: 2, Brokers: cluster.ListenAddrs(), Topic: "sflow",
		Registry: prometheus.NewRegistry()})
	g2, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	us, err := gen.NewUDPSink(c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer us.Close()
	st, err := g2.Run(context.Background(), us)
	if err != nil {
		t.Fatal(err)
	}
	if st != (gen.Stats{FlowSamples: wantStats.FlowSamples, CounterSamples: wantStats.CounterSamples,
		Datagrams: wantStats.Datagrams, SimEnd: wantStats.SimEnd, Wall: st.Wall}) {
		t.Fatalf("second run differs: %+v vs %+v", st, wantStats)
	}
	total := float64(st.FlowSamples + st.CounterSamples)
	waitFor(t, "all records produced", func() bool { return value(c.m.produced) == total })

	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("sflow"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for len(got) < int(total) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	wantLines := strings.Split(strings.TrimSuffix(want.String(), "\n"), "\n")
	sort.Strings(got)
	sort.Strings(wantLines)
	if strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("Kafka has %d records, the line sink wrote %d; they differ", len(got), len(wantLines))
	}
	if value(c.m.datagrams) != float64(st.Datagrams) {
		t.Errorf("collector saw %v datagrams, generator sent %d", value(c.m.datagrams), st.Datagrams)
	}
}

// TestGenKafkaTimestamps checks gen's Kafka output carries the simulated
// event time as record timestamp and the agent as key.
func TestGenKafkaTimestamps(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "gen"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("gen"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	start := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	g, err := gen.New(gen.Config{Seed: 2, Start: start, Duration: 10 * time.Second, Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ks := gen.NewKafkaSink(ctx, cl, "gen")
	st, err := g.Run(ctx, ks)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for n < int(st.FlowSamples+st.CounterSamples) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			n++
			if r.Timestamp.Before(start) || !r.Timestamp.Before(start.Add(10*time.Second)) {
				t.Errorf("record time %v outside the simulated run", r.Timestamp)
			}
			f := strings.Split(string(r.Value), ",")
			lineAgent, err1 := netip.ParseAddr(f[1])
			keyAgent, err2 := netip.ParseAddr(string(r.Key))
			if err1 != nil || err2 != nil || lineAgent != keyAgent {
				t.Errorf("key %q for %q", r.Key, r.Value)
			}
		})
	}
	if n != int(st.FlowSamples+st.CounterSamples) {
		t.Errorf("consumed %d records, generated %d", n, st.FlowSamples+st.CounterSamples)
	}
}
