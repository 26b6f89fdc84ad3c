package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/pipeline"
)

type datasource struct {
	Name     string         `yaml:"name"`
	UID      string         `yaml:"uid"`
	Type     string         `yaml:"type"`
	URL      string         `yaml:"url"`
	JSONData map[string]any `yaml:"jsonData"`
	Secure   map[string]any `yaml:"secureJsonData"`
}

// language is what a datasource's queries are written in.
func (d datasource) language() string {
	if d.Type == "prometheus" {
		return "promql"
	}
	if v, _ := d.JSONData["version"].(string); v == "Flux" {
		return "flux"
	}
	return "influxql"
}

func datasources(t *testing.T) map[string]datasource {
	t.Helper()
	files, _ := filepath.Glob("grafana/provisioning/datasources/*.yml")
	if len(files) == 0 {
		t.Fatal("no grafana/provisioning/datasources/*.yml")
	}
	out := map[string]datasource{}
	for _, f := range files {
		var doc struct {
			APIVersion  int          `yaml:"apiVersion"`
			Datasources []datasource `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(readFile(t, f), &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if doc.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, want 1", f, doc.APIVersion)
		}
		for _, d := range doc.Datasources {
			if d.UID == "" {
				t.Errorf("%s: datasource %q has no uid (dashboards refer to datasources by uid)", f, d.Name)
			}
			if _, dup := out[d.UID]; dup {
				t.Errorf("%s: datasource uid %q twice", f, d.UID)
			}
			out[d.UID] = d
		}
	}
	return out
}

func TestGrafanaDatasources(t *testing.T) {
	cfg := loadDockerConfig(t, nil)
	ix := cfg.Output.InfluxDB
	c := loadCompose(t)
	langs := map[string]int{}
	for uid, d := range datasources(t) {
		langs[d.language()]++
		u, err := url.Parse(d.URL)
		if err != nil || c.Services[u.Hostname()] == nil {
			t.Errorf("datasource %s: URL %q is not a compose service", uid, d.URL)
		}
		switch d.language() {
		case "flux":
			if d.URL != ix.URL || d.JSONData["organization"] != ix.Org || d.JSONData["defaultBucket"] != ix.Bucket {
				t.Errorf("datasource %s: %s org %v bucket %v; tidemark writes to %s org %s bucket %s",
					uid, d.URL, d.JSONData["organization"], d.JSONData["defaultBucket"], ix.URL, ix.Org, ix.Bucket)
			}
			if d.Secure["token"] != "${INFLUXDB_TOKEN}" {
				t.Errorf("datasource %s: token %v, want ${INFLUXDB_TOKEN} from Grafana's environment", uid, d.Secure["token"])
			}
		case "influxql":
			// InfluxDB 2 maps bucket B to database B, retention policy autogen.
			if d.URL != ix.URL || d.JSONData["dbName"] != ix.Bucket {
				t.Errorf("datasource %s: %s database %v; tidemark writes to %s bucket %s", uid, d.URL, d.JSONData["dbName"], ix.URL, ix.Bucket)
			}
			if d.JSONData["httpHeaderName1"] != "Authorization" || d.Secure["httpHeaderValue1"] != "Token ${INFLUXDB_TOKEN}" {
				t.Errorf("datasource %s: no token authorization header", uid)
			}
		case "promql":
			if u.Hostname() != "prometheus" {
				t.Errorf("datasource %s: %s, want the compose prometheus", uid, d.URL)
			}
		}
	}
	for _, l := range []string{"flux", "influxql", "promql"} {
		if langs[l] != 1 {
			t.Errorf("%d %s datasources, want 1", langs[l], l)
		}
	}
}

func dashboardProviderPath(t *testing.T) string {
	t.Helper()
	files, _ := filepath.Glob("grafana/provisioning/dashboards/*.yml")
	if len(files) != 1 {
		t.Fatalf("want one dashboard provider file, have %v", files)
	}
	var doc struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(readFile(t, files[0]), &doc); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	if len(doc.Providers) != 1 || doc.Providers[0].Type != "file" || doc.Providers[0].Options.Path == "" {
		t.Fatalf("%s: want one file provider with a path, have %+v", files[0], doc.Providers)
	}
	return doc.Providers[0].Options.Path
}

// --- what InfluxDB holds: from the compiled plan of configs/docker.toml

type measurement struct {
	tags, fields map[string]bool
}

// alertColumns runs the real alert writer (analyze.Influx, which `run`
// uses for [alerts] measurement) on an alert with every optional value set,
// capturing the point instead of sending it, and returns its tags and fields.
func alertColumns(t *testing.T, name string) measurement {
	t.Helper()
	capture := &pointCapture{}
	pub := &analyze.Influx{Write: capture, Measurement: name}
	v := 1.0
	a := analyze.Alert{
		ID: "id", Instance: "country-spike", Module: "deviation@1.0.0", Pipeline: "traffic_by_country",
		Kind: "anomaly", Severity: "warn", State: "firing", Series: map[string]string{"src_country": "DE"},
		Field: "sum_bytes", Observed: &v, Expected: &v, Lower: &v, Upper: &v, HorizonSeconds: &v,
		WindowStart: time.Unix(1700000000, 0), WindowEnd: time.Unix(1700000010, 0), Message: "spike",
	}
	if err := pub.Publish(context.Background(), a); err != nil {
		t.Fatalf("analyze.Influx.Publish: %v", err)
	}
	if len(capture.points) != 1 || capture.points[0].Name() != name {
		t.Fatalf("the alert writer wrote %d points, want one of %s", len(capture.points), name)
	}
	m := measurement{tags: map[string]bool{}, fields: map[string]bool{}}
	for _, tg := range capture.points[0].TagList() {
		m.tags[tg.Key] = true
	}
	for _, f := range capture.points[0].FieldList() {
		m.fields[f.Key] = true
	}
	return m
}

// pointCapture is an api.WriteAPIBlocking that keeps the points.
type pointCapture struct{ points []*write.Point }

func (c *pointCapture) WriteRecord(context.Context, ...string) error {
	return errors.New("unexpected line protocol write")
}
func (c *pointCapture) WritePoint(_ context.Context, p ...*write.Point) error {
	c.points = append(c.points, p...)
	return nil
}
func (c *pointCapture) EnableBatching()             {}
func (c *pointCapture) Flush(context.Context) error { return nil }

// written lists every measurement configs/docker.toml makes tidemark write:
// one per pipeline (tags = group_by, fields = aggregate output names) and
// the alert measurement.
func written(t *testing.T) map[string]measurement {
	t.Helper()
	cfg, plan := dockerPlan(t)
	out := map[string]measurement{}
	for _, p := range plan.Pipes {
		m := measurement{tags: set(p.Window.GroupNames...), fields: map[string]bool{}}
		for _, a := range p.Window.Aggs {
			m.fields[a.Name] = true
		}
		out[p.Name] = m
	}
	out[cfg.Alerts.Measurement] = alertColumns(t, cfg.Alerts.Measurement)
	return out
}

func set(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// --- what Prometheus holds

type metricInfo struct {
	labels    map[string]bool
	histogram bool
}

var descRe = regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)

// exportedMetrics lists the metric names Prometheus can see, with labels:
//   - tidemark run's pipeline metrics: the Describe of pipeline.NewCollector
//     on a runner built from configs/docker.toml (the collector service.New
//     registers);
//   - Go and process metrics: a Gather of the same standard collectors;
//   - every other metric (analyzers, module reloads, tidemark collect):
//     prometheus.New…(prometheus.…Opts{Name: "…"}, []string{labels…})
//     definitions in the non-test Go source under host/ and registry/,
//     read with go/ast;
//   - up, which Prometheus adds per target.
func exportedMetrics(t *testing.T) map[string]metricInfo {
	t.Helper()
	cfg, plan := dockerPlan(t)
	r, err := pipeline.NewRunner(pipeline.Options{Config: cfg, Plan: plan})
	if err != nil {
		t.Fatalf("pipeline.NewRunner: %v", err)
	}
	out := map[string]metricInfo{"up": {labels: map[string]bool{}}}
	ch := make(chan *prometheus.Desc, 64)
	go func() { pipeline.NewCollector(r).Describe(ch); close(ch) }()
	for d := range ch {
		m := descRe.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read a metric name from %s", d)
		}
		out[m[1]] = metricInfo{labels: set(splitList(m[2])...)}
	}
	if _, ok := out["tidemark_pipeline_records_total"]; !ok {
		t.Fatalf("pipeline.NewCollector describes no tidemark_pipeline_records_total: %v", keys(out))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		out[mf.GetName()] = metricInfo{labels: map[string]bool{}}
	}
	for _, dir := range []string{"host", "registry"} {
		err := filepath.WalkDir(repoPath(dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			for name, info := range metricDefs(t, p) {
				out[name] = info
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// metricDefs reads prometheus.NewX(prometheus.XOpts{Name: "..."}, labels)
// calls from a Go file. Labels are nil (not checked) when they are not a
// literal list.
func metricDefs(t *testing.T, path string) map[string]metricInfo {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]metricInfo{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !strings.HasPrefix(sel.Sel.Name, "New") {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "prometheus" {
			return true
		}
		opts, ok := call.Args[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		var name string
		for _, e := range opts.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
				if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, _ = strconv.Unquote(lit.Value)
				}
			}
		}
		if name == "" {
			return true
		}
		info := metricInfo{histogram: strings.Contains(sel.Sel.Name, "Histogram"), labels: map[string]bool{}}
		if strings.HasSuffix(sel.Sel.Name, "Vec") {
			info.labels = nil
			if len(call.Args) > 1 {
				if lst, ok := call.Args[1].(*ast.CompositeLit); ok {
					info.labels = map[string]bool{}
					for _, e := range lst.Elts {
						if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							l, _ := strconv.Unquote(lit.Value)
							info.labels[l] = true
						}
					}
				} else if id, ok := call.Args[1].(*ast.Ident); ok && id.Name == "nil" {
					info.labels = map[string]bool{}
				}
			}
		}
		out[name] = info
		return true
	})
	return out
}

// --- dashboards

type panel struct {
	Title      string          `json:"title"`
	Type       string          `json:"type"`
	Datasource *dsRef          `json:"datasource"`
	Targets    []target        `json:"targets"`
	Panels     []panel         `json:"panels"`
	GridPos    json.RawMessage `json:"gridPos"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID      string `json:"refId"`
	Datasource *dsRef `json:"datasource"`
	Query      string `json:"query"` // Flux or InfluxQL
	Expr       string `json:"expr"`  // PromQL
	Alias      string `json:"alias"`
}

type dashboard struct {
	UID         string  `json:"uid"`
	Title       string  `json:"title"`
	Panels      []panel `json:"panels"`
	Annotations struct {
		List []struct {
			Name       string `json:"name"`
			Datasource *dsRef `json:"datasource"`
			Target     target `json:"target"`
			TextColumn string `json:"textColumn"`
			TagsColumn string `json:"tagsColumn"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Datasource *dsRef `json:"datasource"`
			Query      any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// query is one query found in a dashboard, with where it is.
type query struct {
	where, ds, text, alias string
	extraColumns           []string // annotation text/tag columns
}

func loadDashboards(t *testing.T) map[string]*dashboard {
	t.Helper()
	files, _ := filepath.Glob("grafana/dashboards/*.json")
	if len(files) == 0 {
		t.Fatal("no grafana/dashboards/*.json")
	}
	out := map[string]*dashboard{}
	uids := map[string]string{}
	for _, f := range files {
		var d dashboard
		dec := json.NewDecoder(strings.NewReader(string(readFile(t, f))))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s is not valid dashboard JSON: %v", f, err)
		}
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: no uid or title", f)
		}
		if prev, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share uid %q", f, prev, d.UID)
		}
		uids[d.UID] = f
		out[filepath.Base(f)] = &d
	}
	return out
}

// queries flattens a dashboard's panels (rows included), annotations and
// template variables into queries with their datasource uid.
func (d *dashboard) queries(t *testing.T) []query {
	t.Helper()
	var out []query
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				ds := tg.Datasource
				if ds == nil {
					ds = p.Datasource
				}
				if ds == nil {
					t.Errorf("%s: panel %q target %s has no datasource", d.Title, p.Title, tg.RefID)
					continue
				}
				if p.Datasource != nil && p.Datasource.UID != ds.UID {
					t.Errorf("%s: panel %q mixes datasources %s and %s", d.Title, p.Title, p.Datasource.UID, ds.UID)
				}
				text := tg.Query
				if tg.Expr != "" {
					text = tg.Expr
				}
				out = append(out, query{where: fmt.Sprintf("%s / %q / %s", d.Title, p.Title, tg.RefID), ds: ds.UID, text: text, alias: tg.Alias})
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no queries", d.Title, p.Title)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, a := range d.Annotations.List {
		if a.Datasource == nil || a.Datasource.Type == "grafana" {
			continue
		}
		var extra []string
		for _, c := range append([]string{a.TextColumn}, strings.Split(a.TagsColumn, ",")...) {
			if c = strings.TrimSpace(c); c != "" {
				extra = append(extra, c)
			}
		}
		out = append(out, query{where: d.Title + " / annotation " + a.Name, ds: a.Datasource.UID, text: a.Target.Query, extraColumns: extra})
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" || v.Datasource == nil {
			continue
		}
		text, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			text, _ = m["query"].(string)
		}
		out = append(out, query{where: d.Title + " / variable " + v.Name, ds: v.Datasource.UID, text: text})
	}
	return out
}

var (
	fluxMeasRe  = regexp.MustCompile(`_measurement\s*==\s*"([^"]+)"`)
	fluxFieldRe = regexp.MustCompile(`_field\s*==\s*"([^"]+)"`)
	fluxColRes  = []*regexp.Regexp{
		regexp.MustCompile(`\br\.([A-Za-z_][A-Za-z0-9_]*)`),
		regexp.MustCompile(`\br\["([^"]+)"\]`),
		regexp.MustCompile(`\b(?:column|valueColumn):\s*"([^"]+)"`),
	}
	fluxColListRe = regexp.MustCompile(`\b(?:columns|rowKey|columnKey):\s*\[([^\]]*)\]`)
	quotedRe      = regexp.MustCompile(`"([^"]+)"`)
	iqlFromRe     = regexp.MustCompile(`(?i)\bFROM\s+"([^"]+)"`)
	iqlTagRe      = regexp.MustCompile(`\$tag_([A-Za-z0-9_]+)`)
	// Columns every Flux table has.
	fluxBuiltin = set("_time", "_value", "_field", "_measurement", "_start", "_stop")
)

// influxRefs extracts the measurements and columns (tags or fields) a Flux
// or InfluxQL query names. In InfluxQL every double-quoted identifier other
// than the measurement is a column, so aliases are written unquoted.
func influxRefs(lang, q string) (meas []string, fields, columns []string) {
	if lang == "flux" {
		for _, m := range fluxMeasRe.FindAllStringSubmatch(q, -1) {
			meas = append(meas, m[1])
		}
		for _, m := range fluxFieldRe.FindAllStringSubmatch(q, -1) {
			fields = append(fields, m[1])
		}
		for _, re := range fluxColRes {
			for _, m := range re.FindAllStringSubmatch(q, -1) {
				columns = append(columns, m[1])
			}
		}
		for _, m := range fluxColListRe.FindAllStringSubmatch(q, -1) {
			for _, c := range quotedRe.FindAllStringSubmatch(m[1], -1) {
				columns = append(columns, c[1])
			}
		}
		return meas, fields, columns
	}
	from := iqlFromRe.FindAllStringSubmatch(q, -1)
	for _, m := range from {
		meas = append(meas, m[1])
	}
	for _, m := range quotedRe.FindAllStringSubmatch(q, -1) {
		if len(from) == 0 || m[1] != from[0][1] {
			columns = append(columns, m[1])
		}
	}
	return meas, nil, columns
}

// TestDashboardInfluxQueries: every Flux and InfluxQL query reads a
// measurement configs/docker.toml writes, and only its fields and tags.
func TestDashboardInfluxQueries(t *testing.T) {
	dss := datasources(t)
	ms := written(t)
	used := map[string]bool{}
	n := 0
	for file, d := range loadDashboards(t) {
		for _, q := range d.queries(t) {
			ds, ok := dss[q.ds]
			if !ok {
				t.Errorf("%s: %s: datasource uid %q is not provisioned", file, q.where, q.ds)
				continue
			}
			lang := ds.language()
			if lang == "promql" {
				continue
			}
			n++
			meas, fields, cols := influxRefs(lang, q.text)
			for _, m := range iqlTagRe.FindAllStringSubmatch(q.alias, -1) {
				cols = append(cols, m[1])
			}
			cols = append(cols, q.extraColumns...)
			if len(meas) != 1 {
				t.Errorf("%s: %s: want one measurement per query, found %v in:\n%s", file, q.where, meas, q.text)
				continue
			}
			m, ok := ms[meas[0]]
			if !ok {
				t.Errorf("%s: %s: measurement %q is not written by configs/docker.toml (written: %v)", file, q.where, meas[0], sorted(keys(ms)))
				continue
			}
			used[meas[0]] = true
			for _, f := range fields {
				if !m.fields[f] {
					t.Errorf("%s: %s: %s has no field %q (fields: %v)", file, q.where, meas[0], f, sorted(keys(m.fields)))
				}
			}
			for _, c := range cols {
				if !m.fields[c] && !m.tags[c] && !(lang == "flux" && fluxBuiltin[c]) {
					t.Errorf("%s: %s: %s has no tag or field %q (tags %v, fields %v)", file, q.where, meas[0], c, sorted(keys(m.tags)), sorted(keys(m.fields)))
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no InfluxDB queries found")
	}
	// Every pipeline has a panel somewhere.
	for name := range ms {
		if !used[name] {
			t.Errorf("no dashboard shows measurement %q", name)
		}
	}
}

var (
	promNameRe  = regexp.MustCompile(`\b((?:tidemark|go|process)_[a-z0-9_]+|up)\b\s*[{\[)]`)
	promByRe    = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	promMatchRe = regexp.MustCompile(`\{([^}]*)\}`)
	promLabelRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	// Labels Prometheus adds to every series it scrapes, and histograms' le.
	promTargetLabels = set("job", "instance", "le")
)

// TestDashboardPrometheusQueries: every PromQL query names metrics Tidemark
// exports, and only their labels.
func TestDashboardPrometheusQueries(t *testing.T) {
	dss := datasources(t)
	exported := exportedMetrics(t)
	used := map[string]bool{}
	n := 0
	for file, d := range loadDashboards(t) {
		for _, q := range d.queries(t) {
			ds, ok := dss[q.ds]
			if !ok || ds.language() != "promql" {
				continue
			}
			n++
			text := q.text
			// label_values(metric, label) in template variables.
			if m := regexp.MustCompile(`label_values\((\w+),\s*(\w+)\)`).FindStringSubmatch(text); m != nil {
				text = fmt.Sprintf("sum by (%s) (%s{})", m[2], m[1])
			}
			names := promNameRe.FindAllStringSubmatch(text, -1)
			if len(names) == 0 {
				t.Errorf("%s: %s: no metric name in %q", file, q.where, text)
				continue
			}
			labels := map[string]bool{}
			checkLabels := true
			for _, m := range names {
				name := m[1]
				info, ok := exported[name]
				if !ok {
					for _, suf := range []string{"_bucket", "_sum", "_count"} {
						if base, cut := strings.CutSuffix(name, suf); cut && exported[base].histogram {
							info, ok = exported[base], true
						}
					}
				}
				if !ok {
					t.Errorf("%s: %s: metric %s is not exported by tidemark", file, q.where, name)
					continue
				}
				used[name] = true
				if info.labels == nil {
					checkLabels = false
				}
				for l := range info.labels {
					labels[l] = true
				}
			}
			if !checkLabels {
				continue
			}
			var refs []string
			for _, m := range promByRe.FindAllStringSubmatch(text, -1) {
				refs = append(refs, splitList(m[1])...)
			}
			for _, m := range promMatchRe.FindAllStringSubmatch(text, -1) {
				for _, l := range promLabelRe.FindAllStringSubmatch(m[1], -1) {
					refs = append(refs, l[1])
				}
			}
			for _, l := range refs {
				if !labels[l] && !promTargetLabels[l] {
					t.Errorf("%s: %s: label %q is on none of the metrics in %q", file, q.where, l, text)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no Prometheus queries found")
	}
	for _, want := range []string{
		"tidemark_input_lines_total", "tidemark_pipeline_records_total", "tidemark_pipeline_windows_written_total",
		"tidemark_kafka_lag", "tidemark_dead_letter_total", "tidemark_analyzer_calls_total",
		"tidemark_analyzer_failures_total", "tidemark_module_reloads_total", "tidemark_collect_datagrams_total",
	} {
		if !used[want] {
			t.Errorf("no dashboard shows %s", want)
		}
	}
	if !used["tidemark_analyzer_call_seconds_bucket"] {
		t.Error("no dashboard shows the analyzer call time histogram")
	}
}

// TestDashboardQueryCheckCatchesMistakes: the extraction finds a wrong
// field, tag, measurement and metric (so the two tests above can fail).
func TestDashboardQueryCheckCatchesMistakes(t *testing.T) {
	meas, fields, cols := influxRefs("flux", `from(bucket: "tidemark") |> filter(fn: (r) => r._measurement == "traffic_by_countyr" and r._field == "sum_byte") |> group(columns: ["src_contry"]) |> filter(fn: (r) => r.dst_asn == "1")`)
	if fmt.Sprint(meas, fields) != "[traffic_by_countyr] [sum_byte]" || !contains(cols, "src_contry") || !contains(cols, "dst_asn") {
		t.Errorf("flux refs: %v %v %v", meas, fields, cols)
	}
	meas, _, cols = influxRefs("influxql", `SELECT sum("sum_bytes") AS bytes FROM "top_talkers" WHERE $timeFilter GROUP BY "src_ipp"`)
	if fmt.Sprint(meas) != "[top_talkers]" || !contains(cols, "src_ipp") || contains(cols, "bytes") {
		t.Errorf("influxql refs: %v %v", meas, cols)
	}
	ms := written(t)
	if ms["top_talkers"].tags["src_ipp"] || !ms["top_talkers"].tags["src_ip"] || !ms["traffic_by_country"].fields["sum_bytes"] {
		t.Errorf("written measurements are wrong: %+v", ms["top_talkers"])
	}
	names := promNameRe.FindAllStringSubmatch(`sum by (pipeline) (rate(tidemark_pipeline_record_total{pipeline="x"}[5m]))`, -1)
	if len(names) != 1 || names[0][1] != "tidemark_pipeline_record_total" {
		t.Fatalf("metric names: %v", names)
	}
	if _, ok := exportedMetrics(t)["tidemark_pipeline_record_total"]; ok {
		t.Error("a misspelt metric counts as exported")
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func sorted(xs []string) []string {
	sort.Strings(xs)
	return xs
}
