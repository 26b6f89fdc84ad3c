package main

import (
	"math"
	"slices"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/synth"
)

func TestFitTracksSeasonAndTrend(t *testing.T) {
	p := Params{Alpha: 0.3, Beta: 0.05, Gamma: 0.3, Season: 12}
	y := func(i int) float64 { return 100 + 0.5*float64(i) + 20*math.Sin(2*math.Pi*float64(i)/12) }
	var ys []float64
	for i := range 60 {
		ys = append(ys, y(i))
	}
	ys[30] = math.NaN()
	m, ok := Fit(ys, p)
	if !ok {
		t.Fatal("Fit refused 5 seasons")
	}
	for h := 1; h <= 12; h++ {
		if f := m.Forecast(h); math.Abs(f-y(59+h)) > 3 {
			t.Errorf("forecast %d = %v, want %v", h, f, y(59+h))
		}
	}
	if sd := m.ResidualSD(); sd > 3 {
		t.Errorf("residual sd %v on a noise-free series", sd)
	}
	if step, _ := m.Crossing(y(59+5)-0.5, true, 12); step < 4 || step > 6 {
		t.Errorf("crossing at step %d, want about 5", step)
	}
	if _, ok := Fit(ys[:20], p); ok {
		t.Error("Fit accepted less than two seasons")
	}
}

const season = 12

func scenario(spikeAt int, trend float64) *synth.Scenario {
	return &synth.Scenario{
		Instance: "hw-test", Width: 3600e9, Start: 1_795_791_600e9, Tag: "link",
		Series: []string{"uplink-a", "uplink-b"},
		Fields: []string{"sum_bytes"}, Windows: 80,
		Value: func(w, s, f int) float64 {
			v := synth.Seasonal(w, s, f, season, 1e9*float64(s+1), 0.4, 0.03)
			if s == 1 {
				v += trend * float64(w)
			}
			if w == spikeAt && s == 0 {
				v *= 1.8
			}
			return v
		},
	}
}

func inputs(sc *synth.Scenario) []*abi.Input {
	var ins []*abi.Input
	for w := range sc.Windows {
		ins = append(ins, sc.Input(w, 3*season))
	}
	return ins
}

func anomalies(recs []synth.Record) []synth.Record {
	return slices.DeleteFunc(slices.Clone(recs), func(r synth.Record) bool { return r.Kind != "anomaly" })
}

func TestAnomalyFiresAtSpike(t *testing.T) {
	recs := synth.RunNative(t, &holtWinters{}, map[string]any{"field": "sum_bytes", "season": float64(season)}, inputs(scenario(60, 0)))
	if got := synth.FiredAt(anomalies(recs), "uplink-a"); !slices.Equal(got, []int{60}) {
		t.Fatalf("anomaly at %v, want [60]: %+v", got, recs)
	}
}

func TestQuietOnCleanSeasonalSeries(t *testing.T) {
	recs := synth.RunNative(t, &holtWinters{}, map[string]any{"field": "sum_bytes", "season": float64(season)}, inputs(scenario(-1, 0)))
	if len(recs) != 0 {
		t.Fatalf("%d alerts: %+v", len(recs), recs[0])
	}
}

func TestPredictionBeforeTheCrossing(t *testing.T) {
	// uplink-b grows by 1% of its base per window; its seasonal peak crosses
	// 4.2e9 late in the run.
	sc := scenario(-1, 2e7)
	first := -1
	for w := range sc.Windows {
		if sc.Value(w, 1, 0) >= 4.2e9 {
			first = w
			break
		}
	}
	if first < 60 {
		t.Fatalf("scenario crosses too early (%d)", first)
	}
	recs := synth.RunNative(t, &holtWinters{}, map[string]any{
		"field": "sum_bytes", "season": float64(season), "threshold": 4.2e9, "horizon": 6.0, "crit_horizon": 1.0,
	}, inputs(sc))
	var preds []synth.Record
	for _, r := range recs {
		if r.Kind == "prediction" {
			preds = append(preds, r)
		}
	}
	if len(preds) == 0 {
		t.Fatal("no prediction")
	}
	firstPred := preds[0].Window
	if firstPred >= first || firstPred < first-6 {
		t.Fatalf("first prediction at window %d, crossing at %d (horizon 6): %+v", firstPred, first, preds)
	}
	for _, r := range preds {
		if r.Series != "uplink-b" {
			t.Fatalf("prediction for %s: %+v", r.Series, r)
		}
	}
	for _, r := range preds {
		// The forecast crossing is within a window of the real one.
		if at := r.Window + int(r.Horizon/3600e9); at < first-1 || at > first+1 {
			t.Errorf("window %d predicts the crossing at %d, it happens at %d", r.Window, at, first)
		}
	}
}

func TestGolden(t *testing.T) {
	sc := scenario(40, 2e7)
	sc.Windows = 52
	synth.CheckGolden(t, &holtWinters{}, map[string]any{"field": "sum_bytes", "season": float64(season), "threshold": 3.5e9, "horizon": 4.0}, inputs(sc))
}
