package main

import (
	"fmt"
	"testing"

	"github.com/tidemark/tidemark/sdk/go/tmtest"
)

func BenchmarkNativeAnalyze(b *testing.B) {
	sc := scenario(-1, 0, 1)
	for i := len(sc.Series); i < 1000; i++ {
		sc.Series = append(sc.Series, fmt.Sprintf("s%d", i))
	}
	in := sc.Input(40, 30)
	n := tmtest.NewNative(b, &zscore{}, nil, map[string]any{"fields": []any{"sum_packets"}})
	for b.Loop() {
		if _, err := n.Analyze(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
}
