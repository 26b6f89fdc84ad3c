package runtime

import (
	"context"
	"encoding/binary"
	"math"
	"testing"

	"github.com/tidemark/tidemark/host/runtime/runtimetest"
)

// computeInput is 1,000 series × 30 float64 values, series-major.
func computeInput() []byte {
	b := make([]byte, 0, 1000*30*8)
	for i := 0; i < 1000*30; i++ {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64((i*7919)%1013)/3.0))
	}
	return b
}

// BenchmarkCallLimitCost compares the per-call deadline mechanisms on a
// compute-heavy guest (median + MAD of 1,000 series × 30 values).
func BenchmarkCallLimitCost(b *testing.B) {
	wasm := runtimetest.Guest(b, "compute", "")
	input := computeInput()
	for _, mode := range []struct {
		name string
		mode deadlineMode
	}{{"unlimited", deadlineNone}, {"closeOnContextDone", deadlineCloseOnDone}, {"interrupt", deadlineInterrupt}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			cfg := NewConfig()
			cfg.deadline = mode.mode
			rt, err := New(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close(ctx)
			m, err := rt.Compile(ctx, wasm)
			if err != nil {
				b.Fatal(err)
			}
			in, err := m.Instantiate(ctx, InstanceConfig{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close(ctx)
			b.ResetTimer()
			for b.Loop() {
				if err := in.Analyze(ctx, input); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
		})
	}
}
