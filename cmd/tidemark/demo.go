package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/gen"
	"github.com/tidemark/tidemark/host/influxd"
	"github.com/tidemark/tidemark/host/service"
	"github.com/tidemark/tidemark/host/sink"
)

func init() {
	register(command{name: "demo", summary: "the embedded demo: kfake, local influxd, generated traffic with anomalies, analyzers, live view and summary", run: runDemo})
}

// demoOptions configure one demo run (the flags of `tidemark demo`).
type demoOptions struct {
	Config  string // config file; input.brokers, output.influxdb.url and plugins.state_dir are replaced
	Influxd string // influxd binary ("" = influxd.FindBinary)
	DataDir string // influxd data and analyzer state go here (emptied at start)
	Source  string // "gen" (generator → UDP → collector → Kafka) or "sample" (sample lines → Kafka)

	// gen
	Scenario string        // scenario TOML ([[anomaly]] tables)
	Seed     uint64        // generator seed
	Speed    float64       // simulated seconds per wall second (0 = as fast as possible)
	Rate     float64       // flow samples per simulated second (gen), lines per second (sample)
	Sim      time.Duration // simulated length (0 = the last anomaly's end + demoTail)
	Start    time.Time     // simulated start (zero: the scenario ends about when the demo does)

	// sample
	Sample string // sflowtool lines, fed in a loop with the wall clock as event time

	Duration time.Duration // wall-clock bound of the feed (0 = none; the sample source needs one or Ctrl-C)
	Keep     bool          // keep serving the console after the summary until ctx ends
	Env      []string      // extra TIDEMARK_* overrides of the config

	Stdout, Stderr io.Writer // summary, live view
	TTY            bool      // Stderr is a terminal: redraw the status line, use colour
	HTTPReady      func(net.Addr)
	OnAlert        func(analyze.Alert) // each alert as it is published (tests)
}

// demoGenRate is the generator's flow samples per simulated second: the
// analyzer thresholds in configs/demo.toml are set for it.
const demoGenRate = 300

// demoTail is simulated time after the last anomaly: the analyzers see
// traffic return to normal (and must stay quiet).
const demoTail = 3 * time.Minute

func runDemo(ctx context.Context, args []string) error {
	o := demoOptions{Stdout: os.Stdout, Stderr: os.Stderr, TTY: isTTY(os.Stderr)}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&o.Config, "c", "configs/demo.toml", "config file (input.brokers, output.influxdb.url and plugins.state_dir are replaced)")
	fs.StringVar(&o.Influxd, "influxd", "", "influxd binary (default: $TIDEMARK_INFLUXD or bin/influxd)")
	fs.StringVar(&o.DataDir, "data", "var/demo", "directory for influxd's data and the analyzer state (both emptied at start)")
	fs.StringVar(&o.Source, "source", "gen", "gen: generated sFlow with anomalies over UDP through the collector; sample: the sample lines in a loop")
	fs.StringVar(&o.Scenario, "scenario", "configs/samples/demo-scenario.toml", "gen: anomaly scenario")
	fs.Uint64Var(&o.Seed, "seed", 1, "gen: random seed (same seed, same traffic)")
	fs.Float64Var(&o.Speed, "speed", 15, "gen: simulated seconds per wall second (0: as fast as possible)")
	fs.DurationVar(&o.Sim, "sim", 0, "gen: simulated time to generate (default: the scenario's last anomaly + 3m)")
	rate := fs.Float64("rate", 0, "flow samples per simulated second (gen, default 300: the analyzer thresholds of configs/demo.toml assume it) or lines per second (sample, default 2000)")
	fs.StringVar(&o.Sample, "sample", "configs/samples/sflow-sample.txt", "sample: sflowtool lines to feed, in a loop")
	fs.DurationVar(&o.Duration, "duration", 0, "wall-clock bound: stop feeding after this (0: gen runs its scenario to the end; sample feeds 40s)")
	fs.BoolVar(&o.Keep, "keep", false, "after the summary, keep serving the console until Ctrl-C")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.Rate = *rate
	if o.Source == "sample" && o.Duration == 0 {
		o.Duration = 40 * time.Second
	}
	_, err := demo(ctx, o)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintf(o.Stderr, "tidemark demo: interrupted (%v)\n", err)
		return nil // Ctrl-C during start-up: everything started is stopped
	}
	return err
}

// demoRun is one demo's running parts and what it observed.
type demoRun struct {
	o   demoOptions
	cfg *config.Config
	svc *service.Service
	src *genSource // nil for the sample source
	// scheduled are the anomalies as planned (the generator's own list
	// is only read once it has finished).
	scheduled []gen.Injection
	view      *demoView
	started   time.Time

	mu       sync.Mutex
	windows  map[string]int // written per pipeline
	analyzed map[string]int // calls per instance
	alerts   []analyze.Alert
	callErrs map[string]int
}

// demo runs the demo and returns its summary (also printed to o.Stdout).
// It returns when the scenario (or o.Duration) is over and the summary is
// out, or, with o.Keep, when ctx ends; Ctrl-C (ctx) stops everything.
func demo(ctx context.Context, o demoOptions) (*demoSummary, error) {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	say := func(format string, a ...any) { fmt.Fprintf(o.Stderr, "tidemark demo: "+format+"\n", a...) }
	env := append(os.Environ(), o.Env...)
	if o.Rate <= 0 {
		o.Rate = map[string]float64{"gen": demoGenRate, "sample": 2000}[o.Source]
	}

	// Everything that can be checked is checked before anything starts.
	cfg0, err := config.Load(o.Config, append(env, "TIDEMARK_INPUT_BROKERS=127.0.0.1:1"))
	if err != nil {
		return nil, fmt.Errorf("%s is not valid:\n%w", o.Config, err)
	}
	topic := cfg0.Topics()[0]
	var (
		scenario *gen.Scenario
		sample   [][]byte
	)
	switch o.Source {
	case "gen":
		if scenario, err = gen.LoadScenario(o.Scenario); err != nil {
			return nil, err
		}
		if len(cfg0.Topics()) != 1 {
			return nil, fmt.Errorf("%s: the demo feeds one topic, the config reads %v", o.Config, cfg0.Topics())
		}
	case "sample":
		if sample, err = readSample(o.Sample); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("source %q: want gen or sample", o.Source)
	}
	if len(cfg0.Analyzer) > 0 {
		if err := checkPlugins(cfg0); err != nil {
			return nil, err
		}
	}
	bin := o.Influxd
	if bin == "" {
		if bin, err = influxd.FindBinary(); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("influxd: %w (run `make influxd`)", err)
	}
	if bin, err = filepath.Abs(bin); err != nil { // influxd runs in its data dir
		return nil, err
	}

	// One partition per topic: records then reach the pipelines in the
	// order they were produced, so event time only goes forward and no
	// partition's records run late behind another's.
	topics := []string{topic, rawTopic(topic), cfg0.Alerts.Topic, cfg0.Input.DeadLetterTopic}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, nonEmpty(topics)...))
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	say("embedded Kafka (kfake) on %s", strings.Join(brokers, ","))

	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	influxDir, stateDir := filepath.Join(dataDir, "influxd"), filepath.Join(dataDir, "state")
	// A demo starts from nothing: no points, no analyzer state of an
	// earlier run (the plugin cache stays, it only saves compile time).
	for _, d := range []string{influxDir, stateDir} {
		if err := os.RemoveAll(d); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(filepath.Join(dataDir, "influxd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	srv, err := influxd.Start(ctx, influxd.Options{Binary: bin, DataDir: influxDir, Log: logf})
	if err != nil {
		return nil, fmt.Errorf("start influxd: %w", err)
	}
	defer srv.Stop()
	say("influxd 1.8 on %s (data in %s, log in %s)", srv.URL(), influxDir, logf.Name())

	env = append(env, "TIDEMARK_INPUT_BROKERS="+strings.Join(brokers, ","), "TIDEMARK_OUTPUT_INFLUXDB_URL="+srv.URL(),
		"TIDEMARK_PLUGINS_STATE_DIR="+stateDir)
	if cfg0.Plugins.CacheDir == "" {
		// Compiled modules are keyed by content hash: one cache serves
		// every demo run, whatever its data dir.
		env = append(env, "TIDEMARK_PLUGINS_CACHE_DIR="+pluginCacheDir(dataDir))
	}
	cfg, err := config.Load(o.Config, env)
	if err != nil {
		return nil, err
	}
	r := &demoRun{o: o, cfg: cfg, started: time.Now(), windows: map[string]int{}, analyzed: map[string]int{}, callErrs: map[string]int{}}
	r.view = newDemoView(o.Stderr, o.TTY)
	log := newLogger(o.Stderr, config.Log{Level: "warn", Format: "text"})
	httpAddr := make(chan net.Addr, 1)
	svc, err := service.New(ctx, cfg, service.Options{
		Logger: log, Stdout: io.Discard,
		OnWindow:   r.onWindow,
		OnAnalyzed: r.onAnalyzed,
		HTTPReady: func(a net.Addr) {
			httpAddr <- a
			if o.HTTPReady != nil {
				o.HTTPReady(a)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	r.svc = svc
	for _, a := range cfg.Analyzer {
		say("analyzer %s: %s on %s", a.Name, a.Module, a.Pipeline)
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- svc.Run(runCtx) }()
	if cfg.HTTP.Listen != "off" {
		select {
		case a := <-httpAddr:
			say("console on http://%s/ (metrics on /metrics)", a)
		case err := <-runErr:
			return nil, err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	// The sources run until srcCtx ends; the feed itself until feedCtx does.
	srcCtx, stopSrc := context.WithCancel(context.WithoutCancel(ctx))
	var srcWG sync.WaitGroup
	defer srcWG.Wait()
	defer stopSrc()
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	if o.Duration > 0 {
		feedCtx, stopFeed = context.WithTimeout(ctx, o.Duration)
		defer stopFeed()
	}
	feedDone := make(chan struct{})
	var feedErr error
	var injections func() []gen.Injection
	simStart, simLen := time.Time{}, time.Duration(0)
	switch o.Source {
	case "gen":
		simLen = o.Sim
		if simLen <= 0 {
			simLen = scenarioEnd(scenario) + demoTail
		}
		simStart = o.Start
		if simStart.IsZero() {
			// End the simulated time about when the demo ends, so the
			// console's "last 15 minutes" show the anomalies.
			wall := time.Duration(0)
			if o.Speed > 0 {
				wall = time.Duration(float64(simLen) / o.Speed)
			}
			simStart = time.Now().Add(wall - simLen).UTC().Truncate(time.Minute)
		}
		gcfg := gen.Config{Seed: o.Seed, Start: simStart, Duration: simLen, Speed: o.Speed, Rate: o.Rate,
			DiurnalAmplitude: -1, Scenario: scenario}
		src, err := newGenSource(gcfg, brokers, topic, log)
		if err != nil {
			return nil, err
		}
		r.src = src
		r.scheduled = src.g.Injections()
		injections = src.g.Injections
		src.start(srcCtx, feedCtx, &srcWG)
		go func() {
			<-src.done
			feedErr = src.err
			close(feedDone)
		}()
		say("gen → udp %s → collect → kafka: %s simulated from %s at %s, %g samples/s, seed %d",
			src.col.Addr(), simLen, simStart.Format("15:04:05"), speedText(o.Speed), o.Rate, o.Seed)
		for _, in := range src.g.Injections() {
			say("scheduled: %s from %s to %s", in.Anomaly, in.From.Format("15:04:05"), in.To.Format("15:04:05"))
		}
	case "sample":
		var fed atomic.Int64
		srcWG.Add(1)
		go func() {
			defer srcWG.Done()
			defer close(feedDone)
			feedErr = feed(feedCtx, brokers, topic, sample, int(o.Rate), &fed)
			if errors.Is(feedErr, context.DeadlineExceeded) || errors.Is(feedErr, context.Canceled) {
				feedErr = nil
			}
		}()
		say("feeding %d sample lines in a loop at %g lines/s for %v (Ctrl-C to stop)", len(sample), o.Rate, o.Duration)
	}
	viewCtx, stopView := context.WithCancel(ctx)
	viewDone := make(chan struct{})
	go func() {
		defer close(viewDone)
		r.view.run(viewCtx, r.status)
	}()
	endView := func() {
		stopView()
		<-viewDone
	}
	defer endView()

	interrupted, fed := false, false
	select {
	case <-feedDone:
		fed = true // feedErr is set before feedDone closes
	case err := <-runErr:
		return nil, err
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		interrupted = true
	}
	if fed && feedErr != nil && !interrupted {
		return nil, fmt.Errorf("feed: %w", feedErr)
	}
	if !interrupted {
		if err := r.drain(ctx); err != nil && ctx.Err() == nil {
			say("%v", err)
		}
		interrupted = ctx.Err() != nil
	}
	endView()
	var inj []gen.Injection
	if injections != nil {
		<-r.src.done
		inj = injections()
	}
	sum := r.summary(inj, simStart, simLen, interrupted)
	sum.InfluxURL, sum.Brokers = srv.URL(), brokers
	sum.print(o.Stdout, r, srv.URL(), influxDir)
	if o.Keep && !interrupted {
		say("still serving the console (--keep); Ctrl-C to stop")
		select {
		case <-ctx.Done():
		case err := <-runErr:
			return sum, err
		}
	}
	stopSrc()
	srcWG.Wait()
	stopRun()
	if err := <-runErr; err != nil {
		return sum, err
	}
	return sum, nil
}

func nonEmpty(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func speedText(speed float64) string {
	if speed <= 0 {
		return "full speed"
	}
	return fmt.Sprintf("%g× real time", speed)
}

// pluginCacheDir is where compiled analyzer modules are cached.
func pluginCacheDir(dataDir string) string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "tidemark", "wazero")
	}
	return filepath.Join(dataDir, "plugin-cache")
}

// checkPlugins fails early, with the fix, when a configured module has
// not been built.
func checkPlugins(cfg *config.Config) error {
	var missing []string
	for _, a := range cfg.Analyzer {
		p := filepath.Join(cfg.Plugins.Dir, a.Module+".wasm")
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("analyzer modules not built: %s (run `make plugins`)", strings.Join(missing, ", "))
	}
	return nil
}

func (r *demoRun) onWindow(pipe string, _ *sink.Window) {
	r.mu.Lock()
	r.windows[pipe]++
	r.mu.Unlock()
}

func (r *demoRun) onAnalyzed(instance string, _ int64, alerts []analyze.Alert, err error) {
	r.mu.Lock()
	r.analyzed[instance]++
	if err != nil {
		r.callErrs[instance]++
	}
	r.alerts = append(r.alerts, alerts...)
	r.mu.Unlock()
	for _, a := range alerts {
		r.view.alert(a)
		if r.o.OnAlert != nil {
			r.o.OnAlert(a)
		}
	}
}

// analyzersDone reports whether every instance has analyzed every window
// of its pipeline written so far.
func (r *demoRun) analyzersDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.cfg.Analyzer {
		if r.analyzed[a.Name] < r.windows[a.Pipeline] {
			return false
		}
	}
	return true
}

// drain waits until everything fed has been read, every window written
// (the idle timeout closes the last ones) and analyzed.
func (r *demoRun) drain(ctx context.Context) error {
	const timeout = 60 * time.Second
	deadline := time.Now().Add(timeout)
	var fed int64 = -1
	if r.src != nil {
		if err := r.src.waitFlushed(ctx, 30*time.Second); err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		fed = r.src.relayed.Load()
	}
	for {
		if int64(r.svc.Runner.Records.Load()) >= fed && openWindows(r.svc) == 0 && r.analyzersDone() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drain: not done after %s (records read %d of %d, open windows %d)", timeout,
				r.svc.Runner.Records.Load(), fed, openWindows(r.svc))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// openWindows is the number of windows the pipelines hold in memory, from
// the service's metrics (the engine's own state belongs to its goroutine).
func openWindows(svc *service.Service) int {
	mfs, err := svc.Registry.Gather()
	if err != nil {
		return -1
	}
	n := 0.0
	for _, mf := range mfs {
		if strings.HasSuffix(mf.GetName(), "pipeline_open_windows") {
			for _, m := range mf.GetMetric() {
				n += m.GetGauge().GetValue()
			}
		}
	}
	return int(n)
}

// status is the live view's line.
func (r *demoRun) status() demoStatus {
	e := r.svc.Runner.Engine()
	st := demoStatus{Records: e.Lines.Load(), Late: 0, Wall: time.Since(r.started)}
	for _, p := range e.Pipes() {
		st.Windows += p.WindowsWritten.Load()
		st.Late += p.Late.Load()
	}
	r.mu.Lock()
	for _, a := range r.alerts {
		if a.State == "firing" {
			st.Alerts++
		}
	}
	r.mu.Unlock()
	if r.src != nil {
		st.Sim = r.src.clock.current()
		for _, in := range r.scheduled {
			if !st.Sim.IsZero() && !st.Sim.Before(in.From) && st.Sim.Before(in.To) {
				st.Active = append(st.Active, in.Kind)
			}
		}
	}
	return st
}
