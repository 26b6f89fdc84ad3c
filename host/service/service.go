// Package service assembles one running Tidemark from a config: GeoIP
// databases, the compiled pipelines, sinks, the Kafka runner, analyzers and
// the HTTP surface. `tidemark run` and `tidemark demo` both use it.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/console"
	"github.com/tidemark/tidemark/host/history"
	"github.com/tidemark/tidemark/host/pipeline"
	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/host/window"
	"github.com/tidemark/tidemark/registry"
)

// Options tune a service beyond its config.
type Options struct {
	Logger *slog.Logger
	// Stdout receives [output.stdout] line protocol and stdout alerts.
	Stdout io.Writer
	// HTTPReady is told the bound HTTP address (port 0 in tests).
	HTTPReady func(net.Addr)
	// OnWindow is called after each window is written (demo summary).
	OnWindow func(pipe string, w *sink.Window)
	// OnModuleEvent is called for every module load, reload, failure and
	// removal in the plugins dir.
	OnModuleEvent func(registry.Event)
	// OnAnalyzed is called after each analyzer call (demo summary, tests).
	OnAnalyzed func(instance string, windowStart int64, alerts []analyze.Alert, err error)
}

// Service is one running Tidemark.
type Service struct {
	Config   *config.Config
	Plan     *pipeline.Plan
	Runner   *pipeline.Runner
	Registry *prometheus.Registry
	opts     Options
	log      *slog.Logger
	sinks    []sink.Sink
	influx   *sink.Influx
	closers  []func() error

	// Analyzers and Modules are nil when the config has no [[analyzer]].
	Analyzers     *analyze.Analyzers
	Modules       *registry.Registry
	alertFeed     *alertFeed
	moduleReloads *prometheus.CounterVec

	mu           sync.Mutex
	windows      []WindowInfo // recent windows, for the console
	lastReload   map[string]time.Time
	history      history.Reader
	influxClient influxdb2.Client
}

// WindowInfo is a written window, as the console lists it.
type WindowInfo struct {
	Pipeline string    `json:"pipeline"`
	Start    time.Time `json:"start"`
	Points   int       `json:"points"`
}

// Check validates a config fully without connecting anywhere: the config
// itself, then compiling every expression and aggregate. GeoIP files are
// opened and checked. With allowMissingData, a GeoIP file that does not
// exist yet (data fetched at deploy time) is a warning, returned in
// warnings, and the expressions are still checked against what the config
// declares.
func Check(cfg *config.Config, allowMissingData bool) (plan *pipeline.Plan, warnings []string, err error) {
	var missing []string
	for _, f := range []struct{ key, path string }{{"geoip.country", cfg.GeoIP.Country}, {"geoip.city", cfg.GeoIP.City}, {"geoip.asn", cfg.GeoIP.ASN}} {
		if f.path == "" {
			continue
		}
		for _, one := range strings.Split(f.path, ",") {
			one = strings.TrimSpace(one)
			if _, err := os.Stat(one); errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, fmt.Sprintf("%s %q does not exist (run `make geoip` for the demo data)", f.key, one))
			}
		}
	}
	var geo geoDB
	if len(missing) > 0 && allowMissingData {
		warnings = missing
		geo = declaredGeoIP(cfg)
	} else if geo, err = openGeoIP(cfg); err != nil {
		return nil, warnings, err
	}
	if geo != nil {
		defer geo.Close()
	}
	plan, err = pipeline.Compile(cfg, geoEnv(geo))
	var errs config.Errors
	if err != nil && !errors.As(err, &errs) {
		return nil, warnings, err
	}
	aerrs, awarn := checkAnalyzers(cfg, plan, allowMissingData)
	warnings = append(warnings, awarn...)
	if err := cfg.Finish(append(errs, aerrs...)); err != nil {
		return nil, warnings, err
	}
	return plan, warnings, nil
}

// New builds a service: opens GeoIP, compiles, and connects the sinks
// (creating the InfluxDB database or checking the bucket). A bad config
// never starts half a pipeline: everything is checked before anything runs.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Service, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{Config: cfg, opts: opts, log: opts.Logger, Registry: prometheus.NewRegistry(), alertFeed: newAlertFeed(500)}
	s.moduleReloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_module_reloads_total", Help: "Analyzer module events (loaded, reloaded, failed, removed)."}, []string{"module", "event"})
	s.Registry.MustRegister(s.moduleReloads)
	geo, err := openGeoIP(cfg)
	if err != nil {
		return nil, err
	}
	if geo != nil {
		s.closers = append(s.closers, geo.Close)
	}
	plan, err := pipeline.Compile(cfg, geoEnv(geo))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Plan = plan
	if ix := cfg.Output.InfluxDB; ix != nil {
		in, err := sink.NewInflux(ctx, sink.InfluxConfig{
			URL: ix.URL, Token: ix.Token, Org: ix.Org, Bucket: ix.Bucket,
			Retention: cfg.Retention(), BatchSize: ix.BatchSize, Timeout: cfg.InfluxTimeout(),
			Logger: s.log,
			OnRetry: func(error) {
				if s.Runner != nil {
					s.Runner.SinkRetries.Add(1)
				}
			},
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("output.influxdb: %w", err)
		}
		s.influx = in
		s.sinks = append(s.sinks, in)
		// Reads (history for analyzers, the console's charts) use their own
		// client, so a slow chart query never holds up a window write.
		s.influxClient = influxdb2.NewClient(ix.URL, ix.Token)
		s.closers = append(s.closers, func() error { s.influxClient.Close(); return nil })
		s.history = history.NewInflux(s.influxClient, ix.Bucket, ix.Org)
	}
	if st := cfg.Output.Stdout; st != nil && st.Enabled {
		w := opts.Stdout
		if w == nil {
			w = io.Discard
		}
		s.sinks = append(s.sinks, sink.NewStdout(w))
	}
	if err := s.startAnalyzers(ctx); err != nil {
		s.Close()
		return nil, err
	}
	r, err := pipeline.NewRunner(pipeline.Options{
		Config: cfg, Plan: plan, Sinks: s.sinks, Logger: s.log,
		OnWindow: s.onWindow,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Runner = r
	s.Registry.MustRegister(pipeline.NewCollector(r), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s, nil
}

func (s *Service) onWindow(ctx context.Context, p *pipeline.Pipe, w *sink.Window, _ *window.Result) {
	s.mu.Lock()
	s.windows = append(s.windows, WindowInfo{Pipeline: p.Spec.Name, Start: w.Start, Points: len(w.Points)})
	if len(s.windows) > 200 {
		s.windows = s.windows[len(s.windows)-200:]
	}
	s.mu.Unlock()
	if s.opts.OnWindow != nil {
		s.opts.OnWindow(p.Spec.Name, w)
	}
	if s.Analyzers != nil {
		s.Analyzers.OnWindow(ctx, p.Spec.Name, w)
	}
}

// RecentWindows lists the last written windows, newest last.
func (s *Service) RecentWindows() []WindowInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WindowInfo(nil), s.windows...)
}

// Run consumes until ctx is done, serving HTTP alongside.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	if s.Config.HTTP.Listen != "off" {
		h := console.Handler(console.Options{
			Registry: s.Registry,
			Logger:   s.log,
			Checks: []console.Check{
				{Name: "kafka", Ready: func(context.Context) error {
					if !s.Runner.Ready() {
						return errors.New("not consuming yet")
					}
					return nil
				}},
				{Name: "influxdb", Ready: s.influxReady},
			},
			Routes:  s.routes(),
			Backend: &backend{s: s, started: time.Now()},
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := console.Serve(ctx, s.Config.HTTP.Listen, h, s.log, s.opts.HTTPReady); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	if s.Modules != nil && (s.Config.Plugins.Watch == nil || *s.Config.Plugins.Watch) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Modules.Watch(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("plugins watch stopped; hot reload is off", "err", err)
			}
		}()
	}
	err := s.Runner.Run(ctx)
	cancel()
	wg.Wait()
	if s.Analyzers != nil {
		// Analyze what was already written, then save state.
		if aerr := s.Analyzers.Close(context.Background()); aerr != nil {
			s.log.Error("analyzers", "err", aerr)
		}
	}
	if err != nil {
		return err
	}
	select {
	case err := <-errc:
		return err
	default:
	}
	return nil
}

func (s *Service) influxReady(ctx context.Context) error {
	if s.Config.Output.InfluxDB == nil {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Config.Output.InfluxDB.URL+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unreachable: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("ping: %s", resp.Status)
	}
	return nil
}

// Close releases sinks and GeoIP databases.
func (s *Service) Close() error {
	var errs []error
	for _, k := range s.sinks {
		errs = append(errs, k.Close())
	}
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}
