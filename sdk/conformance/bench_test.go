package conformance

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/runtime"
)

// benchModule is the reference module of a language, built as in the test.
func benchModule(b *testing.B, lang string) []byte {
	switch lang {
	case "go":
		return buildGo(b)
	case "rust":
		return buildRust(b)
	default:
		return buildAS(b)
	}
}

// BenchmarkReferenceAnalyze: one analyze call of the reference module on
// 1,000 series × 2 fields × (1 + 30 history) frames, under the real host.
func BenchmarkReferenceAnalyze(b *testing.B) {
	input := Generated(1000, 30, 2).Encode(nil)
	opts, _ := json.Marshal(map[string]any{"field": "sum_bytes", "threshold": 3.0, "min_history": 3.0})
	for _, lang := range []string{"assemblyscript", "rust", "go"} {
		b.Run(lang, func(b *testing.B) {
			rt := newRuntime(b)
			m := compileModule(b, rt, lang, benchModule(b, lang))
			ctx := context.Background()
			in, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "bench", Options: opts, Host: &collector{}})
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close(ctx)
			c := &collector{}
			in2, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "bench", Options: opts, Host: c})
			if err != nil {
				b.Fatal(err)
			}
			defer in2.Close(ctx)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				c.alerts = c.alerts[:0]
				if err := in2.Analyze(ctx, input); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/call")
			b.ReportMetric(float64(len(c.alerts)), "alerts/call")
		})
	}
}

// BenchmarkReferenceInstantiate: instantiate + _initialize + tidemark_init of
// an already compiled reference module (what recreating an instance costs).
func BenchmarkReferenceInstantiate(b *testing.B) {
	opts, _ := json.Marshal(map[string]any{"field": "sum_bytes"})
	for _, lang := range []string{"assemblyscript", "rust", "go"} {
		b.Run(lang, func(b *testing.B) {
			rt := newRuntime(b)
			m := compileModule(b, rt, lang, benchModule(b, lang))
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				in, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "bench", Options: opts, Host: &collector{}})
				if err != nil {
					b.Fatal(err)
				}
				in.Close(ctx)
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/instantiate")
		})
	}
}

// BenchmarkAssemblyScriptSDKOverhead: one analyze call of the AS SDK's test
// module, whose analyzer does nothing: what the host crossing, input_read of
// the whole input, the SDK's checks and the end-of-call collection cost on
// 1,000 series × 2 fields × 31 frames.
func BenchmarkAssemblyScriptSDKOverhead(b *testing.B) {
	input := Generated(1000, 30, 2).Encode(nil)
	rt := newRuntime(b)
	m := compileModule(b, rt, "assemblyscript-harness", buildASHarness(b))
	ctx := context.Background()
	in, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "bench", Options: []byte("{}"), Host: &collector{}})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(ctx)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := in.Analyze(ctx, input); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/call")
}
