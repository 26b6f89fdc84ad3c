package main

import (
	"math"
	"slices"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/synth"
)

func TestJudge(t *testing.T) {
	r := Rule{Factor: 3, CritFactor: 6, MinValue: 10, Direction: Up}
	for _, c := range []struct {
		cur, base float64
		want      abi.Severity
	}{
		{100, 100, abi.SeverityOK},
		{299, 100, abi.SeverityOK},
		{300, 100, abi.SeverityWarn},
		{600, 100, abi.SeverityCrit},
		{10, 0, abi.SeverityCrit}, // from nothing
		{5, 1, abi.SeverityOK},    // below min_value
		{1, 100, abi.SeverityOK},  // down, not watched
		{math.NaN(), 1, abi.SeverityOK},
		{100, math.NaN(), abi.SeverityOK},
	} {
		if got, _, _ := Judge(c.cur, c.base, r); got != c.want {
			t.Errorf("Judge(%v, %v) = %v, want %v", c.cur, c.base, got, c.want)
		}
	}
	r.Direction = Both
	if got, ratio, up := Judge(10, 100, r); got != abi.SeverityCrit || ratio != 10 || up {
		t.Errorf("down 10×: %v %v %v", got, ratio, up)
	}
}

func scenario(spikeAt, spikeSeries int, mult float64) *synth.Scenario {
	return &synth.Scenario{
		Instance: "deviation-test", Width: 60e9, Start: 1_795_791_600e9, Tag: "country",
		Series: []string{"DE", "FR", "US", "JP", "BR", "IN", "ZA", "AU"},
		Fields: []string{"sum_bytes", "count"}, Windows: 72,
		Value: func(w, s, f int) float64 {
			v := synth.Seasonal(w, s, f, 24, float64(1000*(s+1)), 0.5, 0.1)
			if w == spikeAt && s == spikeSeries && f == 0 {
				v *= mult
			}
			return v
		},
	}
}

func run(t *testing.T, sc *synth.Scenario, opts map[string]any, history int) []synth.Record {
	var inputs []*abi.Input
	for w := range sc.Windows {
		inputs = append(inputs, sc.Input(w, history))
	}
	return synth.RunNative(t, &deviation{}, opts, inputs)
}

func TestSpikeFiresAtItsWindow(t *testing.T) {
	recs := run(t, scenario(40, 3, 8), map[string]any{"fields": []any{"sum_bytes", "count"}}, 1)
	if got := synth.FiredAt(recs, ""); !slices.Equal(got, []int{40}) {
		t.Fatalf("fired at %v, want [40]: %+v", got, recs)
	}
	if recs[0].Series != "JP" || recs[0].Field != "sum_bytes" || recs[0].Severity != "crit" {
		t.Fatalf("alert %+v", recs[0])
	}
}

func TestPerFieldFactorAndDirection(t *testing.T) {
	sc := scenario(30, 1, 4) // 4×: warn with factor 3, ignored with factor 5
	if recs := run(t, sc, map[string]any{"fields": []any{"sum_bytes:5"}}, 1); len(recs) != 0 {
		t.Fatalf("per-field factor 5 ignored: %+v", recs)
	}
	// With direction both, the return to normal one window later is a drop.
	recs := run(t, sc, map[string]any{"fields": []any{"sum_bytes"}, "direction": "both"}, 1)
	if got := synth.FiredAt(recs, "FR"); !slices.Equal(got, []int{30, 31}) {
		t.Fatalf("fired at %v, want [30 31]", got)
	}
}

func TestSameWindowYesterdayStaysQuietOnSeasonalTraffic(t *testing.T) {
	// batch_number 24 with a 24-window season: the baseline is the same phase.
	recs := run(t, scenario(-1, 0, 1), map[string]any{"fields": []any{"sum_bytes", "count"}, "batch_number": 24.0, "factor": 1.5}, 24)
	if len(recs) != 0 {
		t.Fatalf("clean seasonal series raised %d alerts: %+v", len(recs), recs[0])
	}
}

func TestGolden(t *testing.T) {
	sc := scenario(8, 2, 4)
	sc.Series, sc.Windows = sc.Series[:4], 12
	var inputs []*abi.Input
	for w := range sc.Windows {
		inputs = append(inputs, sc.Input(w, 2))
	}
	synth.CheckGolden(t, &deviation{}, map[string]any{"fields": []any{"sum_bytes", "count:2"}, "direction": "both"}, inputs)
}

// A host may leave out a history window that has no data: the baseline is
// found by start time, never by position.
func TestBaselineFoundByStartTime(t *testing.T) {
	sc := scenario(40, 3, 8)
	in := sc.Input(40, 3)
	in.Frames = append(in.Frames[:1], in.Frames[2:]...) // drop "1 window ago"
	opts := map[string]any{"fields": []any{"sum_bytes"}}
	if recs := synth.RunNative(t, &deviation{}, opts, []*abi.Input{in}); len(recs) != 0 {
		t.Fatalf("compared with the wrong window: %+v", recs)
	}
	opts["batch_number"] = 2.0
	recs := synth.RunNative(t, &deviation{}, opts, []*abi.Input{in})
	if len(recs) != 1 || recs[0].Series != "JP" {
		t.Fatalf("batch_number 2: %+v", recs)
	}
	// With accuracy, a frame a few seconds off still counts.
	in.Frames[1].Start += 2e9
	opts["accuracy"] = "3s"
	if recs := synth.RunNative(t, &deviation{}, opts, []*abi.Input{in}); len(recs) != 1 {
		t.Fatalf("accuracy 3s: %+v", recs)
	}
	opts["accuracy"] = "1s"
	if recs := synth.RunNative(t, &deviation{}, opts, []*abi.Input{in}); len(recs) != 0 {
		t.Fatalf("accuracy 1s: %+v", recs)
	}
}
