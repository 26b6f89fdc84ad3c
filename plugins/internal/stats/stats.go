// Package stats holds the small numeric helpers the built-in analyzers
// share. Functions ignore NaN (missing) values and never allocate when given
// a scratch slice with capacity.
package stats

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Finite appends the non-NaN, finite values of xs to dst.
func Finite(dst, xs []float64) []float64 {
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			dst = append(dst, x)
		}
	}
	return dst
}

// Median sorts xs in place and returns its median (NaN when empty).
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// MedianMAD returns the median and the median absolute deviation of xs,
// reordering xs.
func MedianMAD(xs []float64) (median, mad float64) {
	median = Median(xs)
	for i, x := range xs {
		xs[i] = math.Abs(x - median)
	}
	mad = Median(xs)
	return median, mad
}

// MeanStd returns the mean and the sample standard deviation of the finite
// values of xs and how many there were.
func MeanStd(xs []float64) (mean, std float64, n int) {
	var sum float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean = sum / float64(n)
	if n < 2 {
		return mean, 0, n
	}
	var ss float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			ss += (x - mean) * (x - mean)
		}
	}
	return mean, math.Sqrt(ss / float64(n-1)), n
}

// FieldFactor is one entry of a "fields" option: a field name with an
// optional per-field factor ("sum_bytes:5").
type FieldFactor struct {
	Name   string
	Factor float64 // 0 when not given: use the default
}

// ParseFields parses "name" or "name:factor" entries.
func ParseFields(specs []string) ([]FieldFactor, error) {
	out := make([]FieldFactor, 0, len(specs))
	for _, s := range specs {
		name, f, ok := strings.Cut(s, ":")
		ff := FieldFactor{Name: strings.TrimSpace(name)}
		if ff.Name == "" {
			return nil, fmt.Errorf("fields: empty field name in %q", s)
		}
		if ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) {
				return nil, fmt.Errorf("fields: %q: factor must be a positive number", s)
			}
			ff.Factor = v
		}
		out = append(out, ff)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fields: at least one field is needed")
	}
	return out, nil
}

// ParseDirection reads a "direction" option: which deviations count.
func ParseDirection(s string) (up, down bool, err error) {
	switch s {
	case "up":
		return true, false, nil
	case "down":
		return false, true, nil
	case "both", "":
		return true, true, nil
	}
	return false, false, fmt.Errorf("direction %q: want up, down or both", s)
}

// Ratio is how many times larger a is than b, as a factor ≥ 1 in either
// direction; up reports whether a > b. Zero b with positive a is +Inf.
func Ratio(a, b float64) (factor float64, up bool) {
	switch {
	case a == b:
		return 1, false
	case a > b:
		if b <= 0 {
			return math.Inf(1), true
		}
		return a / b, true
	default:
		if a <= 0 {
			return math.Inf(1), false
		}
		return b / a, false
	}
}

// Format is a compact number for alert messages.
func Format(v float64) string {
	if a := math.Abs(v); a >= 1000 && a < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
