package pipeline_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/geoip"
	"github.com/tidemark/tidemark/host/pipeline"
	"github.com/tidemark/tidemark/internal/cpuclock"
)

// countryDB writes a GeoLite2-Country-shaped .mmdb mapping 64 /16s of
// 10.0.0.0/8 to 8 countries.
func countryDB(tb testing.TB) string {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", IPVersion: 6, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		tb.Fatal(err)
	}
	countries := []string{"DE", "US", "FR", "JP", "BR", "IN", "GB", "NL"}
	for i := 0; i < 64; i++ {
		_, n, _ := net.ParseCIDR(fmt.Sprintf("10.%d.0.0/16", i))
		cc := countries[i%len(countries)]
		if err := tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(cc)}}); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// benchLines are realistic sflowtool lines: 2,000 sources, 500 destinations.
func benchLines(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		src := fmt.Sprintf("10.%d.%d.%d", rng.IntN(64), rng.IntN(4), rng.IntN(125))
		dst := fmt.Sprintf("10.%d.%d.%d", rng.IntN(64), rng.IntN(2), rng.IntN(250))
		proto := []int{6, 6, 6, 17, 17, 1}[rng.IntN(6)]
		size := 64 + rng.IntN(1436)
		out[i] = []byte(fmt.Sprintf("FLOW,172.16.0.%d,%d,%d,%012x,%012x,0x0800,%d,%d,%s,%s,%d,0x00,%d,%d,%d,0x18,%d,%d,%d",
			rng.IntN(4)+1, rng.IntN(48), rng.IntN(48), rng.Uint64()>>16, rng.Uint64()>>16, 100+rng.IntN(4), 100+rng.IntN(4),
			src, dst, proto, 32+rng.IntN(32), 1024+rng.IntN(60000), []int{80, 443, 53, 22, 8080}[rng.IntN(5)], size, size-18, 512))
	}
	return out
}

const benchConfig = `
[input]
brokers = ["127.0.0.1:9092"]
topic = "sflow"
format = "sflowtool"

[geoip]
country = %q

[[pipeline]]
name = "traffic_by_country"
where = "ip_protocol in [6, 17]"
fields = ["src_country = country(src_ip)", "bytes = packet_size * sampling_rate", "kbits = (ip_size * sampling_rate * 8) / 1000"]
window = "10s"
lateness = "5s"
group_by = ["src_country", "ip_protocol"]
aggregate = ["sum(bytes)", "max(packet_size)", "count()", "count_distinct(src_ip)"]

[output.stdout]
enabled = true
`

// BenchmarkPipelineSflowtool measures decode → transform → aggregate on one
// core: 3 expressions, a where clause, 1 GeoIP lookup, 2 group keys and
// 4 aggregates, with the offset bookkeeping, windows closing as event time
// advances (1,000 records per second of event time).
func BenchmarkPipelineSflowtool(b *testing.B) {
	geo, err := geoip.Open(geoip.Config{Country: countryDB(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer geo.Close()
	cfg, err := config.Parse("bench.toml", []byte(fmt.Sprintf(benchConfig, "unused.mmdb")), []string{})
	if err != nil {
		b.Fatal(err)
	}
	plan, err := pipeline.Compile(cfg, geo)
	if err != nil {
		b.Fatal(err)
	}
	e, err := pipeline.NewEngine(plan)
	if err != nil {
		b.Fatal(err)
	}
	lines := benchLines(1 << 14)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	// Warm up: every key and GeoIP answer exists, windows have turned over.
	for i := 0; i < 3*len(lines); i++ {
		e.Process(lines[i%len(lines)], pipeline.Source{Topic: "sflow", Offset: int64(i), Timestamp: t0 + int64(i)*int64(time.Millisecond)})
	}
	e.Ready()
	off := int64(3 * len(lines))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := cpuclock.Thread()
	for i := 0; i < b.N; i++ {
		o := off + int64(i)
		e.Process(lines[i%len(lines)], pipeline.Source{Topic: "sflow", Offset: o, Timestamp: t0 + o*int64(time.Millisecond)})
		if i%4096 == 0 {
			for _, c := range e.Ready() {
				e.Offsets.Written(c.Pipe.Index(), c.Result.Start)
				c.Result.Release()
			}
			e.Offsets.Committable()
		}
	}
	cpu1, _ := cpuclock.Thread()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpuOK && cpu1 > cpu0 {
		// The same work per second of this thread's CPU: what one core does
		// when the machine is not shared.
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "records/cpu-s")
	}
	if e.Pipes()[0].Aggregated.Load() == 0 {
		b.Fatal("nothing aggregated")
	}
}

// The hot path allocates nothing per record once warm.
func TestEngineZeroAllocs(t *testing.T) {
	geo, err := geoip.Open(geoip.Config{Country: countryDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer geo.Close()
	cfg, err := config.Parse("bench.toml", []byte(fmt.Sprintf(benchConfig, "unused.mmdb")), []string{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pipeline.Compile(cfg, geo)
	if err != nil {
		t.Fatal(err)
	}
	e, err := pipeline.NewEngine(plan)
	if err != nil {
		t.Fatal(err)
	}
	lines := benchLines(512)
	for i, l := range lines {
		e.Process(l, pipeline.Source{Topic: "sflow", Offset: int64(i), Timestamp: 1})
	}
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		e.Process(lines[i%len(lines)], pipeline.Source{Topic: "sflow", Offset: int64(512 + i), Timestamp: 1})
		i++
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per record, want 0", allocs)
	}
	if got := e.Pipes()[0].Aggregated.Load(); got == 0 {
		t.Error("nothing aggregated")
	}
}
