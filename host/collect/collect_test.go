package collect

import (
	"context"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/sflow"
)

// datagram builds a datagram from agent with one TCP flow sample and one
// counter sample, and returns it with the lines sflowtool prints for it.
func datagram(agent string, seq uint32, port uint16) ([]byte, []string) {
	var b sflow.Builder
	a := netip.MustParseAddr(agent)
	b.Begin(a, 0, seq, seq*1000)
	frame, n := sflow.AppendFrame(nil, &sflow.Packet{
		SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 2},
		SrcIP: netip.MustParseAddr("198.51.100.7"), DstIP: netip.MustParseAddr("203.0.113.10"),
		Protocol: 6, TTL: 60, SrcPort: port, DstPort: 443, TCPFlags: 0x10, Payload: 100}, 128)
	b.BeginFlowSample(sflow.FlowSampleHeader{SequenceNo: seq, SourceIDIndex: 3, SamplingRate: 1000, InputPort: 3, OutputPort: 4})
	b.RawHeader(sflow.HeaderProtoEthernet, uint32(n), 4, frame)
	b.EndSample()
	b.BeginCounterSample(sflow.CounterSampleHeader{SequenceNo: seq, SourceIDIndex: 3})
	b.GenericInterface(&sflow.IfCounters{IfIndex: 3, IfType: 6, IfSpeed: 1e9, IfInOctets: uint64(seq) * 100})
	b.EndSample()
	lines := []string{
		"FLOW," + agent + ",3,4,020000000001,020000000002,0x0800,0,0,198.51.100.7,203.0.113.10,6,0x00,60," +
			itoa(int(port)) + ",443,0x10,158,140,1000",
		"CNTR," + agent + ",3,6,1000000000,0,0," + itoa(int(seq)*100) + ",0,0,0,0,0,0,0,0,0,0,0,0,0",
	}
	return append([]byte(nil), b.Bytes()...), lines
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func itoa(i int) string { return strconv.Itoa(i) }

// value reads a counter or gauge.
func value(m prometheus.Metric) float64 {
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		panic(err)
	}
	if pb.Counter != nil {
		return pb.Counter.GetValue()
	}
	return pb.Gauge.GetValue()
}

func startCollector(t *testing.T, cfg Config) (*Collector, context.CancelFunc, chan error) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return c, cancel, done
}

func send(t *testing.T, addr net.Addr, pkts ...[]byte) {
	t.Helper()
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range pkts {
		if _, err := conn.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls a condition (a metric reaching a value) with a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCollectorToKafka(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "sflow"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	reg := prometheus.NewRegistry()
	c, _, _ := startCollector(t, Config{Listen: "127.0.0.1:0", Workers: 2, Brokers: cluster.ListenAddrs(),
		Topic: "sflow", Format: "sflowtool", Compression: "zstd", Registry: reg})

	var want []string
	var pkts [][]byte
	// Agent A sends sequence 1, 2, 5 (3 and 4 lost); agent B 10, 11.
	for _, s := range []struct {
		agent string
		seq   uint32
	}{{"10.0.0.1", 1}, {"10.0.0.1", 2}, {"10.0.0.1", 5}, {"2001:db8::9", 10}, {"2001:db8::9", 11}} {
		p, lines := datagram(s.agent, s.seq, uint16(40000+s.seq))
		pkts = append(pkts, p)
		for _, l := range lines {
			want = append(want, strings.Replace(l, "FLOW,2001:db8::9", "FLOW,2001:0db8:0000:0000:0000:0000:0000:0009", 1))
		}
	}
	for i := range want {
		want[i] = strings.Replace(want[i], "CNTR,2001:db8::9", "CNTR,2001:0db8:0000:0000:0000:0000:0000:0009", 1)
	}
	// A corrupt datagram is counted, not produced.
	bad := append([]byte(nil), pkts[0]...)
	bad[3] = 9
	send(t, c.Addr(), append(pkts, bad)...)

	waitFor(t, "10 records produced", func() bool { return value(c.m.produced) == 10 })

	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("sflow"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	perAgent := map[string][]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(got) < len(want) {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(got), len(want), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got = append(got, string(r.Value))
			perAgent[string(r.Key)] = append(perAgent[string(r.Key)], string(r.Value))
			if r.Timestamp.IsZero() {
				t.Errorf("record without timestamp")
			}
		})
	}
	sort.Strings(got)
	sortedWant := append([]string(nil), want...)
	sort.Strings(sortedWant)
	if strings.Join(got, "\n") != strings.Join(sortedWant, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(sortedWant, "\n"))
	}
	// Keyed by agent: each agent's records are on one partition, in order.
	if a := perAgent["10.0.0.1"]; strings.Join(a, "\n") != strings.Join(want[:6], "\n") {
		t.Errorf("agent 10.0.0.1 order:\n%s", strings.Join(a, "\n"))
	}
	if value(c.m.seqGaps.WithLabelValues("10.0.0.1", "0")) != 2 {
		t.Errorf("sequence gap for 10.0.0.1 = %v, want 2", value(c.m.seqGaps.WithLabelValues("10.0.0.1", "0")))
	}
	if value(c.m.seqGaps.WithLabelValues("2001:db8::9", "0")) != 0 {
		t.Errorf("unexpected sequence gap for 2001:db8::9")
	}
	if n := value(c.m.datagrams); n != 6 {
		t.Errorf("datagrams = %v, want 6", n)
	}
	if n := value(c.m.decodeErrors.WithLabelValues("version")); n != 1 {
		t.Errorf("version decode errors = %v, want 1", n)
	}
	if n := value(c.m.samples.WithLabelValues("flow")); n != 5 {
		t.Errorf("flow samples = %v, want 5", n)
	}
	// The metrics are on the given registry.
	mfs, err := reg.Gather()
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	if err != nil || !names["tidemark_collect_records_produced_total"] || !names["tidemark_collect_sequence_gap_datagrams_total"] {
		t.Errorf("registry has %v, %v", names, err)
	}
}

func TestCollectorJSON(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "sflow-json"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	c, _, _ := startCollector(t, Config{Listen: "127.0.0.1:0", Brokers: cluster.ListenAddrs(), Topic: "sflow-json", Format: "json"})
	p, _ := datagram("10.0.0.2", 7, 40007)
	send(t, c.Addr(), p)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("sflow-json"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for len(got) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if len(got) != 2 || !strings.Contains(got[0], `"type":"FLOW"`) || !strings.Contains(got[0], `"src_port":40007`) ||
		!strings.Contains(got[0], `"datagram_seq":7`) || !strings.Contains(got[1], `"if_in_octets":700`) {
		t.Errorf("json records: %q", got)
	}
}

// With Kafka unreachable the producer keeps BufferMax records and drops the
// rest, counting them.
func TestCollectorDropsPastBuffer(t *testing.T) {
	// A broker address where nothing listens.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	c, _, _ := startCollector(t, Config{Listen: "127.0.0.1:0", Brokers: []string{dead}, Topic: "sflow", BufferMax: 4, FlushTimeout: 50 * time.Millisecond})
	var pkts [][]byte
	for i := uint32(1); i <= 5; i++ {
		p, _ := datagram("10.0.0.3", i, 1)
		pkts = append(pkts, p)
	}
	send(t, c.Addr(), pkts...)
	waitFor(t, "6 drops", func() bool { return value(c.m.dropped.WithLabelValues("buffer_full")) == 6 })
	if n := c.client.BufferedProduceRecords(); n != 4 {
		t.Errorf("buffered %d records, want 4", n)
	}
	if n := value(c.m.produced); n != 0 {
		t.Errorf("produced %v with no broker", n)
	}
}

// Agents may export over IPv6: the collector listens on [::1] here.
func TestCollectorIPv6Transport(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "sflow6"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	c, _, _ := startCollector(t, Config{Listen: "[::1]:0", Workers: 2, Brokers: cluster.ListenAddrs(), Topic: "sflow6"})
	p, lines := datagram("10.0.0.4", 1, 40001)
	send(t, c.Addr(), p)
	waitFor(t, "2 records produced", func() bool { return value(c.m.produced) == 2 })
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("sflow6"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for len(got) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Errorf("got %q, want %q", got, lines)
	}
}

func TestConfigErrors(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	reg := prometheus.NewRegistry()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Brokers: []string{"x:1"}, Topic: "t", Format: "csv"}, `format "csv"`},
		{Config{Brokers: []string{"x:1"}, Topic: "t", Compression: "brotli"}, `compression "brotli"`},
		{Config{Topic: "t"}, "no brokers"},
		{Config{Brokers: []string{"x:1"}}, "no topic"},
		{Config{Listen: busy.LocalAddr().String(), Brokers: []string{"x:1"}, Topic: "t", Registry: reg}, "collect: listen"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// The failed New left nothing registered: a retry on the same registry works.
	c, err := New(Config{Listen: "127.0.0.1:0", Brokers: []string{"127.0.0.1:1"}, Topic: "t", Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	c.closeConns()
	c.client.Close()
}
