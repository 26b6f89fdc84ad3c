package main

import (
	"math"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/stats"
)

// Rule is the threshold of one field.
type Rule struct {
	Threshold  float64 // warn when |modified z| > Threshold (3.5 is Iglewicz–Hoaglin's)
	CritMul    float64
	MinWindows int     // history values needed
	MinDelta   float64 // ignore |x − median| below this (counts near zero)
	Up, Down   bool
}

// RobustZ is the modified z-score of x against hist (finite values,
// reordered): 0.6745·(x − median)/MAD. When MAD is 0 (over half the values
// equal) it falls back to the mean absolute deviation (scaled 1.2533), and
// when that is 0 too any difference is infinite. scale is the robust
// standard deviation used, for the alert band.
func RobustZ(x float64, hist []float64) (z, median, scale float64) {
	median = stats.Median(hist)
	var sumAbs float64
	for i, v := range hist {
		hist[i] = math.Abs(v - median)
		sumAbs += hist[i]
	}
	mad := stats.Median(hist)
	switch {
	case mad > 0:
		scale = mad / 0.6745
	case sumAbs > 0:
		scale = 1.2533 * sumAbs / float64(len(hist))
	default:
		if x == median {
			return 0, median, 0
		}
		return math.Copysign(math.Inf(1), x-median), median, 0
	}
	return (x - median) / scale, median, scale
}

// Judge rates z for the observed x.
func Judge(x, median, z float64, n int, r Rule) abi.Severity {
	if math.IsNaN(x) || n < r.MinWindows || math.Abs(x-median) < r.MinDelta {
		return abi.SeverityOK
	}
	if (z > 0 && !r.Up) || (z < 0 && !r.Down) {
		return abi.SeverityOK
	}
	switch a := math.Abs(z); {
	case a > r.Threshold*r.CritMul:
		return abi.SeverityCrit
	case a > r.Threshold:
		return abi.SeverityWarn
	}
	return abi.SeverityOK
}
