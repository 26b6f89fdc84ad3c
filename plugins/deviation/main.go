// Deviation compares each series with the same series batch_number windows
// ago (or with the offset history frame, e.g. the same window yesterday) and
// reports a change by more than a per-field factor.
package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tidemark/tidemark/plugins/internal/stats"
	tm "github.com/tidemark/tidemark/sdk/go"
)

func init() { tm.Register(&deviation{}) }

type deviation struct {
	fields   []stats.FieldFactor
	rule     Rule
	critMul  float64
	batch    int
	accuracy time.Duration
	warned   map[string]bool
}

func (d *deviation) Init(opts tm.Options) error {
	var err error
	if d.fields, err = stats.ParseFields(opts.Strings("fields", nil)); err != nil {
		return err
	}
	if d.rule.Direction, err = ParseDirection(opts.String("direction", "up")); err != nil {
		return err
	}
	d.rule.Factor = opts.Float("factor", 3)
	d.critMul = opts.Float("crit_multiplier", 2)
	d.rule.MinValue = opts.Float("min_value", 0)
	d.batch = opts.Int("batch_number", 1)
	if d.batch < 1 {
		return fmt.Errorf("batch_number %d: must be at least 1", d.batch)
	}
	d.accuracy = 0
	if s := opts.String("accuracy", ""); s != "" {
		if d.accuracy, err = time.ParseDuration(s); err != nil {
			return fmt.Errorf("accuracy: %w", err)
		}
	}
	d.warned = map[string]bool{}
	return nil
}

func (d *deviation) Analyze(in *tm.Input, out *tm.Emitter) error {
	// The baseline frame: with offset history the host already matched the
	// offset within its accuracy; with last-N history find the window by
	// its start (a host may leave out windows without data).
	var base tm.Frame
	switch {
	case in.HistoryOffset():
		base = in.History(d.batch)
	case d.accuracy > 0:
		base = in.FrameNear(in.Start().Add(-time.Duration(d.batch)*in.Width()), d.accuracy)
	default:
		base = in.WindowsAgo(d.batch)
	}
	if base.Missing() {
		tm.Logf(slog.LevelDebug, "no baseline window %s", base.Start())
		return nil // no baseline: nothing to compare with
	}
	what := fmt.Sprintf("%d window(s) ago", d.batch)
	if in.HistoryOffset() {
		what = fmt.Sprintf("at %s", base.Start().Format(time.RFC3339))
	}
	for _, ff := range d.fields {
		f := in.FieldIndex(ff.Name)
		if f < 0 {
			if !d.warned[ff.Name] {
				d.warned[ff.Name] = true
				tm.Logf(slog.LevelWarn, "pipeline %q has no field %q (it has %v)", in.Pipeline(), ff.Name, in.Fields())
			}
			continue
		}
		rule := d.rule
		if ff.Factor > 0 {
			rule.Factor = ff.Factor
		}
		rule.CritFactor = rule.Factor * d.critMul
		cur, past := in.Column(f), base.Column(f)
		for s := range in.Series() {
			sev, ratio, up := Judge(cur[s], past[s], rule)
			if sev == tm.OK {
				continue
			}
			dir := "up"
			if !up {
				dir = "down"
			}
			err := out.Emit(tm.Alert{
				Severity: sev, Kind: tm.Anomaly, Series: s, Field: f,
				Observed: cur[s], Expected: past[s], Lower: past[s] / rule.Factor, Upper: past[s] * rule.Factor,
				Message: fmt.Sprintf("%s %s %s× vs %s (%s → %s)", ff.Name, dir, stats.Format(ratio), what, stats.Format(past[s]), stats.Format(cur[s])),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func main() {}
