package pipeline_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/pipeline"
	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// t0 is a window-aligned event time.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func flowLine(src, dst string, proto, size int) string {
	return fmt.Sprintf("FLOW,10.0.0.1,1,2,00aabbccddee,001122334455,0x0800,10,20,%s,%s,%d,0x00,64,1234,80,0x10,%d,%d,10", src, dst, proto, size, size-20)
}

type msg struct {
	at   time.Duration
	line string
}

// produce writes msgs to partition 0 of topic in order, with the Kafka
// timestamp as the event time (sflowtool lines carry none).
func produce(t *testing.T, seeds []string, topic string, msgs []msg) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = &kgo.Record{Topic: topic, Partition: 0, Value: []byte(m.line), Timestamp: t0.Add(m.at)}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func loadConfig(t testing.TB, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.toml", []byte(src), []string{})
	if err != nil {
		t.Fatalf("config:\n%v", err)
	}
	return cfg
}

// runUntil runs a pipeline until every partition of topic has committed
// offset want (all records processed and their windows written), then
// stops it cleanly.
func runUntil(t *testing.T, cfg *config.Config, in *testenv.InfluxDB, want int64, mod func(*pipeline.Options)) *pipeline.Runner {
	t.Helper()
	plan, err := pipeline.Compile(cfg, nil)
	if err != nil {
		t.Fatalf("compile:\n%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snk, err := sink.NewInflux(ctx, sink.InfluxConfig{URL: in.URL, Bucket: in.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	defer snk.Close()
	done := make(chan struct{})
	var once sync.Once
	opts := pipeline.Options{
		Config: cfg, Plan: plan, Sinks: []sink.Sink{snk},
		OnCommit: func(c map[string]map[int32]pipeline.Commit) {
			for _, ps := range c {
				for _, pc := range ps {
					if pc.Offset >= want {
						once.Do(func() { close(done) })
					}
				}
			}
		},
	}
	if mod != nil {
		mod(&opts)
	}
	r, err := pipeline.NewRunner(opts)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	select {
	case <-done:
	case err := <-errc:
		t.Fatalf("runner stopped early: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("pipeline did not commit all offsets within 90s")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("run: %v", err)
	}
	return r
}

const e2eConfig = `
[input]
brokers = [%q]
topic = "sflow"
group = "e2e"
format = "sflowtool"
dead_letter_topic = "dlq"

[[pipeline]]
name = "by_proto"
fields = ["bytes = packet_size * sampling_rate", "proto = if(ip_protocol == 6, \"tcp\", \"udp\")"]
window = "10s"
lateness = "5s"
idle_timeout = "300ms"
group_by = ["proto"]
aggregate = ["sum(bytes)", "count()", "count_distinct(src_ip)", "max(packet_size)", "min(packet_size)", "product(sampling_rate)", "avg(packet_size)"]
late = "dead_letter"

[output.influxdb]
url = %q
bucket = %q
`

// The whole path against real Kafka protocol (kfake) and a real influxd:
// out-of-order, late and malformed records; exact aggregates read back.
func TestEndToEndSflowtool(t *testing.T) {
	in := testenv.Influx(t)
	_, seeds := testenv.Kafka(t, "sflow", "dlq")
	msgs := []msg{
		{1 * time.Second, flowLine("192.0.2.1", "198.51.100.1", 6, 100)},
		{2 * time.Second, flowLine("192.0.2.2", "198.51.100.1", 6, 200)},
		{3 * time.Second, flowLine("192.0.2.1", "198.51.100.1", 17, 50)},
		{12 * time.Second, flowLine("192.0.2.3", "198.51.100.1", 6, 300)}, // watermark 7s
		{4 * time.Second, flowLine("192.0.2.3", "198.51.100.1", 6, 400)},  // out of order, in time
		{5 * time.Second, "FLOW,garbage"},                                 // malformed
		{16 * time.Second, flowLine("192.0.2.1", "198.51.100.1", 6, 10)},  // watermark 11s: [0,10) closes
		{5 * time.Second, flowLine("192.0.2.4", "198.51.100.1", 6, 999)},  // late
		{25 * time.Second, flowLine("192.0.2.2", "198.51.100.1", 17, 70) + "\n" +
			"CNTR,10.0.0.1,3,6,1000000000,1,3,100,1,0,0,0,0,0,200,2,0,0,0,0,2"}, // two lines in one message; counters are not flows
	}
	produce(t, seeds, "sflow", msgs)
	cfg := loadConfig(t, fmt.Sprintf(e2eConfig, seeds[0], in.URL, in.Bucket))
	r := runUntil(t, cfg, in, int64(len(msgs)), nil)

	rows := in.Rows(t, `SELECT * FROM by_proto ORDER BY time`)
	type key struct {
		at    time.Duration
		proto string
	}
	got := map[key]map[string]any{}
	for _, row := range rows {
		ts := row["time"].(interface{ String() string }).String()
		var ns int64
		fmt.Sscan(ts, &ns)
		got[key{time.Unix(0, ns).Sub(t0), row["proto"].(string)}] = row
	}
	want := map[key]map[string]string{
		{0, "tcp"}:                {"sum_bytes": "7000", "count": "3", "distinct_src_ip": "3", "max_packet_size": "400", "min_packet_size": "100", "product_sampling_rate": "1000", "avg_packet_size": "233.33333333333334"},
		{0, "udp"}:                {"sum_bytes": "500", "count": "1", "distinct_src_ip": "1", "max_packet_size": "50", "min_packet_size": "50", "product_sampling_rate": "10", "avg_packet_size": "50"},
		{10 * time.Second, "tcp"}: {"sum_bytes": "3100", "count": "2", "distinct_src_ip": "2", "max_packet_size": "300", "min_packet_size": "10", "product_sampling_rate": "100", "avg_packet_size": "155"},
		{20 * time.Second, "udp"}: {"sum_bytes": "700", "count": "1", "distinct_src_ip": "1", "max_packet_size": "70", "min_packet_size": "70", "product_sampling_rate": "10", "avg_packet_size": "70"},
	}
	if len(got) != len(want) {
		t.Errorf("got %d points, want %d: %v", len(got), len(want), rows)
	}
	for k, fields := range want {
		row, ok := got[k]
		if !ok {
			t.Errorf("missing point %v", k)
			continue
		}
		for f, v := range fields {
			if s := fmt.Sprint(row[f]); s != v {
				t.Errorf("point %v: %s = %s, want %s", k, f, s, v)
			}
		}
	}
	types := in.FieldTypes(t, "by_proto")
	if types["count"] != "integer" || types["sum_bytes"] != "float" {
		t.Errorf("field types = %v", types)
	}

	e := r.Engine()
	if m := e.Malformed.Snapshot(); m["columns"] != 1 || len(m) != 1 {
		t.Errorf("malformed = %v, want columns:1", m)
	}
	p := e.Pipes()[0]
	if p.Late.Load() != 1 || p.Aggregated.Load() != 7 || p.WindowsWritten.Load() != 3 {
		t.Errorf("late=%d aggregated=%d windows=%d, want 1, 7, 3", p.Late.Load(), p.Aggregated.Load(), p.WindowsWritten.Load())
	}

	// The dead-letter topic holds the malformed and the late record, each
	// with its reason.
	dl := consumeAll(t, seeds, "dlq", 2)
	reasons := []string{}
	for _, rec := range dl {
		h := map[string]string{}
		for _, x := range rec.Headers {
			h[x.Key] = string(x.Value)
		}
		reasons = append(reasons, h["tidemark-stage"]+"/"+h["tidemark-reason"]+"="+string(rec.Value))
	}
	sort.Strings(reasons)
	wantDL := []string{
		"decode/columns=FLOW,garbage",
		"late/late=" + flowLine("192.0.2.4", "198.51.100.1", 6, 999),
	}
	if strings.Join(reasons, "\n") != strings.Join(wantDL, "\n") {
		t.Errorf("dead letters:\n%s\nwant:\n%s", strings.Join(reasons, "\n"), strings.Join(wantDL, "\n"))
	}
}

func consumeAll(t *testing.T, seeds []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records from %s", len(out), n, topic)
		}
		out = append(out, f.Records()...)
	}
	return out
}
