// Ddos watches traffic per destination (the pipeline's group_by key, e.g.
// dst_ip) and reports a destination whose packets and distinct sources are
// both far above its own baseline: the median of its history windows.
package main

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/tidemark/tidemark/plugins/internal/stats"
	tm "github.com/tidemark/tidemark/sdk/go"
)

func init() { tm.Register(&ddos{}) }

type ddos struct {
	packetsField, sourcesField string
	rule                       Rule
	minWindows                 int
	scratch                    []float64
	warned                     bool
}

func (d *ddos) Init(opts tm.Options) error {
	d.packetsField = opts.String("packets_field", "sum_packets")
	d.sourcesField = opts.String("sources_field", "distinct_src_ip")
	d.rule = Rule{
		Factor:        opts.Float("factor", 10),
		SourcesFactor: opts.Float("sources_factor", 5),
		CritMul:       opts.Float("crit_multiplier", 5),
		MinPackets:    opts.Float("min_packets", 10000),
		MinSources:    opts.Float("min_sources", 50),
	}
	if d.rule.Factor <= 0 || d.rule.SourcesFactor <= 0 {
		return fmt.Errorf("factor and sources_factor must be positive")
	}
	d.minWindows = opts.Int("min_windows", 3)
	d.warned = false
	return nil
}

// baseline is the median of the finite values of series s over the history.
func (d *ddos) baseline(in *tm.Input, f, s int) float64 {
	d.scratch = d.scratch[:0]
	for k := 1; k <= in.HistoryLen(); k++ {
		if v := in.History(k).Column(f)[s]; !math.IsNaN(v) && !math.IsInf(v, 0) {
			d.scratch = append(d.scratch, v)
		}
	}
	if len(d.scratch) < d.minWindows {
		return math.NaN()
	}
	return stats.Median(d.scratch)
}

func (d *ddos) Analyze(in *tm.Input, out *tm.Emitter) error {
	pf, sf := in.FieldIndex(d.packetsField), in.FieldIndex(d.sourcesField)
	if pf < 0 || sf < 0 {
		if !d.warned {
			d.warned = true
			tm.Logf(slog.LevelWarn, "pipeline %q needs fields %q and %q (it has %v)", in.Pipeline(), d.packetsField, d.sourcesField, in.Fields())
		}
		return nil
	}
	packets, sources := in.Column(pf), in.Column(sf)
	for s := range in.Series() {
		// Cheap pre-check before the baseline medians: most destinations
		// are far below the floors.
		if !(packets[s] >= d.rule.MinPackets) || !(sources[s] >= d.rule.MinSources) {
			continue
		}
		b := Baseline{Packets: d.baseline(in, pf, s), Sources: d.baseline(in, sf, s)}
		if math.IsNaN(b.Packets) && in.HistoryIncomplete() {
			// Not in the history we have, but the history is incomplete
			// (start-up, query failure): it may not be new at all.
			continue
		}
		sev, pr, sr := Judge(packets[s], sources[s], b, d.rule)
		if sev == tm.OK {
			continue
		}
		base := "no baseline"
		if !math.IsNaN(b.Packets) {
			base = fmt.Sprintf("baseline %s packets, %s sources", stats.Format(b.Packets), stats.Format(b.Sources))
		}
		err := out.Emit(tm.Alert{
			Severity: sev, Kind: tm.Anomaly, Series: s, Field: pf,
			Observed: packets[s], Expected: b.Packets, Lower: math.NaN(), Upper: d.rule.Factor * math.Max(b.Packets, d.rule.MinPackets/d.rule.Factor),
			Message: fmt.Sprintf("possible DDoS on %s: %s packets (%s×) from %s sources (%s×), %s",
				in.SeriesKey(s), stats.Format(packets[s]), stats.Format(pr), stats.Format(sources[s]), stats.Format(sr), base),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func main() {}
