package sink

import (
	"context"
	"fmt"
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
