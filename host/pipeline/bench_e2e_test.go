package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/pipeline"
	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/internal/testenv"
)

const e2eBenchConfig = `
[input]
brokers = [%q]
topic = "sflow"
group = "bench"
format = "sflowtool"
max_poll_records = 20000

[[pipeline]]
name = "by_proto"
fields = ["bytes = packet_size * sampling_rate", "proto = if(ip_protocol == 6, \"tcp\", \"udp\")"]
window = "10s"
lateness = "5s"
idle_timeout = "200ms"
group_by = ["proto", "dst_port"]
aggregate = ["sum(bytes)", "count()", "count_distinct(src_ip)", "max(packet_size)"]

[[pipeline]]
name = "talkers"
fields = ["bytes = packet_size * sampling_rate"]
window = "10s"
lateness = "5s"
idle_timeout = "200ms"
group_by = ["src_ip"]
aggregate = ["sum(bytes)", "count()"]

[output.influxdb]
url = %q
bucket = %q
`

// BenchmarkEndToEnd: records through kfake (real Kafka protocol, in this
// process) into a real influxd, until every offset is committed. linesPer
// is how many sflowtool lines one Kafka message carries (the collector
// batches; sflowtool piped into a producer sends one).
func BenchmarkEndToEnd(b *testing.B) {
	for _, linesPer := range []int{1, 10} {
		b.Run(fmt.Sprintf("lines_per_message=%d", linesPer), func(b *testing.B) {
			in := testenv.Influx(b)
			_, seeds := testenv.Kafka(b, "sflow")
			lines := benchLines(1 << 14)
			n := max(b.N, 1_000_000)
			cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerBatchMaxBytes(1<<20))
			if err != nil {
				b.Fatal(err)
			}
			msgs := 0
			var wg sync.WaitGroup
			for i := 0; i < n; i += linesPer {
				var v []byte
				for j := i; j < i+linesPer && j < n; j++ {
					v = append(v, lines[j%len(lines)]...)
					v = append(v, '\n')
				}
				wg.Add(1)
				cl.Produce(context.Background(), &kgo.Record{Topic: "sflow", Key: []byte{byte(msgs)}, Value: v, Timestamp: t0.Add(time.Duration(i) * 50 * time.Microsecond)}, func(_ *kgo.Record, err error) {
					if err != nil {
						b.Error(err)
					}
					wg.Done()
				})
				msgs++
			}
			wg.Wait()
			cl.Close()
			cfg := loadConfig(b, fmt.Sprintf(e2eBenchConfig, seeds[0], in.URL, in.Bucket))
			plan, err := pipeline.Compile(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			snk, err := sink.NewInflux(ctx, sink.InfluxConfig{URL: in.URL, Bucket: in.Bucket})
			if err != nil {
				b.Fatal(err)
			}
			defer snk.Close()
			// Done when the committed offsets of all partitions add up to
			// the number of messages produced.
			ends := map[int32]int64{}
			done := make(chan struct{})
			var once sync.Once
			r, err := pipeline.NewRunner(pipeline.Options{Config: cfg, Plan: plan, Sinks: []sink.Sink{snk},
				OnCommit: func(c map[string]map[int32]pipeline.Commit) {
					var sum int64
					for p, pc := range c["sflow"] {
						ends[p] = pc.Offset
					}
					for _, o := range ends {
						sum += o
					}
					if sum >= int64(msgs) {
						once.Do(func() { close(done) })
					}
				}})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			errc := make(chan error, 1)
			go func() { errc <- r.Run(ctx) }()
			select {
			case <-done:
			case err := <-errc:
				b.Fatalf("runner stopped: %v", err)
			case <-time.After(5 * time.Minute):
				b.Fatal("not done in 5 minutes")
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-errc
			if got := r.Engine().Lines.Load(); got != uint64(n) {
				b.Fatalf("processed %d lines, want %d", got, n)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
		})
	}
}
