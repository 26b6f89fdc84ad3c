package main

import (
	"math"
	"slices"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/synth"
	"github.com/tidemark/tidemark/sdk/go/tmtest"
)

func TestStatUpdateConverges(t *testing.T) {
	var s Stat
	for i := range 2000 {
		s.Update(100+10*synth.Noise(i, 0, 0), 0.05) // uniform ±10: σ ≈ 5.77
	}
	if math.Abs(s.Mean-100) > 2 || math.Abs(math.Sqrt(s.Var)-5.77) > 1.5 {
		t.Fatalf("mean %v sd %v", s.Mean, math.Sqrt(s.Var))
	}
	r := Rule{Threshold: 3, CritMul: 2, Warmup: 10, Up: true, Down: true}
	if sev, _, _ := Judge(s, 100+4*math.Sqrt(s.Var), r); sev != abi.SeverityWarn {
		t.Fatalf("4σ: %v", sev)
	}
	if sev, _, _ := Judge(s, 100-7*math.Sqrt(s.Var), r); sev != abi.SeverityCrit {
		t.Fatalf("-7σ: %v", sev)
	}
	if sev, _, _ := Judge(Stat{N: 3}, 1e9, r); sev != abi.SeverityOK {
		t.Fatal("judged during warmup")
	}
}

func TestStateRoundTripAndExpire(t *testing.T) {
	st := &State{Seq: 10, Stats: map[string]*Stat{
		"a\x00f": {Mean: 1, Var: 2, N: 3, Seen: 10},
		"b\x00f": {Mean: 4, Var: 5, N: 6, Seen: 2},
		"c\x00f": {Mean: 7, Var: 8, N: 9, Seen: 9},
	}}
	var back State
	if err := back.Unmarshal(st.Marshal()); err != nil {
		t.Fatal(err)
	}
	if back.Seq != 10 || *back.Stats["b\x00f"] != *st.Stats["b\x00f"] {
		t.Fatalf("round trip: %+v", back)
	}
	if err := back.Unmarshal(st.Marshal()[:20]); err == nil {
		t.Fatal("truncated state accepted")
	}
	st.Expire(5, 10, 1<<20)
	if _, ok := st.Stats["b\x00f"]; ok || len(st.Stats) != 2 {
		t.Fatalf("expire by age: %v", st.Stats)
	}
	st.Stats["b\x00f"] = &Stat{Seen: 10}
	st.Expire(5, 10, len(st.Marshal())-1) // one entry too many for the byte budget
	if _, ok := st.Stats["c\x00f"]; ok || len(st.Stats) != 2 {
		t.Fatalf("expire by size kept %v", st.Stats)
	}
	st.Expire(5, 1, 1<<20)
	if _, ok := st.Stats["b\x00f"]; !ok || len(st.Stats) != 1 {
		t.Fatalf("expire by count kept %v", st.Stats)
	}
}

func scenario(at, series int, mult float64) *synth.Scenario {
	return &synth.Scenario{
		Instance: "ewma-test", Width: 60e9, Start: 1_795_791_600e9, Tag: "subnet",
		Series: []string{"10.0.0.0/24", "10.0.1.0/24", "192.168.0.0/16"},
		Fields: []string{"count"}, Windows: 120,
		Value: func(w, s, f int) float64 {
			v := synth.Seasonal(w, s, f, 240, 800*float64(s+1), 0.3, 0.05)
			if w == at && s == series {
				v *= mult
			}
			return v
		},
	}
}

func inputs(sc *synth.Scenario) []*abi.Input {
	var ins []*abi.Input
	for w := range sc.Windows {
		ins = append(ins, sc.Input(w, 0))
	}
	return ins
}

func TestSpikeFiresAndStateIsHostHeld(t *testing.T) {
	opts := map[string]any{"fields": []any{"count"}}
	recs := synth.RunNative(t, &ewma{}, opts, inputs(scenario(90, 2, 1.6)))
	if got := synth.FiredAt(recs, ""); !slices.Equal(got, []int{90}) {
		t.Fatalf("fired at %v, want [90]: %+v", got, recs)
	}

	// A new instance (reload, restart) continues from the host's state: no
	// warmup, so the spike in its first window is caught.
	manifest := []byte(`{"name":"ewma","version":"1","abi":"1.0","options":{"fields":{"type":"[]string"}}}`)
	first := tmtest.NewNative(t, &ewma{}, manifest, opts)
	sc := scenario(30, 0, 2)
	for w := range 30 {
		if _, err := first.Analyze(sc.Input(w, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if len(first.Host.State()[stateKey]) == 0 {
		t.Fatal("no state written to the host")
	}
	second := tmtest.NewNative(t, &ewma{}, manifest, opts)
	second.Host = first.Host
	alerts, err := second.Analyze(sc.Input(30, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Series != 0 {
		t.Fatalf("second instance after 30 windows of state: %+v", alerts)
	}
}

func TestQuietOnSeasonalSeries(t *testing.T) {
	recs := synth.RunNative(t, &ewma{}, map[string]any{"fields": []any{"count"}}, inputs(scenario(-1, 0, 1)))
	if len(recs) != 0 {
		t.Fatalf("%d alerts: %+v", len(recs), recs[0])
	}
}

func TestGolden(t *testing.T) {
	sc := scenario(25, 1, 0.3)
	sc.Windows = 30
	synth.CheckGolden(t, &ewma{}, map[string]any{"fields": []any{"count"}, "warmup": 8.0, "alpha": 0.2}, inputs(sc))
}
