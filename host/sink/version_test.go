package sink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestIsV2(t *testing.T) {
	for v, want := range map[string]bool{
		"1.8.10": false, "unknown": false, "v1.11.8": false,
		"2.7.1": true, "v2.7.11": true, "cloud2": true,
	} {
		if got := isV2(v); got != want {
			t.Errorf("isV2(%q) = %v, want %v", v, got, want)
		}
	}
}

// A 2.x server (as seen through its HTTP API) without the configured bucket:
// the start-up check fails and names the bucket. Real 2.x is not available
// here; the real-1.8 path is covered by the influx_test.go tests.
func TestNewInfluxV2MissingBucket(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ping":
			w.Header().Set("X-Influxdb-Version", "v2.7.11")
			w.WriteHeader(http.StatusNoContent)
		case "/api/v2/buckets":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"buckets":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := NewInflux(ctx, InfluxConfig{URL: srv.URL, Bucket: "tidemark", Org: "acme", Token: "t", Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), `bucket "tidemark"`) {
		t.Fatalf("err = %v, want an error naming the bucket", err)
	}
}

func TestNewInfluxNotInflux(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := NewInflux(context.Background(), InfluxConfig{URL: srv.URL, Bucket: "b", Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "does not look like InfluxDB") {
		t.Fatalf("err = %v", err)
	}
}

// Against a 2.x API: the bucket is found, writes go to /api/v2/write with the
// org, bucket and token.
func TestNewInfluxV2Writes(t *testing.T) {
	var writeQuery, auth, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ping":
			w.Header().Set("X-Influxdb-Version", "v2.7.11")
			w.WriteHeader(http.StatusNoContent)
		case "/api/v2/buckets":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"buckets":[{"id":"1","name":"tidemark","retentionRules":[{"everySeconds":86400}]}]}`)
		case "/api/v2/write":
			writeQuery, auth = r.URL.RawQuery, r.Header.Get("Authorization")
			b, _ := io.ReadAll(r.Body)
			body = string(b)
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := NewInflux(ctx, InfluxConfig{URL: srv.URL, Bucket: "tidemark", Org: "acme", Token: "secret", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.V1 {
		t.Fatal("detected as 1.x")
	}
	w := &Window{Measurement: "m", Start: time.Unix(5, 0), FieldNames: []string{"v"}, Points: []Point{{Values: []float64{2}}}}
	if err := s.Write(ctx, w); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(writeQuery, "org=acme") || !strings.Contains(writeQuery, "bucket=tidemark") || auth != "Token secret" || body != "m v=2 5000000000" {
		t.Fatalf("write query %q auth %q body %q", writeQuery, auth, body)
	}
}
