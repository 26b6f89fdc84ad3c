package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/gen"
)

// demoSummary is what a demo run found: the anomalies injected, the alerts
// that caught each, and the alerts that match none (false positives).
type demoSummary struct {
	Source      string
	SimStart    time.Time
	SimLen      time.Duration
	SimReached  time.Time // how far the generator got (SimStart+SimLen unless cut short)
	Wall        time.Duration
	Interrupted bool
	Records     uint64
	Pipelines   []demoPipeline
	Anomalies   []demoAnomaly
	// Firing are all alerts that fired (state "firing"), in order.
	Firing []analyze.Alert
	// FalsePositives are the firing alerts that match no anomaly.
	FalsePositives []analyze.Alert
	CallErrors     map[string]int // failed analyzer calls per instance
	// Where the embedded services listened (they are stopped when demo returns).
	InfluxURL string
	Brokers   []string
}

type demoPipeline struct {
	Name                             string
	Aggregated, Filtered, Late, Errs uint64
	Windows, Points                  uint64
}

// demoAnomaly is one injected anomaly and the alerts that caught it.
type demoAnomaly struct {
	gen.Injection
	Caught []demoCatch
}

// demoCatch is an alert that matches an anomaly, Delay windows after the
// window in which the anomaly started.
type demoCatch struct {
	Alert analyze.Alert
	Delay int
}

// demoGrace is how long after an anomaly ends an alert on its target still
// belongs to it (models whose history holds the anomaly react to its end).
const demoGrace = 6 // windows

// First is the earliest catch by instance (nil when none).
func (a demoAnomaly) First(instance string) *demoCatch {
	for i := range a.Caught {
		if a.Caught[i].Alert.Instance == instance {
			return &a.Caught[i]
		}
	}
	return nil
}

// matchAnomaly reports whether alert a is about anomaly in (the target is
// one of its series tags, or inside one that is a prefix; the alert window
// overlaps the anomaly or follows it by at most demoGrace windows), and with
// what delay in windows.
func matchAnomaly(a analyze.Alert, in gen.Injection) (int, bool) {
	size := a.WindowEnd.Sub(a.WindowStart)
	if size <= 0 {
		return 0, false
	}
	var target netip.Addr
	switch in.Kind {
	case gen.KindLinkFailure:
		target = agentAddr(in.Agent)
	default:
		target = in.Target
	}
	if !target.IsValid() || !seriesHas(a.Series, target) {
		return 0, false
	}
	first := in.From.Truncate(size)
	if a.WindowStart.Before(first) || a.WindowStart.After(in.To.Add(demoGrace*size)) {
		return 0, false
	}
	return int(a.WindowStart.Sub(first) / size), true
}

func seriesHas(tags map[string]string, addr netip.Addr) bool {
	for _, v := range tags {
		if a, err := netip.ParseAddr(v); err == nil && a == addr {
			return true
		}
		if p, err := netip.ParsePrefix(v); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}

// agentAddr is the address gen gives agent i.
func agentAddr(i int) netip.Addr {
	if i%4 == 3 {
		return netip.MustParseAddr(fmt.Sprintf("2001:db8:ffff::%d", i+1))
	}
	return netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i)})
}

// summary matches the alerts seen against the injected anomalies.
func (r *demoRun) summary(inj []gen.Injection, simStart time.Time, simLen time.Duration, interrupted bool) *demoSummary {
	s := &demoSummary{Source: r.o.Source, SimStart: simStart, SimLen: simLen, Wall: time.Since(r.started),
		Interrupted: interrupted, CallErrors: map[string]int{}}
	if r.src != nil {
		s.SimReached = r.src.stats.SimEnd // the generator has finished
	}
	e := r.svc.Runner.Engine()
	s.Records = e.Lines.Load()
	for _, p := range e.Pipes() {
		s.Pipelines = append(s.Pipelines, demoPipeline{Name: p.Spec.Name, Aggregated: p.Aggregated.Load(), Filtered: p.Filtered.Load(),
			Late: p.Late.Load(), Errs: p.Failed.Load(), Windows: p.WindowsWritten.Load(), Points: p.PointsWritten.Load()})
	}
	r.mu.Lock()
	for _, a := range r.alerts {
		if a.State == "firing" {
			s.Firing = append(s.Firing, a)
		}
	}
	for k, v := range r.callErrs {
		s.CallErrors[k] = v
	}
	r.mu.Unlock()
	sort.SliceStable(s.Firing, func(i, j int) bool { return s.Firing[i].WindowStart.Before(s.Firing[j].WindowStart) })
	for _, in := range inj {
		s.Anomalies = append(s.Anomalies, demoAnomaly{Injection: in})
	}
	for _, a := range s.Firing {
		matched := false
		for i := range s.Anomalies {
			if d, ok := matchAnomaly(a, s.Anomalies[i].Injection); ok {
				s.Anomalies[i].Caught = append(s.Anomalies[i].Caught, demoCatch{Alert: a, Delay: d})
				matched = true
			}
		}
		if !matched {
			s.FalsePositives = append(s.FalsePositives, a)
		}
	}
	return s
}

func (s *demoSummary) print(w io.Writer, r *demoRun, influxURL, dataDir string) {
	cfg := r.cfg
	fmt.Fprintf(w, "\n== Tidemark demo summary ==\n")
	if s.Interrupted {
		fmt.Fprintf(w, "(interrupted: partial results)\n")
	}
	if s.Source == "gen" {
		fmt.Fprintf(w, "generated %s of traffic (%s to %s UTC) at %s in %s, seed %d\n", s.SimReached.Sub(s.SimStart),
			s.SimStart.Format("15:04:05"), s.SimReached.Format("15:04:05"), speedText(r.o.Speed), s.Wall.Round(time.Second), r.o.Seed)
	}
	fmt.Fprintf(w, "records read %d, malformed %d, dead-lettered %d\n", s.Records, r.svc.Runner.Engine().Malformed.Total(), r.svc.Runner.DeadLettered.Load())
	for _, p := range s.Pipelines {
		fmt.Fprintf(w, "  %-22s aggregated %-8d filtered %-7d late %-5d errors %-5d windows %-4d points %d\n",
			p.Name, p.Aggregated, p.Filtered, p.Late, p.Errs, p.Windows, p.Points)
	}
	for inst, n := range s.CallErrors {
		fmt.Fprintf(w, "  analyzer %s: %d failed calls\n", inst, n)
	}

	if s.Source == "gen" {
		fmt.Fprintf(w, "\nanomalies injected, and the alerts that caught them (delay = alert window − anomaly start, in windows):\n")
		for _, a := range s.Anomalies {
			fmt.Fprintf(w, "  %s  %s–%s  (%d samples)\n", a.Anomaly, a.From.Format("15:04:05"), a.To.Format("15:04:05"), a.Samples)
			switch {
			case len(a.Caught) > 0:
			case !s.SimReached.After(a.From):
				fmt.Fprintf(w, "      not reached: the generator stopped before it\n")
			default:
				fmt.Fprintf(w, "      MISSED: no alert on it\n")
			}
			seen := map[string]bool{}
			for _, c := range a.Caught {
				key := c.Alert.Instance + "\x00" + c.Alert.Kind + "\x00" + seriesText(c.Alert.Series)
				if seen[key] {
					continue // the first alert of each instance and series; escalations follow
				}
				seen[key] = true
				fmt.Fprintf(w, "      caught by %-14s %-10s %-4s %s  window %s  delay %d windows\n", c.Alert.Instance, c.Alert.Kind,
					c.Alert.Severity, seriesText(c.Alert.Series), c.Alert.WindowStart.Format("15:04:05"), c.Delay)
			}
		}
		if len(s.FalsePositives) == 0 {
			fmt.Fprintf(w, "false positives (alerts matching no anomaly): none\n")
		} else {
			fmt.Fprintf(w, "false positives (alerts matching no anomaly): %d\n", len(s.FalsePositives))
		}
	} else {
		fmt.Fprintf(w, "\nalerts fired: %d\n", len(s.Firing))
	}
	list := s.FalsePositives
	if s.Source != "gen" {
		list = s.Firing
	}
	for _, a := range list {
		fmt.Fprintf(w, "      %-14s %-10s %-4s %s  window %s  %s\n", a.Instance, a.Kind, a.Severity, seriesText(a.Series),
			a.WindowStart.Format("15:04:05"), a.Message)
	}

	db := strings.SplitN(cfg.Output.InfluxDB.Bucket, "/", 2)[0]
	pipes := r.svc.Runner.Engine().Pipes()
	if len(pipes) == 0 {
		return
	}
	p := pipes[0]
	q := fmt.Sprintf("SELECT * FROM %q ORDER BY time DESC LIMIT 8", p.Spec.Name)
	fmt.Fprintf(w, "\nlatest points of %s (InfluxQL: %s)\n", p.Spec.Name, q)
	if rows, cols, err := influxQuery(influxURL, db, q); err == nil {
		printTable(w, cols, rows)
	} else {
		fmt.Fprintf(w, "  (query failed: %v)\n", err)
	}
	qa := fmt.Sprintf("SELECT * FROM %q ORDER BY time DESC LIMIT 20", cfg.Alerts.Measurement)
	fmt.Fprintf(w, "\nQueries (this run's influxd is %s; it stops with the demo):\n", influxURL)
	fmt.Fprintf(w, "  curl -sG $URL/query --data-urlencode db=%s --data-urlencode 'q=%s'\n", db, q)
	fmt.Fprintf(w, "  curl -sG $URL/query --data-urlencode db=%s --data-urlencode 'q=%s'   # the alerts\n", db, qa)
	fmt.Fprintf(w, "  curl -s $URL/api/v2/query -H 'Content-Type: application/vnd.flux' -d 'from(bucket:\"%s\") |> range(start:-1h) |> filter(fn:(r) => r._measurement == \"%s\")'\n",
		cfg.Output.InfluxDB.Bucket, p.Spec.Name)
	fmt.Fprintf(w, "The data stays in %s until the next demo. To look again later, start\n", dataDir)
	fmt.Fprintf(w, "  bin/influxd -config %s/influxdb.conf\n", dataDir)
	fmt.Fprintf(w, "and set URL=http://127.0.0.1:PORT from its \"Listening on HTTP\" log line.\n")
}

func influxQuery(base, db, q string) ([][]any, []string, error) {
	resp, err := http.Get(base + "/query?" + url.Values{"db": {db}, "q": {q}}.Encode())
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, nil, err
	}
	if len(out.Results) == 0 || len(out.Results[0].Series) == 0 {
		if len(out.Results) > 0 && out.Results[0].Error != "" {
			return nil, nil, errors.New(out.Results[0].Error)
		}
		return nil, nil, errors.New("no points")
	}
	s := out.Results[0].Series[0]
	return s.Values, s.Columns, nil
}

func printTable(w io.Writer, cols []string, rows [][]any) {
	widths := make([]int, len(cols))
	cells := make([][]string, len(rows))
	for i, c := range cols {
		widths[i] = len(c)
	}
	for r, row := range rows {
		cells[r] = make([]string, len(cols))
		for i := range cols {
			s := ""
			if i < len(row) && row[i] != nil {
				s = fmt.Sprint(row[i])
			}
			cells[r][i] = s
			widths[i] = max(widths[i], len(s))
		}
	}
	line := func(vals []string) {
		for i, v := range vals {
			fmt.Fprintf(w, "  %-*s", widths[i], v)
		}
		fmt.Fprintln(w)
	}
	line(cols)
	for _, c := range cells {
		line(c)
	}
}
