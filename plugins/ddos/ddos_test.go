package main

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/synth"
)

func TestJudge(t *testing.T) {
	r := Rule{Factor: 10, SourcesFactor: 5, CritMul: 5, MinPackets: 10000, MinSources: 50}
	base := Baseline{Packets: 5000, Sources: 40}
	for _, c := range []struct {
		name             string
		packets, sources float64
		b                Baseline
		want             abi.Severity
	}{
		{"normal", 6000, 45, base, abi.SeverityOK},
		{"flood", 60000, 400, base, abi.SeverityWarn},
		{"huge flood", 300000, 400, base, abi.SeverityCrit},
		{"one heavy sender", 60000, 45, base, abi.SeverityOK},
		{"many sources, few packets", 5000, 4000, base, abi.SeverityOK},
		{"new destination flooded", 20000, 300, Baseline{math.NaN(), math.NaN()}, abi.SeverityWarn},
		{"new destination, normal", 2000, 10, Baseline{math.NaN(), math.NaN()}, abi.SeverityOK},
	} {
		if got, _, _ := Judge(c.packets, c.sources, c.b, r); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// scenario: 40 destinations with seasonal traffic; dst 7 is attacked from
// many sources in windows [at, at+2); dst 3 gets one heavy sender (packets
// up, sources not) at window 50; dst 39 never has traffic, except a flood
// at window at+10.
func scenario(at int) *synth.Scenario {
	var dsts []string
	for i := range 40 {
		dsts = append(dsts, fmt.Sprintf("198.51.100.%d", i+1))
	}
	return &synth.Scenario{
		Instance: "ddos-test", Width: 10e9, Start: 1_795_791_600e9, Tag: "dst_ip",
		Series: dsts, Fields: []string{"sum_packets", "distinct_src_ip"}, Windows: 90,
		Value: func(w, s, f int) float64 {
			if s == 39 {
				if w == at+10 {
					return []float64{150000, 3000}[f]
				}
				return math.NaN()
			}
			base := []float64{20000, 120}[f] * (1 + float64(s%5))
			v := synth.Seasonal(w, s, f, 360, base, 0.4, 0.2)
			if s == 7 && w >= at && w < at+2 {
				v *= []float64{25, 40}[f]
			}
			if s == 3 && w == 50 && f == 0 {
				v *= 30
			}
			return math.Round(v)
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

func TestAttackFiresOnlyForTheVictim(t *testing.T) {
	recs := synth.RunNative(t, &ddos{}, nil, inputs(scenario(70), 30))
	if got := synth.FiredAt(recs, "198.51.100.8"); !slices.Equal(got, []int{70, 71}) {
		t.Fatalf("victim: fired at %v, want [70 71]: %+v", got, recs)
	}
	if got := synth.FiredAt(recs, "198.51.100.40"); !slices.Equal(got, []int{80}) {
		t.Fatalf("new destination: fired at %v, want [80]: %+v", got, recs)
	}
	if len(recs) != 3 {
		t.Fatalf("%d alerts, want 3: %+v", len(recs), recs)
	}
}

func TestQuietWithoutAttack(t *testing.T) {
	recs := synth.RunNative(t, &ddos{}, nil, inputs(scenario(-10), 30))
	if len(recs) != 0 {
		t.Fatalf("%d alerts without attack: %+v", len(recs), recs[0])
	}
}

func TestGolden(t *testing.T) {
	sc := scenario(12)
	sc.Series, sc.Windows = sc.Series[:10], 16
	synth.CheckGolden(t, &ddos{}, map[string]any{"min_packets": 5000.0}, inputs(sc, 8))
}
