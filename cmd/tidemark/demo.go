package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/influxd"
	"github.com/tidemark/tidemark/host/service"
)

func init() {
	register(command{name: "demo", summary: "run a config on an embedded Kafka and a local influxd with sample data", run: runDemo})
}

type demoFlags struct {
	config, influxd, sample, dataDir string
	duration                         time.Duration
	rate                             int
}

func runDemo(ctx context.Context, args []string) error {
	var f demoFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&f.config, "c", "configs/demo.toml", "config file (input.brokers and output.influxdb.url are replaced)")
	fs.StringVar(&f.influxd, "influxd", "", "influxd binary (default: $TIDEMARK_INFLUXD or bin/influxd)")
	fs.StringVar(&f.sample, "sample", "configs/samples/sflow-sample.txt", "sflowtool lines to feed, in a loop")
	fs.StringVar(&f.dataDir, "data", "var/demo", "directory for influxd's data")
	fs.DurationVar(&f.duration, "duration", 40*time.Second, "how long to feed data (0 = until Ctrl-C)")
	fs.IntVar(&f.rate, "rate", 2000, "lines per second to feed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tty := isTTY(os.Stderr)
	say := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "tidemark demo: "+format+"\n", a...) }

	sample, err := readSample(f.sample)
	if err != nil {
		return err
	}
	// Parse the config first: a bad config starts nothing.
	if _, err := config.Load(f.config, append(os.Environ(), "TIDEMARK_INPUT_BROKERS=127.0.0.1:1")); err != nil {
		return fmt.Errorf("%s is not valid:\n%w", f.config, err)
	}

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "sflow"))
	if err != nil {
		return fmt.Errorf("start embedded kafka: %w", err)
	}
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	say("embedded Kafka (kfake) on %s", brokers)

	bin := f.influxd
	if bin == "" {
		if bin, err = influxd.FindBinary(); err != nil {
			return err
		}
	}
	dataDir, _ := filepath.Abs(filepath.Join(f.dataDir, "influxd"))
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(f.dataDir, "influxd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	srv, err := influxd.Start(ctx, influxd.Options{Binary: bin, DataDir: dataDir, Log: logf})
	if err != nil {
		return fmt.Errorf("start influxd: %w", err)
	}
	defer srv.Stop()
	say("influxd 1.8 on %s (data in %s, log in %s)", srv.URL(), dataDir, logf.Name())

	env := append(os.Environ(), "TIDEMARK_INPUT_BROKERS="+brokers, "TIDEMARK_OUTPUT_INFLUXDB_URL="+srv.URL())
	cfg, err := config.Load(f.config, env)
	if err != nil {
		return err
	}
	log := newLogger(os.Stderr, config.Log{Level: "warn", Format: "text"})
	svc, err := service.New(ctx, cfg, service.Options{Logger: log, Stdout: io.Discard})
	if err != nil {
		return err
	}
	defer svc.Close()

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- svc.Run(runCtx) }()
	if cfg.HTTP.Listen != "off" {
		say("metrics on http://%s/metrics", cfg.HTTP.Listen)
	}

	feedCtx, stopFeed := context.WithCancel(ctx)
	if f.duration > 0 {
		feedCtx, stopFeed = context.WithTimeout(ctx, f.duration)
	}
	defer stopFeed()
	var fed atomic.Int64
	feedErr := make(chan error, 1)
	go func() { feedErr <- feed(feedCtx, cluster.ListenAddrs(), cfg.Topics()[0], sample, f.rate, &fed) }()
	say("feeding %d sample lines in a loop at %d lines/s for %v (Ctrl-C to stop)", len(sample), f.rate, f.duration)

	pctx, stopProgress := context.WithCancel(ctx)
	go progress(pctx, os.Stderr, tty, svc.Runner, nil)

	select {
	case err := <-feedErr:
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			stopProgress()
			return fmt.Errorf("feed: %w", err)
		}
	case err := <-runErr:
		stopProgress()
		return err
	}
	// Let the idle timeout close the last windows, unless interrupted.
	if ctx.Err() == nil {
		waitDrained(ctx, svc, fed.Load(), 30*time.Second)
	}
	stopProgress()
	stopRun()
	if err := <-runErr; err != nil {
		return err
	}
	summary(os.Stdout, svc, srv.URL(), dataDir, cfg)
	return nil
}

func readSample(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		lines = append(lines, append([]byte(nil), l...))
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("sample %s: no lines", path)
	}
	return lines, nil
}

// feed produces the sample lines in a loop at rate lines/s, stamped with
// the current time (sflowtool lines carry none, so the Kafka timestamp is
// the event time), keyed by agent so each agent's lines stay in order.
func feed(ctx context.Context, seeds []string, topic string, lines [][]byte, rate int, fed *atomic.Int64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	const tick = 50 * time.Millisecond
	perTick := max(1, rate*int(tick)/int(time.Second))
	t := time.NewTicker(tick)
	defer t.Stop()
	i := 0
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = cl.Flush(fctx)
			return ctx.Err()
		case now := <-t.C:
			for n := 0; n < perTick; n++ {
				l := lines[i%len(lines)]
				i++
				key := l
				if parts := bytes.SplitN(l, []byte(","), 3); len(parts) > 2 {
					key = parts[1]
				}
				cl.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: l, Timestamp: now}, func(_ *kgo.Record, err error) {
					if err == nil {
						fed.Add(1)
					}
				})
			}
		}
	}
}

// waitDrained waits until every fed line has been read and every window
// written (the idle timeout closes the last ones), or the timeout.
func waitDrained(ctx context.Context, svc *service.Service, fed int64, timeout time.Duration) {
	deadline := time.After(timeout)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		e := svc.Runner.Engine()
		open := 0
		for _, p := range e.Pipes() {
			open += p.Win.Open()
		}
		_ = open
		if int64(svc.Runner.Records.Load()) >= fed && svc.Runner.Engine().Offsets.Pending() == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-t.C:
		}
	}
}

func summary(w io.Writer, svc *service.Service, influxURL, dataDir string, cfg *config.Config) {
	e := svc.Runner.Engine()
	db := strings.SplitN(cfg.Output.InfluxDB.Bucket, "/", 2)[0]
	fmt.Fprintf(w, "\n== Tidemark demo summary ==\n")
	fmt.Fprintf(w, "records read %d, malformed %d, dead-lettered %d\n", e.Lines.Load(), e.Malformed.Total(), svc.Runner.DeadLettered.Load())
	for _, p := range e.Pipes() {
		fmt.Fprintf(w, "  %-22s aggregated %-8d filtered %-6d late %-5d errors %-5d windows %-4d points %d\n",
			p.Spec.Name, p.Aggregated.Load(), p.Filtered.Load(), p.Late.Load(), p.Failed.Load(), p.WindowsWritten.Load(), p.PointsWritten.Load())
	}
	if len(e.Pipes()) == 0 {
		return
	}
	p := e.Pipes()[0]
	q := fmt.Sprintf("SELECT * FROM %q ORDER BY time DESC LIMIT 8", p.Spec.Name)
	fmt.Fprintf(w, "\nlatest points of %s (InfluxQL: %s)\n", p.Spec.Name, q)
	if rows, cols, err := influxQuery(influxURL, db, q); err == nil {
		printTable(w, cols, rows)
	} else {
		fmt.Fprintf(w, "  (query failed: %v)\n", err)
	}
	fmt.Fprintf(w, "\nThe data stays in %s. To look again later:\n", dataDir)
	fmt.Fprintf(w, "  bin/influxd -config %s/influxd.conf &   # then:\n", dataDir)
	fmt.Fprintf(w, "  curl -sG %s/query --data-urlencode db=%s --data-urlencode 'q=%s'\n", influxURL, db, q)
	fmt.Fprintf(w, "  curl -s %s/api/v2/query -H 'Content-Type: application/vnd.flux' -d 'from(bucket:\"%s\") |> range(start:-1h) |> filter(fn:(r) => r._measurement == \"%s\")'\n",
		influxURL, cfg.Output.InfluxDB.Bucket, p.Spec.Name)
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
	_ = sort.Strings
}
