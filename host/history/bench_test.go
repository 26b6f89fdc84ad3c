package history

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/internal/testenv"
)

// BenchmarkQuery30Windows1000Series is the history of an analyzer with
// `history = "30 windows"` over a pipeline of 1000 series: one call reads
// 30×1000 points of 2 fields.
func BenchmarkQuery30Windows1000Series(b *testing.B) {
	const windows, series = 30, 1000
	db := testenv.Influx(b)
	ctx := context.Background()
	s, err := sink.NewInflux(ctx, sink.InfluxConfig{URL: db.URL, Bucket: db.Bucket, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	want := make([][]string, series)
	for i := range want {
		want[i] = []string{fmt.Sprintf("10.0.%d.%d", i/256, i%256)}
	}
	for w := range windows {
		win := &sink.Window{Measurement: "flows", Start: t0.Add(time.Duration(w) * step),
			TagNames: []string{"dst"}, FieldNames: []string{"bytes", "packets"}, FieldInt: []bool{true, true}}
		for i := range series {
			win.Points = append(win.Points, sink.Point{Tags: want[i], Values: []float64{float64(i * w), float64(w)}})
		}
		if err := s.Write(ctx, win); err != nil {
			b.Fatal(err)
		}
	}
	client := influxdb2.NewClient(db.URL, "")
	defer client.Close()
	h := NewInflux(client, db.Bucket, "")
	req := Request{Measurement: "flows", Fields: []string{"bytes", "packets"}, TagNames: []string{"dst"},
		Series: want, Start: t0, Stop: t0.Add(windows * step)}
	n := 0
	for b.Loop() {
		frames, err := h.Query(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(frames) != windows {
			b.Fatalf("%d frames, want %d", len(frames), windows)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/call")
}
