package main

import (
	"math"

	"github.com/tidemark/tidemark/abi"
)

// Rule is the threshold of one field.
type Rule struct {
	Threshold  float64 // warn when |cur − mean| > Threshold × |mean|
	CritMul    float64 // crit at Threshold × CritMul
	MinValue   float64 // ignore series where the value and the mean are below this
	MinWindows int     // history values needed for a mean
	Up, Down   bool    // which directions count
}

// Mean is the mean of the first n finite values of hist (newest first) and
// how many there were.
func Mean(hist func(k int) float64, n int) (mean float64, count int) {
	sum := 0.0
	for k := 1; k <= n; k++ {
		v := hist(k)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		sum += v
		count++
	}
	if count == 0 {
		return math.NaN(), 0
	}
	return sum / float64(count), count
}

// Judge compares cur with the moving average of count history values and
// returns the severity and the relative deviation (cur − mean)/|mean|.
func Judge(cur, mean float64, count int, r Rule) (abi.Severity, float64) {
	if math.IsNaN(cur) || math.IsNaN(mean) || count < r.MinWindows {
		return abi.SeverityOK, math.NaN()
	}
	if math.Abs(cur) < r.MinValue && math.Abs(mean) < r.MinValue {
		return abi.SeverityOK, 0
	}
	var dev float64
	switch {
	case cur == mean:
		return abi.SeverityOK, 0
	case mean == 0:
		dev = math.Copysign(math.Inf(1), cur)
	default:
		dev = (cur - mean) / math.Abs(mean)
	}
	if (dev > 0 && !r.Up) || (dev < 0 && !r.Down) {
		return abi.SeverityOK, dev
	}
	switch a := math.Abs(dev); {
	case a > r.Threshold*r.CritMul:
		return abi.SeverityCrit, dev
	case a > r.Threshold:
		return abi.SeverityWarn, dev
	}
	return abi.SeverityOK, dev
}
