package history

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const step = 10 * time.Second

// odd is a tag value that needs quoting in both line protocol and Flux.
const odd = `we "ird" \ ${x}, a=b/c.*`

// writeWindows writes 5 windows of 3 series with the real sink; series "DE"
// is missing from window 2, and its "avg" is NaN (not written) in window 3.
func writeWindows(t *testing.T, db *testenv.InfluxDB) {
	t.Helper()
	ctx := context.Background()
	s, err := sink.NewInflux(ctx, sink.InfluxConfig{URL: db.URL, Bucket: db.Bucket, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 5 {
		w := &sink.Window{
			Measurement: "traffic",
			Start:       t0.Add(time.Duration(i) * step),
			TagNames:    []string{"country", "proto"},
			FieldNames:  []string{"sum", "avg"},
			FieldInt:    []bool{true, false},
		}
		fi := float64(i)
		w.Points = append(w.Points,
			sink.Point{Tags: []string{"FR", "tcp"}, Values: []float64{100 + fi, 1.5 + fi}},
			sink.Point{Tags: []string{odd, "udp"}, Values: []float64{200 + fi, 2.5 + fi}},
		)
		if i != 2 {
			avg := 3.5 + fi
			if i == 3 {
				avg = math.NaN()
			}
			w.Points = append(w.Points, sink.Point{Tags: []string{"DE", "tcp"}, Values: []float64{300 + fi, avg}})
		}
		if err := s.Write(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
}

func newReader(t *testing.T, db *testenv.InfluxDB) *Influx {
	client := influxdb2.NewClient(db.URL, "")
	t.Cleanup(client.Close)
	return NewInflux(client, db.Bucket, "")
}

func TestQueryAllSeries(t *testing.T) {
	db := testenv.Influx(t)
	writeWindows(t, db)
	h := newReader(t, db)
	// [t0+1 step, t0+4 steps): windows 1, 2, 3; the stop bound is exclusive.
	frames, err := h.Query(context.Background(), Request{
		Measurement: "traffic", Fields: []string{"sum", "avg"}, TagNames: []string{"country", "proto"},
		Start: t0.Add(step), Stop: t0.Add(4 * step),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 3 {
		t.Fatalf("got %d frames, want 3: %+v", len(frames), frames)
	}
	for i, f := range frames {
		if want := t0.Add(time.Duration(i+1) * step); !f.Start.Equal(want) {
			t.Fatalf("frame %d start %v, want %v", i, f.Start, want)
		}
	}
	// Window 1: all three series, sorted by tag values.
	f := frames[0]
	wantSeries := [][]string{{"DE", "tcp"}, {"FR", "tcp"}, {odd, "udp"}}
	if !slices.EqualFunc(f.Series, wantSeries, slices.Equal) {
		t.Fatalf("series = %q, want %q", f.Series, wantSeries)
	}
	if !slices.Equal(f.Values[0], []float64{301, 101, 201}) || !slices.Equal(f.Values[1], []float64{4.5, 2.5, 3.5}) {
		t.Fatalf("values = %v", f.Values)
	}
	// Window 2: DE absent, so two series.
	if len(frames[1].Series) != 2 || frames[1].Series[0][0] != "FR" {
		t.Fatalf("window 2 series = %q", frames[1].Series)
	}
	// Window 3: DE has sum but no avg: NaN.
	f = frames[2]
	if f.Series[0][0] != "DE" || f.Values[0][0] != 303 || !math.IsNaN(f.Values[1][0]) {
		t.Fatalf("window 3 = %q %v", f.Series, f.Values)
	}
}

func TestQuerySelectedSeries(t *testing.T) {
	db := testenv.Influx(t)
	writeWindows(t, db)
	h := newReader(t, db)
	// "FR"/"udp" is a mix of existing tag values that no series has; the
	// filter must not let "FR"/"tcp" or odd/"udp" in through it.
	want := [][]string{{odd, "udp"}, {"DE", "tcp"}, {"FR", "udp"}}
	frames, err := h.Query(context.Background(), Request{
		Measurement: "traffic", Fields: []string{"avg"}, TagNames: []string{"country", "proto"},
		Series: want, Start: t0, Stop: t0.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 5 {
		t.Fatalf("got %d frames, want 5", len(frames))
	}
	for i, f := range frames {
		if !slices.EqualFunc(f.Series, want, slices.Equal) || len(f.Values) != 1 || len(f.Values[0]) != 3 {
			t.Fatalf("frame %d: series %q values %v; want the requested series in order", i, f.Series, f.Values)
		}
		fi := float64(i)
		if f.Values[0][0] != 2.5+fi || !math.IsNaN(f.Values[0][2]) {
			t.Fatalf("frame %d values %v", i, f.Values[0])
		}
		deMissing := i == 2 || i == 3 // absent window, NaN avg
		if math.IsNaN(f.Values[0][1]) != deMissing || (!deMissing && f.Values[0][1] != 3.5+fi) {
			t.Fatalf("frame %d DE avg = %v", i, f.Values[0][1])
		}
	}
}

func TestQueryEmptyAndErrors(t *testing.T) {
	db := testenv.Influx(t)
	writeWindows(t, db)
	h := newReader(t, db)
	ctx := context.Background()
	frames, err := h.Query(ctx, Request{Measurement: "traffic", Fields: []string{"sum"}, TagNames: []string{"country"},
		Start: t0.Add(-time.Hour), Stop: t0})
	if err != nil || len(frames) != 0 {
		t.Fatalf("before the data: frames %v, err %v; want none", frames, err)
	}
	bad := NewInflux(influxdb2.NewClient(db.URL, ""), "no_such_db/autogen", "")
	_, err = bad.Query(ctx, Request{Measurement: "traffic", Fields: []string{"sum"}, Start: t0, Stop: t0.Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "history: query traffic") {
		t.Fatalf("err = %v, want a wrapped query error", err)
	}
}
