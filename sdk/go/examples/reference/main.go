// Reference is the cross-language reference analyzer, "threshold + z-score
// over history", specified in sdk/REFERENCE.md and implemented identically
// in sdk/rust/examples/reference: given the same input and options, every
// implementation emits byte-identical alerts. Each f64 operation below is in
// the order the spec prescribes.
package main

import (
	"errors"
	"log/slog"
	"math"

	tm "github.com/tidemark/tidemark/sdk/go"
)

// Messages are fixed strings so no float formatting can differ between
// languages.
const (
	msgZ    = "z-score beyond threshold"
	msgAbs  = "above absolute maximum"
	msgBoth = "z-score beyond threshold; above absolute maximum"
)

// nan is the quiet NaN 0x7FF8000000000000 the spec writes for "no value";
// Go's math.NaN() has another payload (any NaN means missing, but the
// bytes must match the other languages).
var nan = math.Float64frombits(0x7FF8000000000000)

func init() { tm.Register(&reference{}) }

type reference struct {
	field       string
	threshold   float64
	minHistory  float64
	absMax      float64
	warnedField bool
	hist        [][]float64
	// per-series accumulators, reused across windows
	sum, mean, ss []float64
	count         []int
}

// grow returns b with length n, all zero, reusing its storage.
func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	b = b[:n]
	clear(b)
	return b
}

func growInt(b []int, n int) []int {
	if cap(b) < n {
		return make([]int, n)
	}
	b = b[:n]
	clear(b)
	return b
}

func (r *reference) Init(opts tm.Options) error {
	r.field = opts.String("field", "")
	if r.field == "" {
		return errors.New("option field is required")
	}
	r.threshold = opts.Float("threshold", 3)
	r.minHistory = opts.Float("min_history", 3)
	r.absMax = opts.Float("abs_max", math.Inf(1))
	return nil
}

func (r *reference) Analyze(in *tm.Input, out *tm.Emitter) error {
	f := in.FieldIndex(r.field)
	if f < 0 {
		if !r.warnedField {
			r.warnedField = true
			tm.Logf(slog.LevelWarn, "pipeline %q has no field %q", in.Pipeline(), r.field)
		}
		return nil
	}
	cur := in.Column(f)
	// History columns, newest first, MISSING frames skipped.
	r.hist = r.hist[:0]
	for k := 1; k <= in.HistoryLen(); k++ {
		if fr := in.History(k); !fr.Missing() {
			r.hist = append(r.hist, fr.Column(f))
		}
	}
	// Frame-major passes over contiguous columns; per series the sums still
	// run in frame order, newest first, as the spec requires.
	n := len(cur)
	sum, count, mean, ss := grow(r.sum, n), growInt(r.count, n), grow(r.mean, n), grow(r.ss, n)
	r.sum, r.count, r.mean, r.ss = sum, count, mean, ss
	for _, c := range r.hist {
		c = c[:n]
		for s, v := range c {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				sum[s] += v
				count[s]++
			}
		}
	}
	for s := range mean {
		mean[s] = sum[s] / float64(count[s])
	}
	for _, c := range r.hist {
		c = c[:n]
		for s, v := range c {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				d := v - mean[s]
				ss[s] += float64(d * d) // the conversion forbids fusing into an FMA
			}
		}
	}
	critAt := 2 * r.threshold
	for s, x := range cur {
		if math.IsNaN(x) {
			continue
		}
		sev, zHit := tm.OK, false
		expected, lower, upper := nan, nan, nan
		m := mean[s]
		sd := math.Sqrt(ss[s] / float64(count[s]))
		// A baseline needs enough values and must not have overflowed.
		if count[s] >= 1 && float64(count[s]) >= r.minHistory && !math.IsInf(m, 0) && !math.IsInf(sd, 0) && !math.IsNaN(m) && !math.IsNaN(sd) {
			band := float64(r.threshold * sd)
			expected, lower, upper = m, m-band, m+band
			if sd > 0 {
				az := math.Abs((x - m) / sd)
				if az >= critAt {
					sev, zHit = tm.Crit, true
				} else if az >= r.threshold {
					sev, zHit = tm.Warn, true
				}
			}
		}
		absHit := x > r.absMax
		if absHit && sev < tm.Warn {
			sev = tm.Warn
		}
		if sev < tm.Warn {
			continue
		}
		msg := msgAbs
		switch {
		case zHit && absHit:
			msg = msgBoth
		case zHit:
			msg = msgZ
		}
		if err := out.Emit(tm.Alert{
			Severity: sev, Kind: tm.Anomaly, Series: s, Field: f,
			Observed: x, Expected: expected, Lower: lower, Upper: upper,
			Message: msg,
		}); err != nil {
			return err
		}
	}
	return nil
}

func main() {}
