package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/history"
	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/registry"
)

// Pipeline is what the analyzers need to know of a pipeline.
type Pipeline struct {
	Name       string
	Size       time.Duration
	TagNames   []string
	FieldNames []string
}

// Options configure the analyzers of one service.
type Options struct {
	Config    *config.Config
	Pipelines []Pipeline
	Registry  *registry.Registry
	History   history.Reader
	// RawQuery runs a Flux query for instances granted "query".
	RawQuery  func(ctx context.Context, flux string) (string, error)
	Publisher Publisher
	Logger    *slog.Logger
	// StateDir keeps instance state and alert conditions across restarts
	// ("" = memory only).
	StateDir string
	// QueueLen is how many windows may wait per instance before the
	// pipeline blocks (backpressure, never a drop). Default 16.
	QueueLen int
	// HistoryRetries is how often a failed history query is retried before
	// the call goes ahead with the history marked incomplete. Default 3.
	HistoryRetries int
	// OnAnalyzed is called after each call (tests, the console).
	OnAnalyzed func(instance string, windowStart int64, alerts []Alert, err error)
}

// Analyzers runs every configured [[analyzer]] instance.
type Analyzers struct {
	opts      Options
	log       *slog.Logger
	pipes     map[string]Pipeline
	metrics   *Metrics
	closeOnce sync.Once

	// mu guards the instance set, which a SIGHUP reload changes while
	// windows keep arriving.
	mu         sync.RWMutex
	instances  []*Instance
	byPipeline map[string][]*Instance
	specs      map[string]string // instance name → its config, to see what changed
}

// New binds every instance. Errors name the analyzer block.
func New(ctx context.Context, o Options) (*Analyzers, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.QueueLen == 0 {
		o.QueueLen = 16
	}
	if o.HistoryRetries == 0 {
		o.HistoryRetries = 3
	}
	if o.Publisher == nil {
		o.Publisher = Publishers{}
	}
	a := &Analyzers{opts: o, log: o.Logger, byPipeline: map[string][]*Instance{}, metrics: newMetrics(), pipes: map[string]Pipeline{}, specs: map[string]string{}}
	for _, p := range o.Pipelines {
		a.pipes[p.Name] = p
	}
	var errs []error
	var started []*Instance
	for i := range o.Config.Analyzer {
		inst, err := a.bind(ctx, o.Config, i, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		started = append(started, inst)
	}
	if len(errs) > 0 {
		for _, inst := range started {
			_ = inst.handle.Close(ctx)
		}
		return nil, errors.Join(errs...)
	}
	for _, inst := range started {
		a.add(ctx, inst)
	}
	return a, nil
}

// bind creates (but does not start) the instance of cfg.Analyzer[i]. A
// previous instance of the same name hands over its host-kept state.
func (a *Analyzers) bind(ctx context.Context, cfg *config.Config, i int, prev *Instance) (*Instance, error) {
	o := a.opts
	ac := cfg.Analyzer[i]
	at := fmt.Sprintf("analyzer[%d]", i)
	p, ok := a.pipes[ac.Pipeline]
	if !ok {
		return nil, fmt.Errorf("%s.pipeline: no pipeline %q", at, ac.Pipeline)
	}
	var mi registry.ModuleInfo
	found := false
	for _, m := range o.Registry.Modules() {
		if m.Running && m.Name == ac.Module {
			mi, found = m, true
		}
	}
	if !found {
		return nil, fmt.Errorf("%s.module: no loaded module %q in %s (%s)", at, ac.Module, cfg.Plugins.Dir, moduleHint(o.Registry, ac.Module))
	}
	opts, err := resolveOptions(mi.Path, ac.Options)
	if err != nil {
		return nil, fmt.Errorf("%s.options: %w", at, err)
	}
	inst := &Instance{
		a: a, name: ac.Name, module: ac.Module, version: mi.Version, pipe: p,
		hist: cfg.History(i), store: newStore(), tracker: NewTracker(cfg.Renotify()),
		queue: make(chan job, o.QueueLen), done: make(chan struct{}),
	}
	if inst.fields, err = selectFields(p, ac.Fields); err != nil {
		return nil, fmt.Errorf("%s.fields: %w", at, err)
	}
	switch {
	case prev != nil:
		inst.store, inst.tracker = prev.store, prev.tracker
	case o.StateDir != "":
		if err := loadSnapshot(o.StateDir, inst.name, inst.store, inst.tracker); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
	}
	h, err := o.Registry.Bind(ctx, registry.InstanceSpec{
		Name: ac.Name, Module: ac.Module, Options: opts, Capabilities: ac.Capabilities, Host: &hostFuncs{inst: inst},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	inst.handle = h
	inst.spec = specOf(cfg, i)
	return inst, nil
}

// specOf is an analyzer block's config as text, to compare on reload.
func specOf(cfg *config.Config, i int) string {
	b, _ := json.Marshal(struct {
		A config.Analyzer
		H config.HistorySpec
	}{cfg.Analyzer[i], cfg.History(i)})
	return string(b)
}

func (a *Analyzers) add(ctx context.Context, inst *Instance) {
	a.mu.Lock()
	a.instances = append(a.instances, inst)
	a.byPipeline[inst.pipe.Name] = append(a.byPipeline[inst.pipe.Name], inst)
	a.specs[inst.name] = inst.spec
	a.mu.Unlock()
	go inst.loop(ctx)
}

// stop removes an instance: it finishes the windows already queued for it,
// then its module instance is closed. Its state stays with the caller.
func (a *Analyzers) stop(ctx context.Context, inst *Instance) {
	a.mu.Lock()
	a.instances = slices.DeleteFunc(a.instances, func(x *Instance) bool { return x == inst })
	a.byPipeline[inst.pipe.Name] = slices.DeleteFunc(a.byPipeline[inst.pipe.Name], func(x *Instance) bool { return x == inst })
	delete(a.specs, inst.name)
	a.mu.Unlock()
	close(inst.queue)
	<-inst.done
	_ = inst.handle.Close(ctx)
}

// replace swaps old for inst between windows: windows already queued for
// old are analysed by old, every later one by inst, none twice or skipped.
func (a *Analyzers) replace(ctx context.Context, old, inst *Instance) {
	a.mu.Lock()
	for i, x := range a.instances {
		if x == old {
			a.instances[i] = inst
		}
	}
	a.byPipeline[old.pipe.Name] = slices.DeleteFunc(a.byPipeline[old.pipe.Name], func(x *Instance) bool { return x == old })
	a.byPipeline[inst.pipe.Name] = append(a.byPipeline[inst.pipe.Name], inst)
	a.specs[inst.name] = inst.spec
	a.mu.Unlock()
	close(old.queue)
	<-old.done
	_ = old.handle.Close(ctx)
	// Only now does the new instance start: the state it shares with the
	// old one is no longer touched by it.
	go inst.loop(ctx)
}

// Reload applies the [[analyzer]] blocks of cfg (SIGHUP): new instances
// start, removed ones stop after their queued windows, changed ones are
// replaced keeping their host-kept state. Instances that fail to bind are
// reported and the old ones (if any) keep running.
func (a *Analyzers) Reload(ctx context.Context, cfg *config.Config) (started, stopped, replaced []string, err error) {
	a.mu.RLock()
	current := map[string]*Instance{}
	for _, inst := range a.instances {
		current[inst.name] = inst
	}
	specs := maps.Clone(a.specs)
	a.mu.RUnlock()
	var errs []error
	want := map[string]bool{}
	for i, ac := range cfg.Analyzer {
		want[ac.Name] = true
		old := current[ac.Name]
		if old != nil && specs[ac.Name] == specOf(cfg, i) {
			continue
		}
		inst, err := a.bind(ctx, cfg, i, old)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if old == nil {
			a.add(ctx, inst)
			started = append(started, ac.Name)
			continue
		}
		a.replace(ctx, old, inst)
		replaced = append(replaced, ac.Name)
	}
	for name, inst := range current {
		if !want[name] {
			a.stop(ctx, inst)
			if a.opts.StateDir != "" {
				if err := saveSnapshot(a.opts.StateDir, inst.name, inst.store, inst.tracker); err != nil {
					errs = append(errs, err)
				}
			}
			stopped = append(stopped, name)
		}
	}
	return started, stopped, replaced, errors.Join(errs...)
}

func moduleHint(r *registry.Registry, name string) string {
	for _, m := range r.Modules() {
		if m.Name == name && m.Err != "" {
			return "it failed to load: " + m.Err
		}
	}
	return "build it with `make plugins` or drop " + name + ".wasm there"
}

func resolveOptions(path string, opts map[string]any) ([]byte, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	man, err := abi.ReadManifest(wasm)
	if err != nil {
		if errors.Is(err, abi.ErrNoManifest) {
			return json.Marshal(opts)
		}
		return nil, err
	}
	return man.OptionsJSON(opts)
}

func selectFields(p Pipeline, want []string) ([]int, error) {
	if len(want) == 0 {
		out := make([]int, len(p.FieldNames))
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	var out []int
	for _, w := range want {
		found := -1
		for i, f := range p.FieldNames {
			if f == w {
				found = i
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("pipeline %q writes no field %q (it writes %v)", p.Name, w, p.FieldNames)
		}
		out = append(out, found)
	}
	return out, nil
}

// Instances lists the running instances.
func (a *Analyzers) Instances() []*Instance {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return slices.Clone(a.instances)
}

// Metrics returns the Prometheus collector of the analyzers.
func (a *Analyzers) Metrics() *Metrics { return a.metrics }

// OnWindow queues a written window for every instance of its pipeline. It
// blocks while an instance's queue is full: analyzers that fall behind slow
// the pipeline rather than lose windows.
func (a *Analyzers) OnWindow(ctx context.Context, pipeline string, w *sink.Window) {
	// The read lock is held across the sends, so a reload never closes a
	// queue that a window is being sent to.
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, inst := range a.byPipeline[pipeline] {
		select {
		case inst.queue <- job{w: w}:
		case <-ctx.Done():
			return
		}
	}
}

// Close drains the queues, saves every instance's state and stops them.
func (a *Analyzers) Close(ctx context.Context) error {
	var errs []error
	a.closeOnce.Do(func() {
		insts := a.Instances()
		for _, inst := range insts {
			close(inst.queue)
		}
		for _, inst := range insts {
			<-inst.done
		}
		for _, inst := range insts {
			if a.opts.StateDir != "" {
				if err := saveSnapshot(a.opts.StateDir, inst.name, inst.store, inst.tracker); err != nil {
					errs = append(errs, fmt.Errorf("analyzer %q: save state: %w", inst.name, err))
				}
			}
		}
		a.closeHandles(ctx)
	})
	return errors.Join(errs...)
}

func (a *Analyzers) closeHandles(ctx context.Context) {
	for _, inst := range a.Instances() {
		if inst.handle != nil {
			_ = inst.handle.Close(ctx)
		}
	}
}

type job struct {
	w *sink.Window
}

// Instance is one configured analyzer instance.
type Instance struct {
	a       *Analyzers
	name    string
	module  string
	version string
	pipe    Pipeline
	hist    config.HistorySpec
	fields  []int
	handle  *registry.Handle
	store   *store
	tracker *Tracker
	queue   chan job
	done    chan struct{} // closed when loop returns
	spec    string

	lastSave time.Time

	mu      sync.Mutex
	emitted []abi.Alert
	buf     []byte
	lastErr string
}

// Name is the instance name.
func (inst *Instance) Name() string { return inst.name }

// Module is the module name.
func (inst *Instance) Module() string { return inst.module }

// Pipeline is the pipeline it analyzes.
func (inst *Instance) Pipeline() string { return inst.pipe.Name }

// Handle is the registry binding (stats, module hash).
func (inst *Instance) Handle() *registry.Handle { return inst.handle }

// LastError is the last call's error text ("" after a good call).
func (inst *Instance) LastError() string {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.lastErr
}

func (inst *Instance) loop(ctx context.Context) {
	defer close(inst.done)
	for j := range inst.queue {
		inst.analyze(ctx, j.w)
	}
}

// analyze is one call: build the input, run the guest, publish alerts.
func (inst *Instance) analyze(ctx context.Context, w *sink.Window) {
	a := inst.a
	start := time.Now()
	in := inst.input(ctx, w)
	inst.buf = in.Encode(inst.buf[:0])
	inst.mu.Lock()
	inst.emitted = inst.emitted[:0]
	inst.mu.Unlock()
	err := inst.handle.Analyze(ctx, inst.buf)
	a.metrics.observe(inst.name, time.Since(start), err)
	inst.mu.Lock()
	emitted := append([]abi.Alert(nil), inst.emitted...)
	if err != nil {
		inst.lastErr = err.Error()
	} else {
		inst.lastErr = ""
	}
	inst.mu.Unlock()
	if err != nil {
		level := slog.LevelWarn
		if errors.Is(err, runtime.ErrBackoff) || errors.Is(err, runtime.ErrParked) {
			level = slog.LevelDebug
		}
		a.log.Log(ctx, level, "analyzer call failed", "instance", inst.name, "module", inst.module+"@"+inst.version, "hash", inst.handle.ModuleHash(), "window", w.Start, "err", err)
		if a.opts.OnAnalyzed != nil {
			a.opts.OnAnalyzed(inst.name, w.Start.UnixNano(), nil, err)
		}
		// A failed call reports nothing: conditions stay as they were.
		return
	}
	inst.version = inst.currentVersion()
	alerts := inst.alerts(w, in, emitted)
	for _, al := range alerts {
		a.metrics.alert(inst.name, al.Severity, al.State)
		if perr := a.opts.Publisher.Publish(ctx, al); perr != nil {
			a.log.Error("publish alert", "instance", inst.name, "id", al.ID, "err", perr)
			a.metrics.publishFailed()
		}
	}
	// Conditions are saved as soon as one changes (and every 10 s
	// otherwise), not only at shutdown: after a crash the replayed windows
	// must not fire what already fired.
	if a.opts.StateDir != "" && (len(alerts) > 0 || time.Since(inst.lastSave) > 10*time.Second) {
		if err := saveSnapshot(a.opts.StateDir, inst.name, inst.store, inst.tracker); err != nil {
			a.log.Error("save analyzer state", "instance", inst.name, "err", err)
		}
		inst.lastSave = time.Now()
	}
	if a.opts.OnAnalyzed != nil {
		a.opts.OnAnalyzed(inst.name, w.Start.UnixNano(), alerts, nil)
	}
}

// currentVersion is the version of the module serving the instance now
// (a hot reload may have changed it since the instance was bound).
func (inst *Instance) currentVersion() string {
	for _, m := range inst.a.opts.Registry.Modules() {
		if m.Name == inst.module && m.Running {
			return m.Version
		}
	}
	return inst.version
}

// input builds the columnar input: frame 0 is the window, then history.
func (inst *Instance) input(ctx context.Context, w *sink.Window) *abi.Input {
	p := inst.pipe
	start := w.Start.UnixNano()
	in := &abi.Input{
		WindowStart: start,
		WindowEnd:   start + int64(p.Size),
		Instance:    inst.name,
		Pipeline:    p.Name,
		TagNames:    p.TagNames,
		Series:      len(w.Points),
	}
	for _, f := range inst.fields {
		in.FieldNames = append(in.FieldNames, p.FieldNames[f])
	}
	dict := map[string]uint32{}
	series := make([][]string, len(w.Points))
	for s, pt := range w.Points {
		series[s] = pt.Tags
		for _, v := range pt.Tags {
			idx, ok := dict[v]
			if !ok {
				idx = uint32(len(in.Dict))
				dict[v] = idx
				in.Dict = append(in.Dict, v)
			}
			in.SeriesTags = append(in.SeriesTags, idx)
		}
	}
	cur := abi.Frame{Start: start, End: in.WindowEnd, Columns: make([][]float64, len(inst.fields))}
	for c, f := range inst.fields {
		col := make([]float64, len(w.Points))
		for s, pt := range w.Points {
			if pt.Present != nil && !pt.Present[f] {
				col[s] = math.NaN()
			} else {
				col[s] = pt.Values[f]
			}
		}
		cur.Columns[c] = col
	}
	in.Frames = append(in.Frames, cur)

	req, ok := inst.historyRequest(start, series, in.FieldNames)
	if !ok || inst.a.opts.History == nil {
		return in
	}
	if inst.hist.Offset > 0 {
		in.Flags |= abi.FlagHistoryOffset
	}
	var frames []history.Frame
	var err error
	for try := 0; try <= inst.a.opts.HistoryRetries; try++ {
		if try > 0 {
			select {
			case <-time.After(time.Duration(try) * 100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		frames, err = inst.a.opts.History.Query(qctx, req)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		inst.a.metrics.historyFailed(inst.name)
		inst.a.log.Warn("history query failed; analyzing with incomplete history", "instance", inst.name, "window", w.Start, "err", err)
		in.Flags |= abi.FlagHistoryIncomplete
		return in
	}
	// Newest first, as the ABI says.
	for i := len(frames) - 1; i >= 0; i-- {
		fr := frames[i]
		fs := fr.Start.UnixNano()
		in.Frames = append(in.Frames, abi.Frame{Start: fs, End: fs + int64(p.Size), Columns: fr.Values})
	}
	if inst.hist.Windows > 0 && len(frames) < inst.hist.Windows {
		// Fewer windows stored than declared (a young pipeline): say so.
		in.Flags |= abi.FlagHistoryIncomplete
	}
	return in
}

func (inst *Instance) historyRequest(start int64, series [][]string, fields []string) (history.Request, bool) {
	p := inst.pipe
	req := history.Request{Measurement: p.Name, Fields: fields, TagNames: p.TagNames, Series: series}
	switch {
	case inst.hist.Windows > 0:
		req.Start = time.Unix(0, start-int64(inst.hist.Windows)*int64(p.Size))
		req.Stop = time.Unix(0, start)
	case inst.hist.Offset > 0:
		at := start - int64(inst.hist.Offset)
		req.Start = time.Unix(0, at-int64(inst.hist.Accuracy))
		req.Stop = time.Unix(0, at+int64(inst.hist.Accuracy)+1)
	default:
		return req, false
	}
	if len(series) == 0 {
		return req, false
	}
	return req, true
}

// alerts turns what the guest reported into published alerts.
func (inst *Instance) alerts(w *sink.Window, in *abi.Input, emitted []abi.Alert) []Alert {
	now := time.Now().UTC()
	start := w.Start.UnixNano()
	if !inst.tracker.BeginWindow(start) {
		return nil
	}
	var out []Alert
	reported := map[conditionKey]bool{}
	for _, e := range emitted {
		var tags []string
		if e.Series != abi.NoIndex && int(e.Series) < len(w.Points) {
			tags = w.Points[e.Series].Tags
		}
		field := ""
		if e.Field != abi.NoIndex && int(e.Field) < len(in.FieldNames) {
			field = in.FieldNames[e.Field]
		}
		key := conditionKey{Series: seriesKey(in.TagNames, tags), Field: field, Kind: e.Kind.String()}
		al := inst.newAlert(w, in, tags, field, e, now)
		if e.Severity == abi.SeverityInfo {
			// Informational: published as is, no state.
			al.State = "firing"
			al.ID = AlertID(inst.name, key.Series, field, start, key.Kind, "info")
			out = append(out, al)
			continue
		}
		reported[key] = true
		tr, _ := inst.tracker.Report(key, uint8(e.Severity), start, now)
		switch tr {
		case Fire, Renotify:
			al.State = "firing"
		case Resolve:
			al.State = "resolved"
		default:
			continue
		}
		al.ID = AlertID(inst.name, key.Series, field, start, key.Kind, al.State)
		out = append(out, al)
	}
	for _, k := range inst.tracker.Sweep(reported) {
		tr, prev := inst.tracker.Report(k, 0, start, now)
		if tr != Resolve {
			continue
		}
		al := Alert{
			Instance: inst.name, Module: inst.module + "@" + inst.version, Pipeline: inst.pipe.Name,
			Kind: k.Kind, Severity: abi.Severity(prev).String(), State: "resolved",
			Series: parseSeriesKey(k.Series), Field: k.Field,
			WindowStart: w.Start, WindowEnd: w.Start.Add(inst.pipe.Size), At: now,
			Message: "condition cleared",
		}
		al.ID = AlertID(inst.name, k.Series, k.Field, start, k.Kind, "resolved")
		out = append(out, al)
	}
	return out
}

func (inst *Instance) newAlert(w *sink.Window, in *abi.Input, tags []string, field string, e abi.Alert, now time.Time) Alert {
	series := map[string]string{}
	for i, n := range in.TagNames {
		if i < len(tags) {
			series[n] = tags[i]
		}
	}
	al := Alert{
		Instance: inst.name, Module: inst.module + "@" + inst.version, Pipeline: inst.pipe.Name,
		Kind: e.Kind.String(), Severity: e.Severity.String(), Series: series, Field: field,
		Observed: finite(e.Observed), Expected: finite(e.Expected), Lower: finite(e.Lower), Upper: finite(e.Upper),
		WindowStart: w.Start, WindowEnd: w.Start.Add(inst.pipe.Size), Message: e.Message, At: now,
	}
	if e.Kind == abi.KindPrediction && e.Horizon > 0 {
		h := float64(e.Horizon) / 1e9
		al.HorizonSeconds = &h
	}
	return al
}

func parseSeriesKey(k string) map[string]string {
	out := map[string]string{}
	if k == "" {
		return out
	}
	for _, kv := range splitUnescaped(k) {
		if n, v, ok := cut(kv); ok {
			out[n] = v
		}
	}
	return out
}

func splitUnescaped(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// hostFuncs is the host side of one instance's imports.
type hostFuncs struct{ inst *Instance }

func (h *hostFuncs) EmitAlert(raw []byte) error {
	al, err := abi.DecodeAlert(raw)
	if err != nil {
		return err
	}
	h.inst.mu.Lock()
	defer h.inst.mu.Unlock()
	if len(h.inst.emitted) >= MaxAlertsPerCall {
		return fmt.Errorf("more than %d alerts in one call", MaxAlertsPerCall)
	}
	h.inst.emitted = append(h.inst.emitted, al)
	return nil
}

// MaxAlertsPerCall bounds what one analyze call may emit (ABI.md limits).
const MaxAlertsPerCall = abi.MaxAlertsPerCall

func (h *hostFuncs) Log(level int, msg string) {
	lvl := slog.LevelInfo
	switch {
	case level <= 0:
		lvl = slog.LevelDebug
	case level == 2:
		lvl = slog.LevelWarn
	case level >= 3:
		lvl = slog.LevelError
	}
	h.inst.a.log.Log(context.Background(), lvl, msg, "instance", h.inst.name, "module", h.inst.module)
}

func (h *hostFuncs) StateGet(key string) ([]byte, bool) { return h.inst.store.get(key) }

func (h *hostFuncs) StateSet(key string, val []byte) error { return h.inst.store.set(key, val) }

func (h *hostFuncs) Query(req []byte) ([]byte, error) {
	if h.inst.a.opts.RawQuery == nil {
		return nil, errors.New("no InfluxDB to query")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := h.inst.a.opts.RawQuery(ctx, string(req))
	return []byte(out), err
}

// StatePath is where an instance's snapshot lives.
func StatePath(dir, instance string) string { return filepath.Join(dir, instance+".json") }
