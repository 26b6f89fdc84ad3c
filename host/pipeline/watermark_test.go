package pipeline_test

import (
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/pipeline"
)

const skewConfig = `
[input]
brokers = ["127.0.0.1:9092"]
topic = "sflow"

[[pipeline]]
name = "p"
window = "10s"
lateness = "2s"
idle_timeout = "1s"
aggregate = ["count()"]

[output.stdout]
enabled = true
`

// The watermark follows the slowest partition that has records: a
// partition read ahead (catching up, an uneven fetch) does not make the
// other's records late; an idle partition stops holding windows open.
func TestWatermarkFollowsSlowestPartition(t *testing.T) {
	cfg, err := config.Parse("skew.toml", []byte(skewConfig), []string{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pipeline.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := pipeline.NewEngine(plan)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(flowLine("192.0.2.1", "198.51.100.1", 6, 100))
	wall := time.Unix(1000, 0).UnixNano()
	e.Tick(wall, time.Second)
	off := map[int32]int64{}
	add := func(partition int32, at time.Duration) {
		e.Process(line, pipeline.Source{Topic: "sflow", Partition: partition, Offset: off[partition], Timestamp: t0.Add(at).UnixNano()})
		off[partition]++
	}
	p := e.Pipes()[0]
	add(0, 1*time.Second)
	add(1, 1*time.Second)
	for s := 2; s <= 40; s++ {
		add(0, time.Duration(s)*time.Second) // partition 0 runs 40 s ahead
	}
	if n := len(e.Ready()); n != 0 {
		t.Fatalf("%d windows closed while partition 1 is at 1s", n)
	}
	add(1, 5*time.Second) // behind partition 0 by 35 s, but not late
	if p.Late.Load() != 0 {
		t.Fatalf("late = %d: a record of the slow partition was late", p.Late.Load())
	}
	add(1, 15*time.Second) // partition 1 reaches 15s: the watermark is 13s, [0,10) closes
	ready := e.Ready()
	if len(ready) != 1 || ready[0].Result.Start != t0.UnixNano() {
		t.Fatalf("ready = %d windows, want [0,10)", len(ready))
	}
	if got := ready[0].Result.Points[0].Values[0]; got != 11 {
		t.Errorf("count of [0,10) = %v, want 11 (9 from partition 0, 2 from partition 1)", got)
	}
	// Partition 1 falls quiet: after the idle timeout it no longer holds
	// the watermark, which moves to partition 0's 40s − 2s.
	e.Tick(wall+int64(2*time.Second), time.Second)
	ready = e.Ready()
	if len(ready) != 2 || ready[1].Result.Start != t0.Add(20*time.Second).UnixNano() {
		t.Fatalf("after partition 1 went idle: %d windows ready, want [10,20) and [20,30)", len(ready))
	}
	// A record of the idle partition for a closed window is late now.
	add(1, 16*time.Second)
	if p.Late.Load() != 1 {
		t.Errorf("late = %d, want 1", p.Late.Load())
	}
}
