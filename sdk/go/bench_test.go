//go:build !wasip1

package tidemark_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidemark/tidemark/sdk/go/tmtest"
)

// BenchmarkAnalyzeCall is the cost of one analyze call of an analyzer that
// does nothing, under the real runtime, for the large golden vector (1,000
// series × 3 fields × 31 frames, 766 KB): host call + input_read copy + SDK
// decode.
// one_series shows the fixed cost of a call.
func BenchmarkAnalyzeCall(b *testing.B) {
	inst := tmtest.Start(b, tmtest.Build(b, "testdata/noop"), nil)
	for _, name := range []string{"one_series", "large"} {
		in, err := os.ReadFile(filepath.Join("..", "..", "abi", "testdata", name+".bin"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := inst.AnalyzeBytes(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/call")
		})
	}
}
