// Package tidemark is the Go SDK for Tidemark analyzers: WebAssembly modules
// that receive each closed window (plus history) and report alerts. It
// implements the guest side of abi/ABI.md.
//
// An analyzer is a main package that registers itself in init:
//
//	package main
//
//	import tm "github.com/tidemark/tidemark/sdk/go"
//
//	func init() { tm.Register(&spike{}) }
//
//	type spike struct{ factor float64 }
//
//	func (a *spike) Init(opts tm.Options) error { a.factor = opts.Float("factor", 3); return nil }
//
//	func (a *spike) Analyze(in *tm.Input, out *tm.Emitter) error {
//		cur, prev := in.Field("sum_bytes"), in.History(1).Field("sum_bytes")
//		for s := range in.Series() {
//			if cur[s] > a.factor*prev[s] {
//				out.Emit(tm.Alert{Severity: tm.Warn, Series: s, Observed: cur[s], Expected: prev[s]})
//			}
//		}
//		return nil
//	}
//
//	func main() {}
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o spike.wasm .
//	go run github.com/tidemark/tidemark/abi/cmd/tidemark-manifest -m manifest.json spike.wasm
//
// Outside wasip1 the package compiles too, with in-process stand-ins for the
// host functions, so the analyzer's logic can be tested natively with
// sdk/go/tmtest.
package tidemark

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tidemark/tidemark/abi"
)

// Analyzer is what a module implements.
type Analyzer interface {
	// Init is called once per instance with its options (validated against
	// the manifest, defaults filled in). An error fails the instance.
	Init(opts Options) error
	// Analyze is called once per closed window. Report every series that is
	// not ok; the host turns conditions into fire/resolve events, so do not
	// track what was already reported. Alerts emitted before an error is
	// returned are discarded by the host.
	Analyze(in *Input, out *Emitter) error
}

// StateSaver is implemented by analyzers that keep state in memory and want
// it carried across a hot reload: SaveState runs on the old module, and
// LoadState with its result on the new one before its first window.
type StateSaver interface {
	SaveState() ([]byte, error)
	LoadState(blob []byte) error
}

var registered Analyzer

// Register sets the module's analyzer. Call it once, from an init function.
func Register(a Analyzer) {
	if registered != nil {
		panic("tidemark: Register called twice")
	}
	registered = a
}

// Registered returns the analyzer passed to Register (nil before).
func Registered() Analyzer { return registered }

// Severity of a reported condition.
type Severity = abi.Severity

// Severities.
const (
	OK   = abi.SeverityOK
	Info = abi.SeverityInfo
	Warn = abi.SeverityWarn
	Crit = abi.SeverityCrit
)

// Kind of an alert.
type Kind = abi.Kind

// Kinds.
const (
	Anomaly    = abi.KindAnomaly
	Prediction = abi.KindPrediction
)

// NoSeries and NoField mark an alert that is not about one series or field.
const (
	NoSeries = -1
	NoField  = -1
)

// Alert is one reported condition. Series and Field are indices into the
// input (in.Series(), in.FieldIndex); Lower/Upper are the band the value was
// expected in (NaN when there is none).
type Alert struct {
	Severity Severity
	Kind     Kind
	Series   int
	Field    int
	Observed float64
	Expected float64
	Lower    float64
	Upper    float64
	Horizon  time.Duration // predictions: when, after the window end, the forecast crosses
	Message  string
}

// Emitter sends alerts to the host.
type Emitter struct {
	send    func(*abi.Alert) error
	series  int
	fields  int
	emitted int
}

// NewEmitter returns an Emitter that hands each alert to send after checking
// its indices against an input of numSeries series and numFields fields.
// Analyzers get theirs from the SDK; tests use this to collect alerts.
func NewEmitter(numSeries, numFields int, send func(*abi.Alert) error) *Emitter {
	return &Emitter{send: send, series: numSeries, fields: numFields}
}

// ErrTooManyAlerts is returned by Emit past abi.MaxAlertsPerCall.
var ErrTooManyAlerts = errors.New("tidemark: too many alerts in one window")

// Emit reports one condition.
func (e *Emitter) Emit(a Alert) error {
	if e.emitted >= abi.MaxAlertsPerCall {
		return ErrTooManyAlerts
	}
	wa := abi.Alert{
		Severity: a.Severity, Kind: a.Kind,
		Series: index(a.Series), Field: index(a.Field),
		Observed: a.Observed, Expected: a.Expected, Lower: a.Lower, Upper: a.Upper,
		Horizon: int64(a.Horizon), Message: a.Message,
	}
	if err := wa.Check(e.series, e.fields); err != nil {
		return fmt.Errorf("tidemark: %w", err)
	}
	e.emitted++
	return e.send(&wa)
}

// Count is the number of alerts emitted so far in this window.
func (e *Emitter) Count() int { return e.emitted }

func index(i int) uint32 {
	if i < 0 {
		return abi.NoIndex
	}
	return uint32(i)
}

// Input is one analyze call's data: the closed window (frame 0) and its
// history. Columns alias the input buffer: valid until Analyze returns.
type Input struct {
	v   abi.View
	nan []float64 // shared all-NaN column for frames that are not there
}

// NewInput wraps a decoded view (for tests; analyzers get theirs from the SDK).
func NewInput(v *abi.View) *Input { return &Input{v: *v} }

// View is the underlying decoded input.
func (in *Input) View() *abi.View { return &in.v }

// Series is the number of series; `for s := range in.Series()` visits each.
func (in *Input) Series() int { return in.v.NumSeries() }

// Instance and Pipeline name the analyzer instance and its pipeline.
func (in *Input) Instance() string { return in.v.Instance() }

// Pipeline is the pipeline (InfluxDB measurement) the window belongs to.
func (in *Input) Pipeline() string { return in.v.Pipeline() }

// Start and End bound the closed window.
func (in *Input) Start() time.Time { return time.Unix(0, in.v.WindowStart).UTC() }

// End is the exclusive end of the closed window.
func (in *Input) End() time.Time { return time.Unix(0, in.v.WindowEnd).UTC() }

// Width is End − Start.
func (in *Input) Width() time.Duration { return time.Duration(in.v.WindowEnd - in.v.WindowStart) }

// HistoryIncomplete reports that the declared history could not be fetched
// in full; analyzers should not alert on a baseline they do not have.
func (in *Input) HistoryIncomplete() bool { return in.v.Flags&abi.FlagHistoryIncomplete != 0 }

// HistoryOffset reports offset history (same window N×offset ago) rather
// than the last N windows.
func (in *Input) HistoryOffset() bool { return in.v.Flags&abi.FlagHistoryOffset != 0 }

// Fields lists the field names.
func (in *Input) Fields() []string {
	out := make([]string, in.v.NumFields())
	for f := range out {
		out[f] = in.v.FieldName(f)
	}
	return out
}

// FieldIndex is the index of a field, -1 if the pipeline has no such field.
func (in *Input) FieldIndex(name string) int { return in.v.FieldIndex(name) }

// Field is the current window's column for a field (nil if absent).
func (in *Input) Field(name string) []float64 { return in.Frame(0).Field(name) }

// Column is the current window's column f.
func (in *Input) Column(f int) []float64 { return in.Frame(0).Column(f) }

// Tag returns the value of the named tag for series s ("" if no such tag).
func (in *Input) Tag(s int, name string) string {
	t := in.v.TagIndex(name)
	if t < 0 {
		return ""
	}
	return in.v.TagValue(s, t)
}

// SeriesKey is "tag=value,tag=value" for series s: stable across windows,
// so usable as a state key.
func (in *Input) SeriesKey(s int) string {
	var b strings.Builder
	for t := range in.v.NumTags() {
		if t > 0 {
			b.WriteByte(',')
		}
		b.WriteString(in.v.TagName(t))
		b.WriteByte('=')
		b.WriteString(in.v.TagValue(s, t))
	}
	return b.String()
}

// HistoryLen is the number of history frames (N).
func (in *Input) HistoryLen() int { return in.v.NumFrames() - 1 }

// History returns history frame i (1 = newest, i.e. one window ago with
// "last N" history). Frames beyond HistoryLen come back Missing, all NaN, so
// indexing them is safe.
func (in *Input) History(i int) Frame { return in.Frame(i) }

// WindowsAgo returns the history frame of the window k widths before the
// current one, found by its start time, or a Missing all-NaN frame when the
// host has none for it. Prefer it to History(k) with "last N windows"
// history: a host may leave out windows that have no data at all.
func (in *Input) WindowsAgo(k int) Frame {
	want := in.v.WindowStart - int64(k)*(in.v.WindowEnd-in.v.WindowStart)
	if k >= 1 && k < in.v.NumFrames() && in.v.Frame(k).Start == want {
		return in.Frame(k) // the usual case: no gaps
	}
	for i := 1; i < in.v.NumFrames(); i++ {
		if in.v.Frame(i).Start == want {
			return in.Frame(i)
		}
	}
	return Frame{in: in, missing: true, start: want}
}

// FrameNear returns the history frame whose start is closest to t and
// within tolerance of it (offset history), or a Missing frame.
func (in *Input) FrameNear(t time.Time, tolerance time.Duration) Frame {
	want, best, bestDist := t.UnixNano(), -1, int64(tolerance)
	for i := 1; i < in.v.NumFrames(); i++ {
		d := in.v.Frame(i).Start - want
		if d < 0 {
			d = -d
		}
		if d <= bestDist {
			best, bestDist = i, d
		}
	}
	if best < 0 {
		return Frame{in: in, missing: true, start: want}
	}
	return in.Frame(best)
}

// HistorySpan is how many windows back the oldest history frame is (with
// gaps in the history it exceeds HistoryLen); 0 without history.
func (in *Input) HistorySpan() int {
	w := in.v.WindowEnd - in.v.WindowStart
	span := 0
	for i := 1; i < in.v.NumFrames() && w > 0; i++ {
		if d := int((in.v.WindowStart - in.v.Frame(i).Start) / w); d > span {
			span = d
		}
	}
	return span
}

// Frame returns frame k: 0 is the current window, k ≥ 1 history.
func (in *Input) Frame(k int) Frame {
	if k < 0 || k >= in.v.NumFrames() {
		return Frame{in: in, missing: true, start: in.v.WindowStart - int64(k)*(in.v.WindowEnd-in.v.WindowStart)}
	}
	return Frame{in: in, f: in.v.Frame(k)}
}

func (in *Input) nanColumn() []float64 {
	if len(in.nan) != in.v.NumSeries() {
		if cap(in.nan) < in.v.NumSeries() {
			in.nan = make([]float64, in.v.NumSeries())
		}
		in.nan = in.nan[:in.v.NumSeries()]
		for i := range in.nan {
			in.nan[i] = math.NaN()
		}
	}
	return in.nan
}

// Frame is one window's columns, in the current window's series order.
type Frame struct {
	in      *Input
	f       abi.FrameView
	missing bool  // not in the input
	start   int64 // of a frame not in the input: the window asked for
}

// Start and End bound the frame's window.
func (f Frame) Start() time.Time {
	if f.missing {
		return time.Unix(0, f.start).UTC()
	}
	return time.Unix(0, f.f.Start).UTC()
}

// End is the exclusive end of the frame's window.
func (f Frame) End() time.Time {
	if f.missing {
		return f.Start().Add(f.in.Width())
	}
	return time.Unix(0, f.f.End).UTC()
}

// Missing reports that no data was stored for this window.
func (f Frame) Missing() bool { return f.missing || f.f.Missing() }

// Field is the column of the named field, one value per series, NaN where
// a series has no value (nil if the pipeline has no such field).
func (f Frame) Field(name string) []float64 {
	i := f.in.v.FieldIndex(name)
	if i < 0 {
		return nil
	}
	return f.Column(i)
}

// Column is field i's column.
func (f Frame) Column(i int) []float64 {
	if f.missing {
		return f.in.nanColumn()
	}
	return f.f.Column(i)
}

// Missing value helpers.

// IsMissing reports whether v marks a missing value.
func IsMissing(v float64) bool { return math.IsNaN(v) }

// NaN is the missing value.
func NaN() float64 { return math.NaN() }
