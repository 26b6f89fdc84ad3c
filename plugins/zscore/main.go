// Zscore reports values far from the robust centre of the same series'
// history: the modified z-score with median and MAD, which a few earlier
// spikes in the history do not inflate the way mean and standard deviation
// are.
package main

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/tidemark/tidemark/plugins/internal/stats"
	tm "github.com/tidemark/tidemark/sdk/go"
)

func init() { tm.Register(&zscore{}) }

type zscore struct {
	fields  []stats.FieldFactor
	rule    Rule
	windows int
	scratch []float64
	warned  map[string]bool
}

func (z *zscore) Init(opts tm.Options) error {
	var err error
	if z.fields, err = stats.ParseFields(opts.Strings("fields", nil)); err != nil {
		return err
	}
	z.windows = opts.Int("num_windows", 0)
	z.rule = Rule{
		Threshold:  opts.Float("threshold", 3.5),
		CritMul:    opts.Float("crit_multiplier", 1.5),
		MinWindows: opts.Int("min_windows", 8),
		MinDelta:   opts.Float("min_delta", 0),
	}
	if z.rule.Up, z.rule.Down, err = stats.ParseDirection(opts.String("direction", "both")); err != nil {
		return err
	}
	z.warned = map[string]bool{}
	return nil
}

func (z *zscore) Analyze(in *tm.Input, out *tm.Emitter) error {
	n := in.HistoryLen()
	if z.windows > 0 {
		n = min(n, z.windows)
	}
	for _, ff := range z.fields {
		f := in.FieldIndex(ff.Name)
		if f < 0 {
			if !z.warned[ff.Name] {
				z.warned[ff.Name] = true
				tm.Logf(slog.LevelWarn, "pipeline %q has no field %q", in.Pipeline(), ff.Name)
			}
			continue
		}
		rule := z.rule
		if ff.Factor > 0 {
			rule.Threshold = ff.Factor
		}
		cols := make([][]float64, n)
		for k := range n {
			cols[k] = in.History(k + 1).Column(f)
		}
		cur := in.Column(f)
		for s := range in.Series() {
			if math.IsNaN(cur[s]) {
				continue
			}
			z.scratch = z.scratch[:0]
			for _, c := range cols {
				if v := c[s]; !math.IsNaN(v) && !math.IsInf(v, 0) {
					z.scratch = append(z.scratch, v)
				}
			}
			count := len(z.scratch)
			if count < rule.MinWindows {
				continue
			}
			score, median, scale := RobustZ(cur[s], z.scratch)
			sev := Judge(cur[s], median, score, count, rule)
			if sev == tm.OK {
				continue
			}
			err := out.Emit(tm.Alert{
				Severity: sev, Kind: tm.Anomaly, Series: s, Field: f,
				Observed: cur[s], Expected: median,
				Lower: median - rule.Threshold*scale, Upper: median + rule.Threshold*scale,
				Message: fmt.Sprintf("%s robust z-score %s over %d windows (median %s, value %s)", ff.Name, stats.Format(score), count, stats.Format(median), stats.Format(cur[s])),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func main() {}
