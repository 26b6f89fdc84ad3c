package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidemark/tidemark/host/console"
	"github.com/tidemark/tidemark/host/console/internal/memback"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newBackend() *memback.Backend {
	b := memback.New()
	b.SetOverview(console.Overview{
		Pipelines: []console.PipelineStatus{{
			Name: "traffic_by_protocol", GroupBy: []string{"proto"}, Fields: []string{"sum_bytes", "count"},
			Window: "10s", RecordsPerSec: 1999.5, Aggregated: 12345, WindowsWritten: 7, Late: 2, LastWindow: t0.Add(50 * time.Second),
		}},
		Health:  map[string]string{"kafka": "ok", "influxdb": "ok"},
		Started: t0,
	})
	for i := range 6 {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		b.AddPoints("traffic_by_protocol",
			memback.Point{Tags: map[string]string{"proto": "tcp"}, Field: "sum_bytes", Time: at, Value: 1000 + float64(i)},
			memback.Point{Tags: map[string]string{"proto": "udp"}, Field: "sum_bytes", Time: at, Value: 10},
			memback.Point{Tags: map[string]string{"proto": "other"}, Field: "sum_bytes", Time: at, Value: 1},
			memback.Point{Tags: map[string]string{"proto": "tcp"}, Field: "count", Time: at, Value: 3},
		)
	}
	b.SetAnalyzers([]console.Analyzer{
		{Name: "proto-spike", Module: "deviation", Version: "1.0.0", Hash: "sha256:ab", Pipeline: "traffic_by_protocol", State: "ok"},
		{Name: "proto-ewma", Module: "ewma", Version: "0.3.0", Hash: "sha256:cd", Pipeline: "traffic_by_protocol", State: "ok"},
	})
	return b
}

func serve(t *testing.T, b console.Backend) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(console.Handler(console.Options{Registry: prometheus.NewRegistry(), Backend: b}))
	t.Cleanup(srv.Close)
	return srv
}

func getJSON(t *testing.T, url string, wantStatus int, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", url, resp.StatusCode, wantStatus, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: content type %q", url, ct)
	}
	if into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
}

func TestOverview(t *testing.T) {
	srv := serve(t, newBackend())
	var ov console.Overview
	getJSON(t, srv.URL+"/api/overview", 200, &ov)
	if len(ov.Pipelines) != 1 || ov.Pipelines[0].RecordsPerSec != 1999.5 || ov.Pipelines[0].Late != 2 || ov.Health["kafka"] != "ok" ||
		!ov.Pipelines[0].LastWindow.Equal(t0.Add(50*time.Second)) {
		t.Fatalf("overview = %+v", ov)
	}
}

func TestSeries(t *testing.T) {
	b := newBackend()
	srv := serve(t, b)
	from, to := t0.UnixMilli(), t0.Add(time.Minute).UnixMilli()
	var res console.SeriesResponse
	getJSON(t, srv.URL+"/api/pipelines/traffic_by_protocol/series?field=sum_bytes&top=2&from="+itoa(from)+"&to="+itoa(to), 200, &res)
	if res.Field != "sum_bytes" || res.Window != "10s" || res.From != from || res.To != to || res.Top != 2 {
		t.Fatalf("response header = %+v", res)
	}
	if len(res.Series) != 2 || res.Series[0].Tags["proto"] != "tcp" || res.Series[1].Tags["proto"] != "udp" {
		t.Fatalf("top 2 = %+v", res.Series)
	}
	if len(res.Series[0].Times) != 6 || res.Series[0].Values[5] != 1005 || res.Series[0].Times[0] != from {
		t.Fatalf("tcp series = %+v", res.Series[0])
	}
	q := b.Queries[len(b.Queries)-1]
	if q.Pipeline != "traffic_by_protocol" || q.Top != 2 || !q.From.Equal(t0) || !q.To.Equal(t0.Add(time.Minute)) {
		t.Fatalf("backend query = %+v", q)
	}
}

func TestSeriesDefaultsAndRFC3339(t *testing.T) {
	b := newBackend()
	srv := serve(t, b)
	var res console.SeriesResponse
	getJSON(t, srv.URL+"/api/pipelines/traffic_by_protocol/series?to="+t0.Add(time.Minute).Format(time.RFC3339), 200, &res)
	// No field: the pipeline's first; no from: an hour before to; top 10.
	if res.Field != "sum_bytes" || res.Top != 10 || res.To-res.From != time.Hour.Milliseconds() || len(res.Series) != 3 {
		t.Fatalf("defaults = %+v", res)
	}
}

func TestSeriesErrors(t *testing.T) {
	b := newBackend()
	srv := serve(t, b)
	base := srv.URL + "/api/pipelines/"
	for _, c := range []struct {
		url    string
		status int
		msg    string
	}{
		{base + "nope/series", 404, `no pipeline "nope"`},
		{base + "traffic_by_protocol/series?field=sum_byte", 400, "has fields sum_bytes, count"},
		{base + "traffic_by_protocol/series?from=yesterday", 400, "neither Unix milliseconds nor RFC 3339"},
		{base + "traffic_by_protocol/series?from=2000&to=1000", 400, "must be before"},
		{base + "traffic_by_protocol/series?from=0&to=999999999999", 400, "longer than the maximum"},
		{base + "traffic_by_protocol/series?top=0", 400, "top"},
		{base + "traffic_by_protocol/series?top=1000", 400, "top"},
	} {
		var e struct{ Error string }
		getJSON(t, c.url, c.status, &e)
		if !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s: error %q lacks %q", c.url, e.Error, c.msg)
		}
	}
	b.SeriesErr = errors.New("influxdb: connection refused")
	var e struct{ Error string }
	getJSON(t, base+"traffic_by_protocol/series", 502, &e)
	if !strings.Contains(e.Error, "connection refused") {
		t.Fatalf("backend error = %q", e.Error)
	}
}

func alert(id, instance, sev string, at time.Time) console.Alert {
	return console.Alert{ID: id, Instance: instance, Module: "deviation@1.0.0", Pipeline: "traffic_by_protocol", Severity: sev,
		Kind: "anomaly", Series: map[string]string{"proto": "tcp"}, Field: "sum_bytes", Observed: 9e6, Expected: 1e6,
		Lower: 5e5, Upper: 2e6, Window: at, Message: "sum_bytes 9x the band", At: at.Add(15 * time.Second)}
}

func TestAlertsFilter(t *testing.T) {
	b := newBackend()
	b.Raise(alert("a1", "proto-spike", "warn", t0))
	b.Raise(alert("a2", "proto-ewma", "crit", t0.Add(10*time.Second)))
	b.Raise(alert("a3", "proto-spike", "crit", t0.Add(20*time.Second)))
	b.Raise(alert("a4", "proto-spike", "ok", t0.Add(30*time.Second)))
	srv := serve(t, b)
	ids := func(q string) string {
		var list []console.Alert
		getJSON(t, srv.URL+"/api/alerts"+q, 200, &list)
		var s []string
		for _, a := range list {
			s = append(s, a.ID)
		}
		return strings.Join(s, ",")
	}
	for q, want := range map[string]string{
		"":                                    "a4,a3,a2,a1",
		"?limit=2":                            "a4,a3",
		"?instance=proto-spike":               "a4,a3,a1",
		"?severity=crit":                      "a3,a2",
		"?severity=warn,crit":                 "a3,a2,a1",
		"?severity=warn,crit&limit=1":         "a3",
		"?instance=proto-spike&severity=crit": "a3",
		"?instance=nobody":                    "",
	} {
		if got := ids(q); got != want {
			t.Errorf("alerts%s = %q, want %q", q, got, want)
		}
	}
	var e struct{ Error string }
	getJSON(t, srv.URL+"/api/alerts?limit=-1", 400, &e)
}

// TestAlertStream reads server-sent events: only alerts raised after the
// subscription, filtered, each as an "alert" event with its id.
func TestAlertStream(t *testing.T) {
	b := newBackend()
	b.Raise(alert("old", "proto-spike", "crit", t0)) // before: not streamed
	srv := serve(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/alerts/stream?severity=crit,warn", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	readEvent := func() []string {
		var lines []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read stream: %v (so far %q)", err, lines)
			}
			l = strings.TrimRight(l, "\n")
			if l == "" {
				return lines
			}
			lines = append(lines, l)
		}
	}
	if first := readEvent(); strings.Join(first, "|") != "retry: 3000|: subscribed" {
		t.Fatalf("first event = %q", first)
	}
	b.Raise(alert("info1", "proto-spike", "info", t0.Add(10*time.Second))) // filtered out
	b.Raise(alert("crit1", "proto-spike", "crit", t0.Add(20*time.Second)))
	ev := readEvent()
	if len(ev) != 3 || ev[0] != "id: crit1" || ev[1] != "event: alert" || !strings.HasPrefix(ev[2], "data: ") {
		t.Fatalf("event = %q", ev)
	}
	var a console.Alert
	if err := json.Unmarshal([]byte(strings.TrimPrefix(ev[2], "data: ")), &a); err != nil {
		t.Fatal(err)
	}
	if a.ID != "crit1" || a.Severity != "crit" || a.Series["proto"] != "tcp" || !a.Window.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("alert = %+v", a)
	}
	// Closing the connection ends the subscription.
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for b.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("subscription still open after the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAnalyzersAndReload(t *testing.T) {
	b := newBackend()
	b.ReloadErr["ewma"] = errors.New("ewma.wasm: abi: missing export analyze")
	srv := serve(t, b)
	var list []console.Analyzer
	getJSON(t, srv.URL+"/api/analyzers", 200, &list)
	if len(list) != 2 || list[0].Module != "deviation" || list[1].Hash != "sha256:cd" {
		t.Fatalf("analyzers = %+v", list)
	}
	post := func(module, origin string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/analyzers/"+module+"/reload", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if st, body := post("deviation", srv.URL); st != 200 || !strings.Contains(body, `"reloaded":true`) || !strings.Contains(body, `"proto-spike"`) {
		t.Fatalf("reload deviation: %d %s", st, body)
	}
	if b.Reloads["deviation"] != 1 {
		t.Fatalf("backend reloads = %v", b.Reloads)
	}
	if st, body := post("ewma", ""); st != 422 || !strings.Contains(body, "missing export analyze") {
		t.Fatalf("failing reload: %d %s", st, body)
	}
	if st, _ := post("nope", ""); st != 404 {
		t.Fatalf("unknown module: %d", st)
	}
	if st, _ := post("deviation", "https://evil.example"); st != 403 || b.Reloads["deviation"] != 1 {
		t.Fatalf("cross-origin reload: %d, reloads %v", st, b.Reloads)
	}
	resp, err := http.Get(srv.URL + "/api/analyzers/deviation/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 || b.Reloads["deviation"] != 1 {
		t.Fatalf("GET reload: %d, reloads %v", resp.StatusCode, b.Reloads)
	}
}

func TestPagesAndAssets(t *testing.T) {
	srv := serve(t, newBackend())
	for _, p := range []string{"/", "/pipelines/traffic_by_protocol", "/alerts", "/analyzers"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "/assets/app.js") {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	resp, err := http.Get(srv.URL + "/assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || resp.Header.Get("ETag") == "" {
		t.Fatalf("app.js: %d %q etag %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/assets/app.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", resp.StatusCode)
	}
	var e struct{ Error string }
	getJSON(t, srv.URL+"/api/nope", 404, &e)
	if !strings.Contains(e.Error, "no such API route") {
		t.Fatalf("unknown API route: %q", e.Error)
	}
	// The health endpoints are still there beside the console.
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

// TestNoBackendNoConsole: without a Backend only health and metrics are served.
func TestNoBackendNoConsole(t *testing.T) {
	srv := httptest.NewServer(console.Handler(console.Options{Registry: prometheus.NewRegistry()}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/overview")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/api/overview without a Backend: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAlertWithoutExpected: an analyzer may leave expected and the band out
// (NaN in the Backend); the API writes null rather than failing to encode.
func TestAlertWithoutExpected(t *testing.T) {
	b := newBackend()
	a := alert("p1", "proto-spike", "warn", t0)
	a.Expected, a.Lower, a.Upper = math.NaN(), math.NaN(), math.Inf(1)
	b.Raise(a)
	srv := serve(t, b)
	var list []map[string]any
	getJSON(t, srv.URL+"/api/alerts", 200, &list)
	if len(list) != 1 || list[0]["observed"] != 9e6 || list[0]["expected"] != nil || list[0]["upper"] != nil || list[0]["id"] != "p1" || list[0]["instance"] != "proto-spike" {
		t.Fatalf("alerts = %v", list)
	}
	if _, ok := list[0]["lower"]; !ok {
		t.Fatalf("lower missing: %v", list[0])
	}
}

// TestAlertStreamResumes: a reconnecting browser sends Last-Event-ID and
// first gets the alerts raised after that one, oldest first, filtered.
func TestAlertStreamResumes(t *testing.T) {
	b := newBackend()
	for i, id := range []string{"a1", "a2", "a3", "a4"} {
		sev := "crit"
		if id == "a3" {
			sev = "info"
		}
		b.Raise(alert(id, "proto-spike", sev, t0.Add(time.Duration(i)*10*time.Second)))
	}
	srv := serve(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/alerts/stream?severity=crit", nil)
	req.Header.Set("Last-Event-ID", "a1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var ids []string
	for len(ids) < 2 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (ids so far %v)", err, ids)
		}
		if id, ok := strings.CutPrefix(strings.TrimSpace(l), "id: "); ok {
			ids = append(ids, id)
		}
	}
	if strings.Join(ids, ",") != "a2,a4" {
		t.Fatalf("resumed ids = %v, want a2,a4", ids)
	}
	// Then live ones follow on the same stream.
	b.Raise(alert("a5", "proto-spike", "crit", t0.Add(time.Minute)))
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if id, ok := strings.CutPrefix(strings.TrimSpace(l), "id: "); ok {
			if id != "a5" {
				t.Fatalf("live id = %s, want a5", id)
			}
			break
		}
	}
}
