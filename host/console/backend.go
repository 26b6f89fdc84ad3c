package console

import (
	"context"
	"time"
)

// Backend is what the console reads. The service implements it; the
// console's handlers and pages depend on nothing else, so they can be
// tested against a small in-memory Backend.
type Backend interface {
	Overview(ctx context.Context) Overview
	// Series reads one aggregate field of a pipeline from InfluxDB over
	// [from, to), one series per group key, the top N keys by total.
	Series(ctx context.Context, q SeriesQuery) ([]Series, error)
	// Alerts lists recent alerts, newest first, filtered.
	Alerts(f AlertFilter) []Alert
	// Subscribe streams alerts as they are raised until cancel is called.
	Subscribe() (alerts <-chan Alert, cancel func())
	Analyzers() []Analyzer
	// Reload recompiles a module from its file now (as a file change would).
	Reload(ctx context.Context, module string) error
}

// Overview is the front page.
type Overview struct {
	Pipelines []PipelineStatus  `json:"pipelines"`
	Health    map[string]string `json:"health"` // component → "ok" or the reason it is not
	Started   time.Time         `json:"started"`
}

// PipelineStatus is one pipeline's counters.
type PipelineStatus struct {
	Name           string   `json:"name"`
	GroupBy        []string `json:"group_by"`
	Fields         []string `json:"fields"` // aggregate output fields
	Window         string   `json:"window"`
	RecordsPerSec  float64  `json:"records_per_sec"`
	Aggregated     uint64   `json:"aggregated"`
	Filtered       uint64   `json:"filtered"`
	Late           uint64   `json:"late"`
	Errors         uint64   `json:"errors"`
	Malformed      uint64   `json:"malformed"` // input-wide, repeated per pipeline
	DeadLettered   uint64   `json:"dead_lettered"`
	WindowsWritten uint64   `json:"windows_written"`
	PointsWritten  uint64   `json:"points_written"`
	OpenWindows    uint64   `json:"open_windows"`
	Overflowed     uint64   `json:"overflowed"`
	// LastWindow is the start of the newest window written (event time),
	// zero before the first. Charts anchor their relative ranges at its
	// end when event time is far from the wall clock (replays, the demo's
	// simulated time), or they would show an empty range.
	LastWindow time.Time `json:"last_window"`
}

// SeriesQuery selects what a chart shows.
type SeriesQuery struct {
	Pipeline string
	Field    string
	From, To time.Time
	Top      int // 0 = 10
}

// Series is one group key's points.
type Series struct {
	Tags   map[string]string `json:"tags"`
	Times  []int64           `json:"times"` // Unix ms
	Values []float64         `json:"values"`
}

// AlertFilter narrows Alerts.
type AlertFilter struct {
	Instance string
	Severity string
	Limit    int
}

// Alert is an alert as the console shows it.
type Alert struct {
	ID       string            `json:"id"`
	Instance string            `json:"instance"`
	Module   string            `json:"module"` // name@version
	Pipeline string            `json:"pipeline"`
	Severity string            `json:"severity"` // info, warn, crit, ok (resolved)
	Kind     string            `json:"kind"`     // anomaly, prediction
	Series   map[string]string `json:"series"`
	Field    string            `json:"field"`
	Observed float64           `json:"observed"`
	Expected float64           `json:"expected"`
	Lower    float64           `json:"lower"`
	Upper    float64           `json:"upper"`
	Window   time.Time         `json:"window"` // window start
	Message  string            `json:"message"`
	At       time.Time         `json:"at"`
}

// Analyzer is one analyzer instance.
type Analyzer struct {
	Name       string    `json:"name"`
	Module     string    `json:"module"`
	Version    string    `json:"version"`
	Hash       string    `json:"hash"`
	Pipeline   string    `json:"pipeline"`
	State      string    `json:"state"` // ok, failed, parked, backoff
	Calls      uint64    `json:"calls"`
	Failures   uint64    `json:"failures"`
	LastError  string    `json:"last_error,omitempty"`
	LastReload time.Time `json:"last_reload"`
}
