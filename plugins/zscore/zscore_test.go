package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/plugins/internal/synth"
	"github.com/tidemark/tidemark/sdk/go/tmtest"
)

func TestRobustZ(t *testing.T) {
	z, med, scale := RobustZ(20, []float64{9, 10, 11, 10, 10, 12, 8, 1000})
	// median 10, MAD 1 → scale 1/0.6745; the 1000 outlier does not matter.
	if med != 10 || math.Abs(scale-1/0.6745) > 1e-12 || math.Abs(z-10*0.6745) > 1e-9 {
		t.Fatalf("z %v median %v scale %v", z, med, scale)
	}
	if z, _, _ := RobustZ(5, []float64{5, 5, 5, 5}); z != 0 {
		t.Fatalf("constant history, same value: z %v", z)
	}
	if z, _, _ := RobustZ(6, []float64{5, 5, 5, 5}); !math.IsInf(z, 1) {
		t.Fatalf("constant history, changed value: z %v", z)
	}
	if z, _, scale := RobustZ(9, []float64{5, 5, 5, 7}); scale == 0 || z <= 0 {
		t.Fatalf("MAD 0 fallback: z %v scale %v", z, scale)
	}
	r := Rule{Threshold: 3.5, CritMul: 1.5, MinWindows: 3, Up: true, Down: true}
	if Judge(20, 10, 6.7, 8, r) != abi.SeverityCrit || Judge(14, 10, 4, 8, r) != abi.SeverityWarn || Judge(14, 10, 4, 2, r) != abi.SeverityOK {
		t.Fatal("Judge thresholds")
	}
}

func scenario(at, series int, mult float64) *synth.Scenario {
	return &synth.Scenario{
		Instance: "zscore-test", Width: 60e9, Start: 1_795_791_600e9, Tag: "proto",
		Series: []string{"tcp", "udp", "icmp", "gre"},
		Fields: []string{"sum_packets"}, Windows: 100,
		Value: func(w, s, f int) float64 {
			v := 5000 * float64(s+1) * (1 + 0.1*synth.Noise(w, s, f))
			// an earlier spike in the history must not mask later ones
			if (w == at || w == at-15) && s == series {
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

func TestSpikesFireDespiteEarlierSpike(t *testing.T) {
	recs := synth.RunNative(t, &zscore{}, map[string]any{"fields": []any{"sum_packets"}}, inputs(scenario(60, 1, 2), 30))
	if got := synth.FiredAt(recs, ""); !slices.Equal(got, []int{45, 60}) {
		t.Fatalf("fired at %v, want [45 60]: %+v", got, recs)
	}
}

func TestQuietOnNoise(t *testing.T) {
	recs := synth.RunNative(t, &zscore{}, map[string]any{"fields": []any{"sum_packets"}}, inputs(scenario(-100, 0, 1), 30))
	if len(recs) != 0 {
		t.Fatalf("%d alerts on noise: %+v", len(recs), recs[0])
	}
}

func TestGolden(t *testing.T) {
	sc := scenario(20, 2, 0.3)
	sc.Windows = 24
	synth.CheckGolden(t, &zscore{}, map[string]any{"fields": []any{"sum_packets"}, "min_windows": 5.0}, inputs(sc, 10))
}

// BenchmarkWasmAnalyze: one window of 1,000 series with 30 history frames
// through the zscore module under the real runtime.
func BenchmarkWasmAnalyze(b *testing.B) {
	sc := scenario(-1, 0, 1)
	for i := len(sc.Series); i < 1000; i++ {
		sc.Series = append(sc.Series, fmt.Sprintf("s%d", i))
	}
	in := sc.Input(40, 30)
	dir, _ := filepath.Abs(".")
	inst := tmtest.Start(b, tmtest.Build(b, dir), map[string]any{"fields": []any{"sum_packets"}})
	for b.Loop() {
		if _, err := inst.Analyze(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
}
