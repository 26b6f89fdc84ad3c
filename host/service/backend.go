package service

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/console"
	"github.com/tidemark/tidemark/host/history"
	"github.com/tidemark/tidemark/registry"
)

// backend serves the console from the running service.
type backend struct {
	s       *Service
	started time.Time

	mu       sync.Mutex
	lastAt   time.Time
	lastIn   map[string]uint64
	lastRate map[string]float64
}

var _ console.Backend = (*backend)(nil)

func (b *backend) Overview(ctx context.Context) console.Overview {
	s := b.s
	e := s.Runner.Engine()
	now := time.Now()
	b.mu.Lock()
	dt := now.Sub(b.lastAt).Seconds()
	if b.lastIn == nil {
		b.lastIn, b.lastRate = map[string]uint64{}, map[string]float64{}
	}
	update := dt >= 1
	if update {
		b.lastAt = now
	}
	out := console.Overview{Started: b.started, Health: map[string]string{}}
	for _, p := range e.Pipes() {
		in := p.In.Load()
		if update {
			if prev, ok := b.lastIn[p.Spec.Name]; ok && dt < 60 {
				b.lastRate[p.Spec.Name] = float64(in-prev) / dt
			}
			b.lastIn[p.Spec.Name] = in
		}
		st := console.PipelineStatus{
			Name: p.Spec.Name, GroupBy: p.Spec.Window.GroupNames, Window: p.Spec.Window.Size.String(),
			RecordsPerSec: b.lastRate[p.Spec.Name],
			Aggregated:    p.Aggregated.Load(), Filtered: p.Filtered.Load(), Late: p.Late.Load(), Errors: p.Failed.Load(),
			Malformed: e.Malformed.Total(), DeadLettered: s.Runner.DeadLettered.Load(),
			WindowsWritten: p.WindowsWritten.Load(), PointsWritten: p.PointsWritten.Load(),
			OpenWindows: uint64(p.Win.Open()), Overflowed: p.Win.Overflowed(),
		}
		for _, a := range p.Spec.Window.Aggs {
			st.Fields = append(st.Fields, a.Name)
		}
		st.LastWindow = s.lastWindow(p.Spec.Name)
		out.Pipelines = append(out.Pipelines, st)
	}
	b.mu.Unlock()
	if s.Runner.Ready() {
		out.Health["kafka"] = "ok"
	} else {
		out.Health["kafka"] = "not consuming yet"
	}
	if err := s.influxReady(ctx); err != nil {
		out.Health["influxdb"] = err.Error()
	} else {
		out.Health["influxdb"] = "ok"
	}
	return out
}

// lastWindow is the start of the newest window written by a pipeline.
func (s *Service) lastWindow(pipeline string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.windows) - 1; i >= 0; i-- {
		if s.windows[i].Pipeline == pipeline {
			return s.windows[i].Start
		}
	}
	return time.Time{}
}

func (b *backend) Series(ctx context.Context, q console.SeriesQuery) ([]console.Series, error) {
	s := b.s
	if s.history == nil {
		return nil, errors.New("no InfluxDB output configured")
	}
	var tags []string
	found := false
	for _, p := range s.Plan.Pipes {
		if p.Name == q.Pipeline {
			found = true
			tags = p.Window.GroupNames
			ok := false
			for _, a := range p.Window.Aggs {
				ok = ok || a.Name == q.Field
			}
			if !ok {
				return nil, fmt.Errorf("pipeline %q writes no field %q: %w", q.Pipeline, q.Field, console.ErrNotFound)
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("no pipeline %q: %w", q.Pipeline, console.ErrNotFound)
	}
	frames, err := s.history.Query(ctx, history.Request{Measurement: q.Pipeline, Fields: []string{q.Field}, TagNames: tags, Start: q.From, Stop: q.To})
	if err != nil {
		return nil, err
	}
	type acc struct {
		tags  []string
		total float64
		times []int64
		vals  []float64
	}
	by := map[string]*acc{}
	for _, f := range frames {
		for i, ser := range f.Series {
			v := f.Values[0][i]
			if math.IsNaN(v) {
				continue
			}
			k := seriesKeyOf(ser)
			a := by[k]
			if a == nil {
				a = &acc{tags: ser}
				by[k] = a
			}
			a.total += v
			a.times = append(a.times, f.Start.UnixMilli())
			a.vals = append(a.vals, v)
		}
	}
	list := make([]*acc, 0, len(by))
	for _, a := range by {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].total > list[j].total })
	top := q.Top
	if top <= 0 {
		top = 10
	}
	if len(list) > top {
		list = list[:top]
	}
	out := make([]console.Series, len(list))
	for i, a := range list {
		m := map[string]string{}
		for j, n := range tags {
			if j < len(a.tags) {
				m[n] = a.tags[j]
			}
		}
		out[i] = console.Series{Tags: m, Times: a.times, Values: a.vals}
	}
	return out, nil
}

func seriesKeyOf(tags []string) string {
	k := ""
	for _, t := range tags {
		k += t + "\x00"
	}
	return k
}

func toConsoleAlert(a analyze.Alert) console.Alert {
	f := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	sev := a.Severity
	if a.State == "resolved" {
		sev = "ok"
	}
	return console.Alert{
		ID: a.ID, Instance: a.Instance, Module: a.Module, Pipeline: a.Pipeline, Severity: sev, Kind: a.Kind,
		Series: a.Series, Field: a.Field, Observed: f(a.Observed), Expected: f(a.Expected), Lower: f(a.Lower), Upper: f(a.Upper),
		Window: a.WindowStart, Message: a.Message, At: a.At,
	}
}

func (b *backend) Alerts(f console.AlertFilter) []console.Alert {
	list := b.s.alertFeed.recent()
	var out []console.Alert
	for i := len(list) - 1; i >= 0; i-- {
		a := toConsoleAlert(list[i])
		if f.Instance != "" && a.Instance != f.Instance {
			continue
		}
		if f.Severity != "" && a.Severity != f.Severity {
			continue
		}
		out = append(out, a)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	return out
}

func (b *backend) Subscribe() (<-chan console.Alert, func()) {
	in, cancel := b.s.alertFeed.subscribe()
	out := make(chan console.Alert, 64)
	done := make(chan struct{})
	go func() {
		defer close(out)
		for {
			select {
			case a := <-in:
				select {
				case out <- toConsoleAlert(a):
				default:
				}
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return out, func() { once.Do(func() { cancel(); close(done) }) }
}

func (b *backend) Analyzers() []console.Analyzer {
	s := b.s
	if s.Analyzers == nil {
		return nil
	}
	versions := map[string]registry.ModuleInfo{}
	for _, m := range s.Modules.Modules() {
		versions[m.Name] = m
	}
	var out []console.Analyzer
	for _, inst := range s.Analyzers.Instances() {
		st := inst.Handle().Stats()
		mi := versions[inst.Module()]
		state := "ok"
		switch {
		case st.Parked:
			state = "parked"
		case st.Consecutive > 0:
			state = "backoff"
		case mi.State == registry.StateFailed:
			state = "failed"
		}
		a := console.Analyzer{
			Name: inst.Name(), Module: inst.Module(), Version: mi.Version, Hash: inst.Handle().ModuleHash(),
			Pipeline: inst.Pipeline(), State: state, Calls: st.Calls, Failures: st.Failures, LastError: inst.LastError(),
		}
		if mi.Err != "" && a.LastError == "" {
			a.LastError = mi.Err
		}
		b.s.mu.Lock()
		a.LastReload = b.s.lastReload[inst.Module()]
		b.s.mu.Unlock()
		out = append(out, a)
	}
	return out
}

func (b *backend) Reload(ctx context.Context, module string) error {
	if b.s.Modules == nil {
		return fmt.Errorf("no analyzers configured: %w", console.ErrNotFound)
	}
	err := b.s.Modules.ReloadModule(ctx, module)
	if errors.Is(err, registry.ErrUnknownModule) {
		return fmt.Errorf("%v: %w", err, console.ErrNotFound)
	}
	return err
}
