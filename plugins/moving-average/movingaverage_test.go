package main

import (
	"math"
	"slices"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/synth"
)

func TestMeanAndJudge(t *testing.T) {
	hist := []float64{0, 10, math.NaN(), 20, 30}
	mean, n := Mean(func(k int) float64 { return hist[k] }, 4)
	if mean != 20 || n != 3 {
		t.Fatalf("Mean = %v over %d", mean, n)
	}
	r := Rule{Threshold: 0.5, CritMul: 2, MinWindows: 3, Up: true, Down: true}
	for _, c := range []struct {
		cur, mean float64
		n         int
		want      abi.Severity
	}{
		{29, 20, 3, abi.SeverityOK},
		{31, 20, 3, abi.SeverityWarn},
		{41, 20, 3, abi.SeverityCrit},
		{9, 20, 3, abi.SeverityWarn},
		{41, 20, 2, abi.SeverityOK}, // not enough history
		{5, 0, 3, abi.SeverityCrit},
	} {
		if got, _ := Judge(c.cur, c.mean, c.n, r); got != c.want {
			t.Errorf("Judge(%v, %v, %d) = %v, want %v", c.cur, c.mean, c.n, got, c.want)
		}
	}
}

func scenario(at, series int, mult float64) *synth.Scenario {
	return &synth.Scenario{
		Instance: "ma-test", Width: 300e9, Start: 1_795_791_600e9, Tag: "asn",
		Series: []string{"AS3320", "AS15169", "AS13335", "AS16509", "AS8075"},
		Fields: []string{"sum_bytes"}, Windows: 80,
		Value: func(w, s, f int) float64 {
			// slow seasonality: a 10-window average follows it within 20%.
			v := synth.Seasonal(w, s, f, 288, 1e6*float64(s+1), 0.3, 0.08)
			if w >= at && w < at+3 && s == series {
				v *= mult
			}
			return v
		},
	}
}

func inputs(sc *synth.Scenario, history int) []*abi.Input {
	var ins []*abi.Input
	for w := range sc.Windows {
		ins = append(ins, sc.Input(w, history))
	}
	return ins
}

func TestShiftFiresWhileItLasts(t *testing.T) {
	recs := synth.RunNative(t, &movingAverage{}, map[string]any{"fields": []any{"sum_bytes"}}, inputs(scenario(50, 2, 0.2), 10))
	if got := synth.FiredAt(recs, ""); !slices.Equal(got, []int{50, 51, 52}) {
		t.Fatalf("fired at %v, want [50 51 52]: %+v", got, recs)
	}
	if recs[0].Series != "AS13335" || recs[0].Severity != "warn" {
		t.Fatalf("%+v", recs[0])
	}
}

func TestQuietOnCleanSeries(t *testing.T) {
	recs := synth.RunNative(t, &movingAverage{}, map[string]any{"fields": []any{"sum_bytes"}, "threshold": 0.3}, inputs(scenario(-10, 0, 1), 10))
	if len(recs) != 0 {
		t.Fatalf("%d alerts on a clean series: %+v", len(recs), recs[0])
	}
}

func TestGolden(t *testing.T) {
	sc := scenario(12, 1, 3)
	sc.Windows = 18
	synth.CheckGolden(t, &movingAverage{}, map[string]any{"fields": []any{"sum_bytes"}, "num_average": 6.0}, inputs(sc, 6))
}
