// Moving-average reports series whose value deviates from the mean of the
// same series over the last num_average windows by more than a threshold.
package main

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/tidemark/tidemark/plugins/internal/stats"
	tm "github.com/tidemark/tidemark/sdk/go"
)

func init() { tm.Register(&movingAverage{}) }

type movingAverage struct {
	fields []stats.FieldFactor
	rule   Rule
	n      int
	warned map[string]bool
}

func (m *movingAverage) Init(opts tm.Options) error {
	var err error
	if m.fields, err = stats.ParseFields(opts.Strings("fields", nil)); err != nil {
		return err
	}
	m.n = opts.Int("num_average", 10)
	if m.n < 1 {
		return fmt.Errorf("num_average %d: must be at least 1", m.n)
	}
	m.rule = Rule{
		Threshold:  opts.Float("threshold", 0.5),
		CritMul:    opts.Float("crit_multiplier", 2),
		MinValue:   opts.Float("min_value", 0),
		MinWindows: opts.Int("min_windows", (m.n+1)/2),
	}
	if m.rule.Up, m.rule.Down, err = stats.ParseDirection(opts.String("direction", "both")); err != nil {
		return err
	}
	m.warned = map[string]bool{}
	return nil
}

func (m *movingAverage) Analyze(in *tm.Input, out *tm.Emitter) error {
	n := m.n
	if in.HistoryOffset() {
		n = min(n, in.HistoryLen())
	}
	for _, ff := range m.fields {
		f := in.FieldIndex(ff.Name)
		if f < 0 {
			if !m.warned[ff.Name] {
				m.warned[ff.Name] = true
				tm.Logf(slog.LevelWarn, "pipeline %q has no field %q", in.Pipeline(), ff.Name)
			}
			continue
		}
		rule := m.rule
		if ff.Factor > 0 {
			rule.Threshold = ff.Factor
		}
		cols := make([][]float64, n+1)
		for k := 1; k <= n; k++ {
			if in.HistoryOffset() {
				cols[k] = in.History(k).Column(f)
			} else {
				cols[k] = in.WindowsAgo(k).Column(f) // NaN where the window is missing
			}
		}
		cur := in.Column(f)
		for s := range in.Series() {
			mean, count := Mean(func(k int) float64 { return cols[k][s] }, n)
			sev, dev := Judge(cur[s], mean, count, rule)
			if sev == tm.OK {
				continue
			}
			band := rule.Threshold * math.Abs(mean)
			err := out.Emit(tm.Alert{
				Severity: sev, Kind: tm.Anomaly, Series: s, Field: f,
				Observed: cur[s], Expected: mean, Lower: mean - band, Upper: mean + band,
				Message: fmt.Sprintf("%s %+.0f%% from its %d-window average (%s → %s)", ff.Name, 100*dev, count, stats.Format(mean), stats.Format(cur[s])),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func main() {}
