package pipeline_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/pipeline"
	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/host/window"
	"github.com/tidemark/tidemark/internal/testenv"
)

// A pipeline killed mid-run (no flush, no final commit) and restarted from
// its committed offsets leaves InfluxDB exactly as an uninterrupted run
// does: nothing lost, nothing counted twice.
func TestCrashAndRestartEqualsUninterrupted(t *testing.T) {
	inCrash := testenv.Influx(t)
	inWhole := testenv.Influx(t)
	_, seeds := testenv.Kafka(t, "sflow", "dlq")

	rng := rand.New(rand.NewPCG(7, 7))
	var msgs []msg
	for i := 0; i < 3000; i++ {
		at := time.Duration(i) * 20 * time.Millisecond // 60s of event time
		switch rng.IntN(20) {
		case 0:
			at -= 3 * time.Second // out of order, within lateness
		case 1:
			at -= 9 * time.Second // usually late
		}
		if at < 0 {
			at = 0
		}
		src := fmt.Sprintf("192.0.2.%d", rng.IntN(50))
		proto := []int{6, 17}[rng.IntN(2)]
		msgs = append(msgs, msg{at, flowLine(src, "198.51.100.1", proto, 64+rng.IntN(1400))})
	}
	produce(t, seeds, "sflow", msgs)

	// Crash after the second window has been written.
	cfg := loadConfig(t, fmt.Sprintf(e2eConfig, seeds[0], inCrash.URL, inCrash.Bucket))
	cfg.Input.MaxPollRecords = 100 // so the crash comes mid-stream
	plan, err := pipeline.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	snk, err := sink.NewInflux(ctx, sink.InfluxConfig{URL: inCrash.URL, Bucket: inCrash.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	written := 0
	r, err := pipeline.NewRunner(pipeline.Options{
		Config: cfg, Plan: plan, Sinks: []sink.Sink{snk}, Crash: true,
		OnWindow: func(context.Context, *pipeline.Pipe, *sink.Window, *window.Result) {
			if written++; written == 2 {
				cancel()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctx); err != nil {
		t.Fatalf("crashed run: %v", err)
	}
	cancel()
	snk.Close()
	if got := r.Engine().Pipes()[0].WindowsWritten.Load(); got < 2 || got > 3 {
		t.Fatalf("crashed run wrote %d windows, want 2", got)
	}
	if r.Engine().Lines.Load() >= uint64(len(msgs)) {
		t.Fatalf("crashed run read all %d records: the crash came too late to test anything", len(msgs))
	}

	// Restart in the same group: it resumes from the committed offsets.
	cfg = loadConfig(t, fmt.Sprintf(e2eConfig, seeds[0], inCrash.URL, inCrash.Bucket))
	runUntil(t, cfg, inCrash, int64(len(msgs)), nil)

	// The uninterrupted run, in another group and database.
	cfg = loadConfig(t, fmt.Sprintf(e2eConfig, seeds[0], inWhole.URL, inWhole.Bucket))
	cfg.Input.Group = "whole"
	whole := runUntil(t, cfg, inWhole, int64(len(msgs)), nil)
	if whole.Engine().Pipes()[0].Late.Load() == 0 {
		t.Fatal("the input has no late records: the test would not check lateness across a restart")
	}

	q := `SELECT * FROM by_proto GROUP BY * ORDER BY time`
	a, b := inCrash.Query(t, q), inWhole.Query(t, q)
	if len(b) == 0 || len(b[0].Values) < 5 {
		t.Fatalf("uninterrupted run wrote too little: %v", b)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("after crash and restart:\n%v\nuninterrupted:\n%v", a, b)
	}
}
