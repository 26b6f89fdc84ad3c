package collect

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tidemark/tidemark/host/gen"
	"github.com/tidemark/tidemark/host/sflow"
)

// BenchmarkCollect measures UDP receive → decode → format → produce to an
// in-process Kafka (kfake, sharing the 2 cores), with generated datagrams of
// ~7 samples each. The sender keeps at most 1024 datagrams in flight so the
// socket buffer does not overflow; the figure is what the collector sustains.
func BenchmarkCollect(b *testing.B) {
	var pkts [][]byte
	g, err := gen.New(gen.Config{Seed: 1, Duration: 5 * time.Second, Rate: 2000})
	if err != nil {
		b.Fatal(err)
	}
	var samples int64
	if _, err := g.Run(context.Background(), sinkFunc(func(b []byte) {
		pkts = append(pkts, append([]byte(nil), b...))
	})); err != nil {
		b.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "sflow"))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	c, err := New(Config{Listen: "127.0.0.1:0", Workers: 2, Brokers: cluster.ListenAddrs(), Topic: "sflow",
		Registry: prometheus.NewRegistry(), BufferMax: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	conn, err := net.Dial("udp", c.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ResetTimer()
	start := time.Now()
	sent := 0
	for b.Loop() {
		for _, p := range pkts {
			for float64(sent)-value(c.m.datagrams) > 1024 {
				time.Sleep(50 * time.Microsecond) // back off: UDP has no flow control
			}
			if _, err := conn.Write(p); err != nil {
				b.Fatal(err)
			}
			sent++
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for value(c.m.datagrams) < float64(sent) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	sec := time.Since(start).Seconds()
	got := value(c.m.datagrams)
	samples = int64(value(c.m.samples.WithLabelValues("flow")) + value(c.m.samples.WithLabelValues("counters")))
	b.ReportMetric(got/sec, "datagrams/s")
	b.ReportMetric(float64(samples)/sec, "records/s")
	b.ReportMetric(float64(sent)-got, "lost")
}

type sinkFunc func(b []byte)

func (f sinkFunc) Datagram(_ time.Time, _ netip.Addr, b []byte) error { f(b); return nil }

// BenchmarkPipeline measures decode → format → produce into an in-process
// Kafka without the UDP socket: the collector's capacity per datagram.
func BenchmarkPipeline(b *testing.B) {
	var pkts [][]byte
	g, err := gen.New(gen.Config{Seed: 1, Duration: 5 * time.Second, Rate: 2000})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := g.Run(context.Background(), sinkFunc(func(b []byte) {
		pkts = append(pkts, append([]byte(nil), b...))
	})); err != nil {
		b.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "sflow"))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	c, err := New(Config{Listen: "127.0.0.1:0", Brokers: cluster.ListenAddrs(), Topic: "sflow",
		Registry: prometheus.NewRegistry(), BufferMax: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer c.client.Close()
	w := &worker{c: c, keys: map[netip.Addr][]byte{}}
	var dec sflow.Decoder
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		for _, p := range pkts {
			w.now = time.Now()
			if _, err := dec.Decode(p, w); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	if err := c.client.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(n)/sec, "datagrams/s")
	b.ReportMetric(value(c.m.produced)/sec, "records/s")
}
