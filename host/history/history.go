// Package history reads past windows of a pipeline back from InfluxDB, as
// the history frames handed to analyzers.
package history

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
)

// Request says which part of the written windows to read.
type Request struct {
	Measurement string
	Fields      []string
	TagNames    []string
	Series      [][]string // tag values (TagNames order) of the series wanted; nil = all
	Start, Stop time.Time  // range [Start, Stop)
}

// Frame is one past window: the series found at that window start and their
// field values.
type Frame struct {
	Start  time.Time
	Series [][]string  // tag values, TagNames order (Request.Series itself when it was set: do not modify)
	Values [][]float64 // [field][series]; NaN = missing
}

// Reader returns history frames ordered by time, one per window start found.
type Reader interface {
	Query(ctx context.Context, r Request) ([]Frame, error)
}

// Influx reads history with one Flux query per call.
type Influx struct {
	client influxdb2.Client
	org    string
	bucket string
}

// NewInflux reads from bucket ("db/rp" on 1.8) through client's Flux query API.
func NewInflux(client influxdb2.Client, bucket, org string) *Influx {
	return &Influx{client: client, org: org, bucket: bucket}
}

var _ Reader = (*Influx)(nil)

// Query runs one Flux query for the whole request (fields pivoted into
// columns by Flux) and groups the rows by timestamp into frames.
//
// When r.Series is set, every frame lists exactly r.Series in that order
// (NaN where a series has no value at that time) and frames in which none of
// them has a value are left out. When r.Series is nil, each frame lists the
// series present at its time, sorted by tag values.
func (h *Influx) Query(ctx context.Context, r Request) ([]Frame, error) {
	if r.Measurement == "" || len(r.Fields) == 0 {
		return nil, fmt.Errorf("history: request needs a measurement and at least one field")
	}
	if !r.Stop.After(r.Start) {
		return nil, nil
	}
	flux := buildFlux(h.bucket, r)
	// A QueryAPI per call: the client's builds its URL lazily without a
	// lock, and analyzer instances query concurrently.
	res, err := h.client.QueryAPI(h.org).Query(ctx, flux)
	if err != nil {
		return nil, fmt.Errorf("history: query %s [%s, %s): %w", r.Measurement, r.Start.UTC().Format(time.RFC3339), r.Stop.UTC().Format(time.RFC3339), err)
	}
	defer res.Close()

	var wanted map[string]int // series key → index in r.Series
	if r.Series != nil {
		wanted = make(map[string]int, len(r.Series))
		for i, s := range r.Series {
			wanted[seriesKey(s)] = i
		}
	}

	type frameBuild struct {
		start  time.Time
		series map[string]int // series key → column
		tags   [][]string
		values [][]float64
	}
	frames := map[int64]*frameBuild{}
	tags := make([]string, len(r.TagNames))
	for res.Next() {
		rec := res.Record()
		for i, name := range r.TagNames {
			s, _ := rec.ValueByKey(name).(string) // absent tag = "" (how the sink writes an empty tag)
			tags[i] = s
		}
		key := seriesKey(tags)
		col := -1
		if wanted != nil {
			i, ok := wanted[key]
			if !ok {
				continue // the Flux filter is per tag, so a superset; exact match here
			}
			col = i
		}
		t := rec.Time()
		if t.Before(r.Start) || !t.Before(r.Stop) {
			continue // InfluxDB 1.8's Flux includes points at the range stop
		}
		fb := frames[t.UnixNano()]
		if fb == nil {
			fb = &frameBuild{start: t, values: make([][]float64, len(r.Fields))}
			if wanted != nil {
				fb.tags = r.Series
				for f := range fb.values {
					fb.values[f] = nanSlice(len(r.Series))
				}
			} else {
				fb.series = map[string]int{}
			}
			frames[t.UnixNano()] = fb
		}
		if wanted == nil {
			c, ok := fb.series[key]
			if !ok {
				c = len(fb.tags)
				fb.series[key] = c
				fb.tags = append(fb.tags, slices.Clone(tags))
				for f := range fb.values {
					fb.values[f] = append(fb.values[f], math.NaN())
				}
			}
			col = c
		}
		for fi, name := range r.Fields {
			if v, ok := toFloat(rec.ValueByKey(name)); ok {
				fb.values[fi][col] = v
			}
		}
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("history: read result of %s: %w", r.Measurement, err)
	}

	out := make([]Frame, 0, len(frames))
	for _, fb := range frames {
		f := Frame{Start: fb.start, Series: fb.tags, Values: fb.values}
		if wanted == nil {
			sortSeries(&f)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Frame) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// buildFlux filters by measurement, fields and, when series are given, by
// a regex over the values of each tag (which InfluxDB applies in storage; a
// contains() filter is evaluated row by row and is ~6x slower for 1000
// series). The exact series match is done in Go. Fields are pivoted into
// columns in Flux, which halves the rows to transfer for two fields.
func buildFlux(bucket string, r Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "from(bucket: %s)\n", fluxString(bucket))
	fmt.Fprintf(&b, "  |> range(start: %s, stop: %s)\n", r.Start.UTC().Format(time.RFC3339Nano), r.Stop.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "  |> filter(fn: (r) => r._measurement == %s)\n", fluxString(r.Measurement))
	b.WriteString("  |> filter(fn: (r) => ")
	for i, f := range r.Fields {
		if i > 0 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "r._field == %s", fluxString(f))
	}
	b.WriteString(")\n")
	if r.Series != nil {
		for ti, name := range r.TagNames {
			set := map[string]bool{}
			for _, s := range r.Series {
				if ti < len(s) {
					set[s[ti]] = true
				}
			}
			if set[""] { // an absent tag is not matched by a regex filter; keep all, match in Go
				continue
			}
			vals := make([]string, 0, len(set))
			for v := range set {
				vals = append(vals, regexp.QuoteMeta(v))
			}
			slices.Sort(vals)
			fmt.Fprintf(&b, "  |> filter(fn: (r) => r[%s] =~ %s)\n", fluxString(name), fluxRegex("^(?:"+strings.Join(vals, "|")+")$"))
		}
	}
	b.WriteString("  |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\")\n")
	b.WriteString("  |> drop(columns: [\"_start\", \"_stop\", \"_measurement\"])\n")
	return b.String()
}

// fluxRegex writes a Flux regex literal; only '/' needs escaping in it.
func fluxRegex(re string) string {
	return "/" + strings.ReplaceAll(re, "/", `\/`) + "/"
}

// fluxString quotes s as a Flux string literal.
func fluxString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`).Replace(s) + `"`
}

func seriesKey(tags []string) string { return strings.Join(tags, "\x00") }

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// sortSeries orders a frame's series by tag values, moving the value columns along.
func sortSeries(f *Frame) {
	idx := make([]int, len(f.Series))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return slices.Compare(f.Series[a], f.Series[b]) })
	series := make([][]string, len(idx))
	for i, j := range idx {
		series[i] = f.Series[j]
	}
	f.Series = series
	for fi, col := range f.Values {
		sorted := make([]float64, len(idx))
		for i, j := range idx {
			sorted[i] = col[j]
		}
		f.Values[fi] = sorted
	}
}
