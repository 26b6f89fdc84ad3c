// Package memback is an in-memory console.Backend: the console's handler
// tests and its browser-test server (fakeserve) read from it. It stands in
// for the service only where the console alone is under test.
package memback

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tidemark/tidemark/host/console"
)

// Backend holds everything in memory; the zero value is not usable, use New.
type Backend struct {
	mu        sync.Mutex
	overview  console.Overview
	points    map[string][]Point // pipeline → points
	alerts    []console.Alert    // oldest first
	analyzers []console.Analyzer
	subs      map[int]chan console.Alert
	nextSub   int
	// ReloadErr, when set, is what Reload returns for that module.
	ReloadErr map[string]error
	// Reloads counts Reload calls per module.
	Reloads map[string]int
	// SeriesErr, when set, is returned by Series.
	SeriesErr error
	// Queries records the Series queries asked.
	Queries []console.SeriesQuery
}

// Point is one window's value of one field for one group key.
type Point struct {
	Tags  map[string]string
	Field string
	Time  time.Time
	Value float64
}

var _ console.Backend = (*Backend)(nil)

// New returns an empty Backend.
func New() *Backend {
	return &Backend{
		points:    map[string][]Point{},
		subs:      map[int]chan console.Alert{},
		ReloadErr: map[string]error{},
		Reloads:   map[string]int{},
	}
}

// SetOverview replaces what Overview returns.
func (b *Backend) SetOverview(ov console.Overview) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.overview = ov
}

// UpdatePipeline changes one pipeline's status in place.
func (b *Backend) UpdatePipeline(name string, f func(*console.PipelineStatus)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.overview.Pipelines {
		if b.overview.Pipelines[i].Name == name {
			f(&b.overview.Pipelines[i])
		}
	}
}

// AddPoints stores points of a pipeline.
func (b *Backend) AddPoints(pipeline string, pts ...Point) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.points[pipeline] = append(b.points[pipeline], pts...)
}

// SetAnalyzers replaces the analyzer list.
func (b *Backend) SetAnalyzers(list []console.Analyzer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.analyzers = slices.Clone(list)
}

// Raise records an alert and sends it to every subscriber. A subscriber
// that is not keeping up misses it, as a slow browser would.
func (b *Backend) Raise(a console.Alert) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.alerts = append(b.alerts, a)
	for _, c := range b.subs {
		select {
		case c <- a:
		default:
		}
	}
}

// Subscribers is the number of open subscriptions.
func (b *Backend) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Overview implements console.Backend.
func (b *Backend) Overview(context.Context) console.Overview {
	b.mu.Lock()
	defer b.mu.Unlock()
	ov := b.overview
	ov.Pipelines = slices.Clone(ov.Pipelines)
	return ov
}

// Series implements console.Backend: the points in [From, To) of the
// field, grouped by tags, the Top keys by total.
func (b *Backend) Series(_ context.Context, q console.SeriesQuery) ([]console.Series, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Queries = append(b.Queries, q)
	if b.SeriesErr != nil {
		return nil, b.SeriesErr
	}
	top := q.Top
	if top == 0 {
		top = 10
	}
	type acc struct {
		s     console.Series
		total float64
	}
	byKey := map[string]*acc{}
	var pts []Point
	for _, p := range b.points[q.Pipeline] {
		if p.Field == q.Field && !p.Time.Before(q.From) && p.Time.Before(q.To) {
			pts = append(pts, p)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Time.Before(pts[j].Time) })
	for _, p := range pts {
		k := fmt.Sprint(p.Tags)
		a := byKey[k]
		if a == nil {
			a = &acc{s: console.Series{Tags: p.Tags}}
			byKey[k] = a
		}
		a.s.Times = append(a.s.Times, p.Time.UnixMilli())
		a.s.Values = append(a.s.Values, p.Value)
		a.total += p.Value
	}
	all := make([]*acc, 0, len(byKey))
	for _, a := range byKey {
		all = append(all, a)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].total != all[j].total {
			return all[i].total > all[j].total
		}
		return fmt.Sprint(all[i].s.Tags) < fmt.Sprint(all[j].s.Tags)
	})
	out := []console.Series{}
	for i := 0; i < len(all) && i < top; i++ {
		out = append(out, all[i].s)
	}
	return out, nil
}

// Alerts implements console.Backend: newest first.
func (b *Backend) Alerts(f console.AlertFilter) []console.Alert {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []console.Alert
	for i := len(b.alerts) - 1; i >= 0; i-- {
		a := b.alerts[i]
		if (f.Instance != "" && a.Instance != f.Instance) || (f.Severity != "" && a.Severity != f.Severity) {
			continue
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		out = append(out, a)
	}
	return out
}

// Subscribe implements console.Backend.
func (b *Backend) Subscribe() (<-chan console.Alert, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextSub
	b.nextSub++
	c := make(chan console.Alert, 64)
	b.subs[id] = c
	var once sync.Once
	return c, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.subs, id)
		})
	}
}

// Analyzers implements console.Backend.
func (b *Backend) Analyzers() []console.Analyzer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.analyzers)
}

// Reload implements console.Backend: it counts the call and, unless
// ReloadErr says otherwise, stamps the module's instances as reloaded now.
func (b *Backend) Reload(_ context.Context, module string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Reloads[module]++
	if err := b.ReloadErr[module]; err != nil {
		return err
	}
	found := false
	for i := range b.analyzers {
		if b.analyzers[i].Module == module {
			b.analyzers[i].LastReload = time.Now()
			found = true
		}
	}
	if !found {
		return fmt.Errorf("module %q: %w", module, console.ErrNotFound)
	}
	return nil
}
