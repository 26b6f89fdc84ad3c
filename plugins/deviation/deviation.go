package main

import (
	"fmt"
	"math"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/stats"
)

// Direction selects which deviations count.
type Direction int

const (
	Up Direction = iota
	Down
	Both
)

// ParseDirection reads the "direction" option.
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "up", "":
		return Up, nil
	case "down":
		return Down, nil
	case "both":
		return Both, nil
	}
	return 0, fmt.Errorf("direction %q: want up, down or both", s)
}

// Rule is the threshold of one field.
type Rule struct {
	Factor     float64 // warn when the value changed by at least this factor
	CritFactor float64 // crit at this factor
	MinValue   float64 // ignore series where both values are below this
	Direction  Direction
}

// Judge compares the current value with the baseline (the same series
// batch_number windows ago, or at the offset). ratio ≥ 1 is the factor of
// change; NaN values (no data) are never judged.
func Judge(cur, base float64, r Rule) (sev abi.Severity, ratio float64, up bool) {
	if math.IsNaN(cur) || math.IsNaN(base) {
		return abi.SeverityOK, math.NaN(), false
	}
	if math.Abs(cur) < r.MinValue && math.Abs(base) < r.MinValue {
		return abi.SeverityOK, 1, false
	}
	ratio, up = stats.Ratio(cur, base)
	if (up && r.Direction == Down) || (!up && r.Direction == Up) {
		return abi.SeverityOK, ratio, up
	}
	switch {
	case ratio >= r.CritFactor:
		return abi.SeverityCrit, ratio, up
	case ratio >= r.Factor:
		return abi.SeverityWarn, ratio, up
	}
	return abi.SeverityOK, ratio, up
}
