// Holt-winters fits an additive Holt-Winters model (level, trend, season)
// per series on its history, then reports an anomaly when the current value
// leaves the forecast band, and a prediction when the forecast crosses a
// threshold within the horizon.
package main

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/tidemark/tidemark/plugins/internal/stats"
	tm "github.com/tidemark/tidemark/sdk/go"
)

func init() { tm.Register(&holtWinters{}) }

type holtWinters struct {
	field        string
	params       Params
	band         float64
	critMul      float64
	minRelSD     float64
	horizon      int
	threshold    float64
	hasThreshold bool
	above        bool
	critHorizon  int
	ys           []float64
	warned       bool
}

func (h *holtWinters) Init(opts tm.Options) error {
	h.field = opts.String("field", "")
	if h.field == "" {
		return fmt.Errorf("field: required")
	}
	h.params = Params{
		Alpha:  opts.Float("alpha", 0.3),
		Beta:   opts.Float("beta", 0.05),
		Gamma:  opts.Float("gamma", 0.3),
		Season: opts.Int("season", 24),
	}
	if h.params.Season < 2 {
		return fmt.Errorf("season %d: must be at least 2 windows", h.params.Season)
	}
	h.band = opts.Float("band", 3)
	h.critMul = opts.Float("crit_multiplier", 2)
	h.minRelSD = opts.Float("min_rel_sd", 0.01)
	h.horizon = opts.Int("horizon", h.params.Season)
	h.hasThreshold = opts.Has("threshold")
	h.threshold = opts.Float("threshold", math.NaN())
	switch d := opts.String("threshold_direction", "above"); d {
	case "above", "below":
		h.above = d == "above"
	default:
		return fmt.Errorf("threshold_direction %q: want above or below", d)
	}
	h.critHorizon = opts.Int("crit_horizon", 0)
	h.warned = false
	return nil
}

func (h *holtWinters) Analyze(in *tm.Input, out *tm.Emitter) error {
	f := in.FieldIndex(h.field)
	if f < 0 {
		if !h.warned {
			h.warned = true
			tm.Logf(slog.LevelWarn, "pipeline %q has no field %q", in.Pipeline(), h.field)
		}
		return nil
	}
	// Consecutive windows, oldest first, placed by start time so a window
	// missing from the history is a NaN, not a shift of the season.
	n := in.HistorySpan()
	if n < 2*h.params.Season {
		if !h.warned {
			h.warned = true
			tm.Logf(slog.LevelWarn, "holt-winters needs two seasons (%d windows) of history, the instance gets %d", 2*h.params.Season, n)
		}
		return nil
	}
	cols := make([][]float64, n+1)
	for k := 1; k <= n; k++ {
		cols[k] = in.WindowsAgo(k).Column(f)
	}
	cur := in.Column(f)
	width := in.Width()
	for s := range in.Series() {
		h.ys = h.ys[:0]
		for k := n; k >= 1; k-- { // oldest first
			h.ys = append(h.ys, cols[k][s])
		}
		m, ok := Fit(h.ys, h.params)
		if !ok {
			continue
		}
		x := cur[s]
		if math.IsNaN(x) {
			continue
		}
		expected := m.Forecast(1)
		sd := math.Max(m.ResidualSD(), h.minRelSD*math.Abs(expected))
		lower, upper := expected-h.band*sd, expected+h.band*sd
		if dev := math.Abs(x - expected); dev > h.band*sd {
			sev := tm.Warn
			if dev > h.band*h.critMul*sd {
				sev = tm.Crit
			}
			err := out.Emit(tm.Alert{
				Severity: sev, Kind: tm.Anomaly, Series: s, Field: f,
				Observed: x, Expected: expected, Lower: lower, Upper: upper,
				Message: fmt.Sprintf("%s %s outside the forecast band [%s, %s]", h.field, stats.Format(x), stats.Format(lower), stats.Format(upper)),
			})
			if err != nil {
				return err
			}
		}
		if !h.hasThreshold || (h.above && x >= h.threshold) || (!h.above && x <= h.threshold) {
			continue // no threshold, or already crossed: that is not a prediction
		}
		m.Observe(x, false)
		step, fc := m.Crossing(h.threshold, h.above, h.horizon)
		if step == 0 {
			continue
		}
		sev := tm.Warn
		if step <= h.critHorizon {
			sev = tm.Crit
		}
		eta := time.Duration(step) * width
		err := out.Emit(tm.Alert{
			Severity: sev, Kind: tm.Prediction, Series: s, Field: f,
			Observed: x, Expected: fc, Lower: math.NaN(), Upper: h.threshold, Horizon: eta,
			Message: fmt.Sprintf("%s forecast to reach %s (threshold %s) in %s", h.field, stats.Format(fc), stats.Format(h.threshold), eta),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func main() {}
