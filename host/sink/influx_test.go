package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidemark/tidemark/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestSink(t testing.TB, db *testenv.InfluxDB, cfg InfluxConfig) *Influx {
	t.Helper()
	cfg.URL = db.URL
	if cfg.Bucket == "" {
		cfg.Bucket = db.Bucket
	}
	cfg.Logger = quiet
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := NewInflux(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func num(t testing.TB, v any) float64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("value %v (%T) is not a number", v, v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func trafficWindow(start time.Time, scale float64) *Window {
	return &Window{
		Measurement: "traffic",
		Start:       start,
		TagNames:    []string{"country", "proto"},
		FieldNames:  []string{"sum_bytes", "count", "avg_size"},
		FieldInt:    []bool{true, true, false},
		Points: []Point{
			{Tags: []string{"FR", "tcp"}, Values: []float64{1500 * scale, 3, 0.25 * scale}, Present: []bool{true, true, true}},
			{Tags: []string{"US", "udp"}, Values: []float64{9e15, 1, math.NaN()}, Present: []bool{true, true, true}},
			{Tags: []string{"DE", "tcp"}, Values: []float64{7, 2, 3.5}, Present: []bool{true, true, false}},
		},
	}
}

func TestInfluxWriteQueryBackAndReplay(t *testing.T) {
	db := testenv.Influx(t)
	s := newTestSink(t, db, InfluxConfig{})
	if !s.V1 {
		t.Fatalf("server version %q detected as 2.x", s.Version)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	if err := s.Write(ctx, trafficWindow(t0, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, trafficWindow(t0.Add(10*time.Second), 2)); err != nil {
		t.Fatal(err)
	}

	types := db.FieldTypes(t, "traffic")
	if types["sum_bytes"] != "integer" || types["count"] != "integer" || types["avg_size"] != "float" {
		t.Fatalf("field types = %v", types)
	}
	rows := db.Rows(t, `SELECT sum_bytes, "count", avg_size, country, proto FROM traffic WHERE country = 'FR' ORDER BY time`)
	if len(rows) != 2 {
		t.Fatalf("FR rows = %v", rows)
	}
	if got := num(t, rows[0]["time"]); got != float64(t0.UnixNano()) {
		t.Fatalf("time = %v, want window start %v", got, t0.UnixNano())
	}
	if num(t, rows[0]["sum_bytes"]) != 1500 || num(t, rows[1]["sum_bytes"]) != 3000 || num(t, rows[1]["avg_size"]) != 0.5 || rows[0]["proto"] != "tcp" {
		t.Fatalf("FR rows = %v", rows)
	}
	// A large integer survives exactly; NaN and absent fields are not written.
	us := db.Rows(t, `SELECT sum_bytes, avg_size FROM traffic WHERE country = 'US' LIMIT 1`)
	if len(us) != 1 || us[0]["sum_bytes"] != json.Number("9000000000000000") || us[0]["avg_size"] != nil {
		t.Fatalf("US row = %v", us)
	}
	de := db.Rows(t, `SELECT avg_size FROM traffic WHERE country = 'DE'`)
	if len(de) != 0 {
		t.Fatalf("DE avg_size was written although absent: %v", de)
	}

	// Replaying the first window (as after a crash before the offset commit)
	// overwrites its points: same count, latest values.
	if err := s.Write(ctx, trafficWindow(t0, 3)); err != nil {
		t.Fatal(err)
	}
	count := db.Rows(t, `SELECT count("count") FROM traffic`)
	if len(count) != 1 || num(t, count[0]["count"]) != 6 {
		t.Fatalf("count after replay = %v, want 6", count)
	}
	fr := db.Rows(t, fmt.Sprintf(`SELECT sum_bytes FROM traffic WHERE country = 'FR' AND time = %d`, t0.UnixNano()))
	if len(fr) != 1 || num(t, fr[0]["sum_bytes"]) != 4500 {
		t.Fatalf("FR after replay = %v, want 4500", fr)
	}
}

func TestInfluxEscapingRoundTrip(t *testing.T) {
	db := testenv.Influx(t)
	s := newTestSink(t, db, InfluxConfig{})
	// Stored value per written value: InfluxDB 1.x cannot hold a newline or a
	// trailing backslash in a tag, so those are the documented lossy cases.
	tagValues := []struct{ in, stored string }{
		{"a b", "a b"}, {"c,d", "c,d"}, {"e=f", "e=f"}, {`g\h`, `g\h`}, {"ünïcode", "ünïcode"},
		{`"quoted"`, `"quoted"`}, {`tail\`, "tail"}, {"multi\nline", `multi\nline`},
	}
	w := &Window{Measurement: "odd name,x", Start: time.Unix(1000, 0), TagNames: []string{"tag key"}, FieldNames: []string{"field=1"}}
	for i, v := range tagValues {
		w.Points = append(w.Points, Point{Tags: []string{v.in}, Values: []float64{float64(i)}})
	}
	if err := s.Write(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	rows := db.Rows(t, `SELECT "field=1", "tag key" FROM "odd name,x"`)
	got := map[string]float64{}
	for _, r := range rows {
		got[fmt.Sprint(r["tag key"])] = num(t, r["field=1"])
	}
	for i, v := range tagValues {
		if f, ok := got[v.stored]; !ok || f != float64(i) {
			t.Errorf("tag value %q: stored as %q got %v (present %v); all: %v", v.in, v.stored, f, ok, got)
		}
	}
}

func TestInfluxRetentionPolicy(t *testing.T) {
	db := testenv.Influx(t)
	duration := func(rp string) string {
		for _, r := range db.Rows(t, "SHOW RETENTION POLICIES ON "+db.DB) {
			if r["name"] == rp {
				return fmt.Sprint(r["duration"])
			}
		}
		return "missing"
	}
	// A new policy is created with the configured duration...
	newTestSink(t, db, InfluxConfig{Bucket: db.DB + "/short", Retention: 2 * time.Hour})
	if d := duration("short"); d != "2h0m0s" {
		t.Fatalf("short rp duration = %s, want 2h0m0s", d)
	}
	// ...an existing one is altered, and 0 means infinite.
	newTestSink(t, db, InfluxConfig{Bucket: db.DB + "/short", Retention: 30 * 24 * time.Hour})
	if d := duration("short"); d != "720h0m0s" {
		t.Fatalf("short rp duration = %s, want 720h0m0s", d)
	}
	newTestSink(t, db, InfluxConfig{Bucket: db.DB, Retention: 0})
	if d := duration("autogen"); d != "0s" {
		t.Fatalf("autogen duration = %s, want 0s (infinite)", d)
	}
	// A new database is created on start.
	other := db.DB + "_created"
	newTestSink(t, db, InfluxConfig{Bucket: other + "/autogen", Retention: 48 * time.Hour})
	found := false
	for _, r := range db.Rows(t, "SHOW RETENTION POLICIES ON "+other) {
		found = found || (r["name"] == "autogen" && r["duration"] == "48h0m0s")
	}
	db.Query(t, "DROP DATABASE "+other)
	if !found {
		t.Fatalf("database %s with autogen 48h not created", other)
	}
}

func TestInfluxFieldTypeConflictIsRejected(t *testing.T) {
	db := testenv.Influx(t)
	s := newTestSink(t, db, InfluxConfig{})
	ctx := context.Background()
	w := &Window{Measurement: "m", Start: time.Unix(100, 0), FieldNames: []string{"v"}, FieldInt: []bool{true},
		Points: []Point{{Values: []float64{1}}}}
	if err := s.Write(ctx, w); err != nil {
		t.Fatal(err)
	}
	w2 := &Window{Measurement: "m", Start: time.Unix(200, 0), FieldNames: []string{"v"}, FieldInt: []bool{false},
		Points: []Point{{Values: []float64{1.5}}}}
	err := s.Write(ctx, w2)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v (%T), want *RejectedError", err, err)
	}
	if rej.Status != http.StatusBadRequest || !strings.Contains(rej.Message, "field type conflict") {
		t.Fatalf("rejected = %+v, want 400 with the server's field type conflict message", rej)
	}
	if len(rej.Lines) != 1 || rej.Lines[0] != "m v=1.5 200000000000" {
		t.Fatalf("rejected lines = %q", rej.Lines)
	}
}

// fakeWrite is an httptest stand-in for the write endpoint only, to drive the
// retry logic through statuses a real server will not produce on demand.
type fakeWrite struct {
	mu      sync.Mutex
	bodies  []string
	respond func(n int, body string) int // status for the n-th request (1-based)
}

func (f *fakeWrite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(b))
	n := len(f.bodies)
	f.mu.Unlock()
	if r.URL.Path != "/api/v2/write" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	status := f.respond(n, string(b))
	if status >= 400 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":"test","message":"status %d for request %d"}`, status, n)
		return
	}
	w.WriteHeader(status)
}

func newFakeSink(t *testing.T, f *fakeWrite, cfg InfluxConfig) *Influx {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.URL, cfg.Bucket, cfg.Logger = srv.URL, "db/autogen", quiet
	s, err := newInflux(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRetry503ThenSuccess(t *testing.T) {
	f := &fakeWrite{respond: func(n int, _ string) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	}}
	var retries atomic.Int32
	s := newFakeSink(t, f, InfluxConfig{MaxBackoff: 20 * time.Millisecond, OnRetry: func(error) { retries.Add(1) }})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Write(ctx, trafficWindow(time.Unix(0, 0), 1)); err != nil {
		t.Fatal(err)
	}
	if retries.Load() != 2 || len(f.bodies) != 3 || f.bodies[0] != f.bodies[2] {
		t.Fatalf("retries = %d, requests = %d; want 2 retries of the same body", retries.Load(), len(f.bodies))
	}
}

func TestRetryStopsOnContextCancel(t *testing.T) {
	f := &fakeWrite{respond: func(int, string) int { return http.StatusTooManyRequests }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var retries atomic.Int32
	s := newFakeSink(t, f, InfluxConfig{MaxBackoff: 10 * time.Millisecond, OnRetry: func(error) {
		if retries.Add(1) == 3 {
			cancel()
		}
	}})
	err := s.Write(ctx, trafficWindow(time.Unix(0, 0), 1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var rej *RejectedError
	if errors.As(err, &rej) {
		t.Fatalf("429 must not be a rejection: %v", err)
	}
	if n := retries.Load(); n != 3 {
		t.Fatalf("retries = %d, want 3 (no retry after cancel)", n)
	}
}

func TestBatchesAndRejectionDoesNotStopTheWindow(t *testing.T) {
	f := &fakeWrite{respond: func(n int, _ string) int {
		if n == 2 {
			return http.StatusBadRequest
		}
		return http.StatusNoContent
	}}
	s := newFakeSink(t, f, InfluxConfig{BatchSize: 2})
	w := &Window{Measurement: "m", Start: time.Unix(1, 0), TagNames: []string{"k"}, FieldNames: []string{"v"}}
	for i := range 5 {
		w.Points = append(w.Points, Point{Tags: []string{fmt.Sprint(i)}, Values: []float64{float64(i)}})
	}
	err := s.Write(context.Background(), w)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v, want *RejectedError", err)
	}
	if len(f.bodies) != 3 {
		t.Fatalf("requests = %d, want 3 batches of <= 2 points", len(f.bodies))
	}
	want := []string{"m,k=2 v=2 1000000000", "m,k=3 v=3 1000000000"}
	if strings.Join(rej.Lines, "|") != strings.Join(want, "|") || rej.Status != 400 || !strings.Contains(rej.Message, "request 2") {
		t.Fatalf("rejected = %+v, want lines %q", rej, want)
	}
	if f.bodies[2] != "m,k=4 v=4 1000000000" {
		t.Fatalf("third batch = %q", f.bodies[2])
	}
}

func benchWindow(n int, start time.Time) *Window {
	w := &Window{
		Measurement: "bench",
		Start:       start,
		TagNames:    []string{"src_country", "dst_port"},
		FieldNames:  []string{"sum_bytes", "count", "max_size", "avg_size"},
		FieldInt:    []bool{true, true, true, false},
		Points:      make([]Point, n),
	}
	for i := range w.Points {
		w.Points[i] = Point{
			Tags:    []string{fmt.Sprintf("C%03d", i%250), fmt.Sprint(i / 250)},
			Values:  []float64{float64(i * 1500), float64(i%17 + 1), 1500, 812.5},
			Present: []bool{true, true, true, true},
		}
	}
	return w
}

// BenchmarkInfluxWrite measures points written per second to the real
// influxd, one 5000-point window per iteration.
func BenchmarkInfluxWrite(b *testing.B) {
	db := testenv.Influx(b)
	s := newTestSink(b, db, InfluxConfig{})
	ctx := context.Background()
	const points = 5000
	windows := make([]*Window, 0, 64)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		if len(windows) <= n%64 {
			windows = append(windows, benchWindow(points, start))
		}
		w := windows[n%64]
		w.Start = start.Add(time.Duration(n) * 10 * time.Second)
		if err := s.Write(ctx, w); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*points)/b.Elapsed().Seconds(), "points/s")
}

// A revoked token or a missing bucket is a setup problem, not bad data: the
// window is held and retried, not dead-lettered.
func TestAuthAndNotFoundAreRetried(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		f := &fakeWrite{respond: func(n int, _ string) int {
			if n == 1 {
				return status
			}
			return http.StatusNoContent
		}}
		s := newFakeSink(t, f, InfluxConfig{MaxBackoff: 10 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.Write(ctx, trafficWindow(time.Unix(0, 0), 1)); err != nil {
			t.Errorf("status %d: %v, want success after a retry", status, err)
		}
		cancel()
		if len(f.bodies) != 2 {
			t.Errorf("status %d: %d requests, want 2", status, len(f.bodies))
		}
	}
}
