package sink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/influxd"
	"github.com/tidemark/tidemark/internal/testenv"
)

// InfluxDB goes away and comes back on the same address: Write keeps
// retrying meanwhile (the caller is blocked: backpressure) and the window is
// written once the server is back.
func TestWriteSurvivesInfluxRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv, err := influxd.Start(ctx, influxd.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()
	url := srv.URL()
	retried := make(chan struct{}, 1)
	s, err := NewInflux(ctx, InfluxConfig{URL: url, Bucket: "outage", Logger: quiet, MaxBackoff: 200 * time.Millisecond,
		OnRetry: func(error) {
			select {
			case retried <- struct{}{}:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, trafficWindow(time.Unix(600, 0), 1)) }()
	select {
	case <-retried:
	case err := <-done:
		t.Fatalf("Write returned %v while influxd was down", err)
	}

	srv, err = influxd.Start(ctx, influxd.Options{DataDir: dir, Addr: strings.TrimPrefix(url, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Write after restart: %v", err)
	}
	db := &testenv.InfluxDB{URL: url, DB: "outage"}
	if rows := db.Rows(t, `SELECT sum_bytes FROM traffic`); len(rows) != 3 {
		t.Fatalf("rows after restart = %v, want 3", rows)
	}
}
