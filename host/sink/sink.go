// Package sink writes closed windows to InfluxDB (or stdout) as line protocol,
// one point per series per window, timestamped at the window start so that a
// replay overwrites instead of duplicating.
package sink

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Point is one series of a window: its tag values (in Window.TagNames order)
// and its field values (in Window.FieldNames order). A value whose Present is
// false, or that is NaN or ±Inf, is not written.
type Point struct {
	Tags    []string
	Values  []float64
	Present []bool
}

// Window is the output of one closed window of one pipeline.
type Window struct {
	Measurement string
	Start       time.Time // point timestamp = window start ⇒ a replay overwrites, never duplicates
	TagNames    []string
	FieldNames  []string
	FieldInt    []bool // write as integer field (value rounded toward zero)
	Points      []Point
}

// Sink is where closed windows go.
type Sink interface {
	// Write blocks until the window is acknowledged. 429/5xx/network errors
	// are retried with exponential backoff (capped) until ctx is done; the
	// caller stops consuming meanwhile (backpressure). Other 4xx return
	// *RejectedError.
	Write(ctx context.Context, w *Window) error
	Close() error
}

// RejectedError is a write the server refused as bad data (4xx other than
// 429): its message and the rejected line-protocol lines, for the
// dead-letter topic. InfluxDB rejects whole HTTP batches at a time (1.8 may
// have stored part of one: "partial write"), so Lines is every line of the
// refused batches; rewriting the accepted ones is harmless as points are
// idempotent.
type RejectedError struct {
	Status  int
	Message string
	Lines   []string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("influxdb rejected %d lines (status %d): %s", len(e.Lines), e.Status, e.Message)
}

// validate checks that the window's slices agree, so a bug upstream is an
// error here rather than an index panic.
func (w *Window) validate() error {
	if w.Measurement == "" {
		return fmt.Errorf("sink: window without measurement")
	}
	if len(w.FieldInt) != 0 && len(w.FieldInt) != len(w.FieldNames) {
		return fmt.Errorf("sink: window %s: %d FieldInt for %d fields", w.Measurement, len(w.FieldInt), len(w.FieldNames))
	}
	for i := range w.Points {
		p := &w.Points[i]
		if len(p.Tags) != len(w.TagNames) {
			return fmt.Errorf("sink: window %s point %d: %d tags for %d tag names", w.Measurement, i, len(p.Tags), len(w.TagNames))
		}
		if len(p.Values) != len(w.FieldNames) || (p.Present != nil && len(p.Present) != len(w.FieldNames)) {
			return fmt.Errorf("sink: window %s point %d: %d values / %d present for %d fields", w.Measurement, i, len(p.Values), len(p.Present), len(w.FieldNames))
		}
	}
	return nil
}

func splitLines(batch string) []string {
	return strings.Split(strings.TrimSuffix(batch, "\n"), "\n")
}
