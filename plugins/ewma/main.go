// Ewma keeps an exponentially weighted mean and variance per series and
// field across windows, in host-held state (state_get/state_set), and
// reports values more than threshold standard deviations away. It needs no
// history query: its memory is the state, which survives reloads and
// restarts because the host keeps it.
package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/stats"
	tm "github.com/tidemark/tidemark/sdk/go"
)

func init() { tm.Register(&ewma{}) }

// stateKey is where the state blob lives in the instance's host state.
const stateKey = "ewma/v1"

type ewma struct {
	fields     []stats.FieldFactor
	alpha      float64
	rule       Rule
	maxAge     uint32
	maxEntries int
	state      *State // nil until loaded from the host
	warned     map[string]bool
}

func (e *ewma) Init(opts tm.Options) error {
	var err error
	if e.fields, err = stats.ParseFields(opts.Strings("fields", nil)); err != nil {
		return err
	}
	e.alpha = opts.Float("alpha", 0.1)
	if e.alpha <= 0 || e.alpha > 1 {
		return fmt.Errorf("alpha %v: must be in (0, 1]", e.alpha)
	}
	e.rule = Rule{
		Threshold: opts.Float("threshold", 3),
		CritMul:   opts.Float("crit_multiplier", 2),
		Warmup:    uint32(opts.Int("warmup", 10)),
		MinRelSD:  opts.Float("min_rel_sd", 0.01),
		MinValue:  opts.Float("min_value", 0),
	}
	if e.rule.Up, e.rule.Down, err = stats.ParseDirection(opts.String("direction", "both")); err != nil {
		return err
	}
	e.maxAge = uint32(opts.Int("expire_windows", 1000))
	e.maxEntries = opts.Int("max_series", 20000)
	e.state = nil
	e.warned = map[string]bool{}
	return nil
}

// load fetches the state from the host once per instance (after a start,
// a reload or a recreation after a failure).
func (e *ewma) load() error {
	e.state = &State{Stats: map[string]*Stat{}}
	b, err := tm.StateGet(stateKey)
	switch {
	case errors.Is(err, tm.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	if err := e.state.Unmarshal(b); err != nil {
		tm.Logf(slog.LevelWarn, "starting from empty state: %v", err)
		e.state = &State{Stats: map[string]*Stat{}}
	}
	return nil
}

func (e *ewma) Analyze(in *tm.Input, out *tm.Emitter) error {
	if e.state == nil {
		if err := e.load(); err != nil {
			return err
		}
	}
	st := e.state
	st.Seq++
	for _, ff := range e.fields {
		f := in.FieldIndex(ff.Name)
		if f < 0 {
			if !e.warned[ff.Name] {
				e.warned[ff.Name] = true
				tm.Logf(slog.LevelWarn, "pipeline %q has no field %q", in.Pipeline(), ff.Name)
			}
			continue
		}
		rule := e.rule
		if ff.Factor > 0 {
			rule.Threshold = ff.Factor
		}
		cur := in.Column(f)
		for s := range in.Series() {
			x := cur[s]
			if x != x { // NaN: no data this window
				continue
			}
			key := in.SeriesKey(s) + "\x00" + ff.Name
			stat := st.Stats[key]
			if stat == nil {
				stat = &Stat{}
				st.Stats[key] = stat
			}
			sev, z, sd := Judge(*stat, x, rule)
			mean := stat.Mean
			stat.Update(x, e.alpha)
			stat.Seen = st.Seq
			if sev == tm.OK {
				continue
			}
			err := out.Emit(tm.Alert{
				Severity: sev, Kind: tm.Anomaly, Series: s, Field: f,
				Observed: x, Expected: mean, Lower: mean - rule.Threshold*sd, Upper: mean + rule.Threshold*sd,
				Message: fmt.Sprintf("%s %sσ from its EWMA (mean %s, value %s)", ff.Name, stats.Format(z), stats.Format(mean), stats.Format(x)),
			})
			if err != nil {
				return err
			}
		}
	}
	st.Expire(e.maxAge, e.maxEntries, abi.MaxStateValue)
	return tm.StateSet(stateKey, st.Marshal())
}

func main() {}
