package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/influxd"
	"github.com/tidemark/tidemark/host/sink"
)

// TestDashboardQueriesRunOnInfluxDB writes windows shaped by configs/docker.toml
// (through the real InfluxDB sink) and alerts (through the real alert
// writer) into a real influxd 1.8, then runs every InfluxQL query of the
// dashboards against it, the way Grafana expands them, and expects each to
// succeed with data: InfluxQL directly, Flux through /api/v2/query with the
// `v` record Grafana defines. influxd 1.8.10's Flux lacks findColumn, which
// InfluxDB 2 has; fluxPreamble defines it from tableFind and getColumn.
func TestDashboardQueriesRunOnInfluxDB(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := influxd.Start(ctx, influxd.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cfg, plan := dockerPlan(t)
	db := cfg.Output.InfluxDB.Bucket // InfluxDB 2's virtual DBRP: database = bucket, rp autogen
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	out, err := sink.NewInflux(ctx, sink.InfluxConfig{URL: srv.URL(), Bucket: db + "/autogen", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	// 30 windows per pipeline up to now, three keys each.
	for _, p := range plan.Pipes {
		size := p.Window.Size
		end := time.Now().Truncate(size)
		w := &sink.Window{Measurement: p.Name, TagNames: p.Window.GroupNames}
		for _, a := range p.Window.Aggs {
			w.FieldNames = append(w.FieldNames, a.Name)
			w.FieldInt = append(w.FieldInt, a.Func == "count" || a.Func == "count_distinct")
		}
		for i := 0; i < 30; i++ {
			w.Start = end.Add(-time.Duration(i) * size)
			w.Points = w.Points[:0]
			for k := 0; k < 3; k++ {
				pt := sink.Point{}
				for j := range w.TagNames {
					tag := fmt.Sprintf("key%d-%d", k, j)
					if k == 2 && j == 0 {
						tag = "" // a GeoIP miss: the sink writes no tag at all
					}
					pt.Tags = append(pt.Tags, tag)
				}
				for j := range w.FieldNames {
					pt.Values = append(pt.Values, float64(1000*(30-i)+100*k+j))
					pt.Present = append(pt.Present, true)
				}
				w.Points = append(w.Points, pt)
			}
			if err := out.Write(ctx, w); err != nil {
				t.Fatalf("write %s: %v", p.Name, err)
			}
		}
	}
	client := influxdb2.NewClient(srv.URL(), "")
	defer client.Close()
	alerts := analyze.NewInflux(client, "", db+"/autogen", cfg.Alerts.Measurement)
	v := 42.0
	for i, state := range []string{"firing", "resolved"} {
		a := analyze.Alert{
			ID: fmt.Sprint(i), Instance: cfg.Analyzer[0].Name, Module: cfg.Analyzer[0].Module + "@1.0.0", Pipeline: cfg.Analyzer[0].Pipeline,
			Kind: "anomaly", Severity: "warn", State: state, Series: map[string]string{"src_country": "DE"}, Field: "sum_bytes",
			Observed: &v, Expected: &v, WindowStart: time.Now().Add(-time.Duration(5-i) * time.Minute), Message: "spike " + state,
		}
		if err := alerts.Publish(ctx, a); err != nil {
			t.Fatalf("alert: %v", err)
		}
	}

	dss := datasources(t)
	n := map[string]int{}
	for file, d := range loadDashboards(t) {
		for _, q := range d.queries(t) {
			ds, ok := dss[q.ds]
			if !ok {
				continue
			}
			var (
				rows int
				err  error
				text string
			)
			switch ds.language() {
			case "influxql":
				text = grafanaExpand(q.text)
				rows, err = influxQL(ctx, srv.URL(), db, text)
			case "flux":
				text = fluxPreamble + q.text
				rows, err = flux(ctx, srv.URL(), text)
			default:
				continue
			}
			n[ds.language()]++
			if err != nil {
				t.Errorf("%s: %s: %v\n%s", file, q.where, err, text)
			} else if rows == 0 {
				t.Errorf("%s: %s: no data\n%s", file, q.where, text)
			}
		}
	}
	if n["influxql"] == 0 || n["flux"] == 0 {
		t.Fatalf("ran %v queries; want InfluxQL and Flux ones", n)
	}
}

// fluxPreamble is what Grafana's InfluxDB datasource and InfluxDB 2 provide
// to a dashboard's Flux query: the v record (a one-hour range at a 10 s
// interval) and, for influxd 1.8, findColumn.
const fluxPreamble = `v = {timeRangeStart: -1h, timeRangeStop: now(), windowPeriod: 10s}
findColumn = (tables=<-, fn, column) => tables |> tableFind(fn: fn) |> getColumn(column: column)
`

// flux runs a Flux query and returns the number of data rows in the CSV
// response.
func flux(ctx context.Context, base, q string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/query", strings.NewReader(q))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/vnd.flux")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	// Annotated CSV: per table a header line starting with ",result,", then
	// rows; an error mid-stream is a table with an "error" column.
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, ",result,") || strings.HasPrefix(line, ",error,"):
			if strings.HasPrefix(line, ",error,") {
				return 0, fmt.Errorf("flux: %s", b)
			}
		default:
			rows++
		}
	}
	return rows, nil
}

// grafanaExpand replaces the Grafana macros the InfluxQL dashboards use, as
// Grafana does for a one-hour range at a 10 s interval.
func grafanaExpand(q string) string {
	return strings.NewReplacer(
		"$timeFilter", "time >= now() - 1h",
		"$__interval_ms", "10000",
		"$__interval", "10s",
	).Replace(q)
}

// influxQL runs q and returns the number of series in its result.
func influxQL(ctx context.Context, base, db, q string) (int, error) {
	u := base + "/query?" + url.Values{"db": {db}, "q": {q}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Error   string `json:"error"`
		Results []struct {
			Error  string            `json:"error"`
			Series []json.RawMessage `json:"series"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if body.Error != "" {
		return 0, fmt.Errorf("influxdb: %s", body.Error)
	}
	n := 0
	for _, r := range body.Results {
		if r.Error != "" {
			return 0, fmt.Errorf("influxdb: %s", r.Error)
		}
		n += len(r.Series)
	}
	return n, nil
}
