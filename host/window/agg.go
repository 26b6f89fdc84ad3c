package window

import (
	"fmt"
	"github.com/tidemark/tidemark/internal/editdist"
	"math"
	"strconv"
	"strings"
)

// funcs lists the aggregate functions in the order "did you mean" prefers
// on a tie.
var funcs = []string{"sum", "count", "min", "max", "avg", "count_distinct", "product", "first", "last", "percentile"}

// ValidateAgg reports whether fn names an aggregate function; an unknown
// name gets the closest known one as a hint.
func ValidateAgg(fn string) error {
	best, bestDist := "", math.MaxInt
	for _, f := range funcs {
		if f == fn {
			return nil
		}
		if d := editdist.Distance(fn, f); d < bestDist {
			best, bestDist = f, d
		}
	}
	// A hint further away than half the name is noise.
	if bestDist <= max(2, len(fn)/2) {
		return fmt.Errorf("unknown function %q (did you mean %q?)", fn, best)
	}
	return fmt.Errorf("unknown function %q (known: %s)", fn, strings.Join(funcs, ", "))
}

// DefaultName is the output field name of fn over field: sum_bytes, count,
// distinct_src_ip, p95_packet_size. A fractional percent keeps its digits
// with "_" for the point (p99_9_rtt) so the name stays a plain identifier.
func DefaultName(fn, field string, q float64) string {
	switch fn {
	case "count":
		if field == "" {
			return "count"
		}
		return "count_" + field
	case "count_distinct":
		return "distinct_" + field
	case "percentile":
		pct := math.Round(q*100*1e6) / 1e6
		return "p" + strings.ReplaceAll(strconv.FormatFloat(pct, 'f', -1, 64), ".", "_") + "_" + field
	}
	return fn + "_" + field
}

// FieldIsInt says whether fn's output is written as an integer field.
func FieldIsInt(fn string) bool { return fn == "count" || fn == "count_distinct" }
