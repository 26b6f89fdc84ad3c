package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime/internal/wasmbin"
	"github.com/tidemark/tidemark/host/runtime/runtimetest"
)

// pluginInput is one window of 1,000 series with 30 history windows of a
// daily-ish seasonal field, as the zscore and holt-winters analyzers see it.
func pluginInput() []byte {
	const series, hist = 1000, 30
	const size = int64(10 * time.Second)
	in := &abi.Input{Instance: "bench", Pipeline: "p", TagNames: []string{"dst"}, FieldNames: []string{"sum_bytes"},
		Series: series, WindowStart: 1_000_000 * size, WindowEnd: 1_000_001 * size}
	for s := 0; s < series; s++ {
		in.Dict = append(in.Dict, fmt.Sprintf("10.0.%d.%d", s/256, s%256))
		in.SeriesTags = append(in.SeriesTags, uint32(s))
	}
	for f := 0; f <= hist; f++ {
		start := in.WindowStart - int64(f)*size
		col := make([]float64, series)
		for s := range col {
			col[s] = 1000 + 300*math.Sin(float64(f)*2*math.Pi/24) + float64((s*7919+f*31)%97)
		}
		in.Frames = append(in.Frames, abi.Frame{Start: start, End: start + size, Columns: [][]float64{col}})
	}
	return in.Encode(nil)
}

// BenchmarkPluginLimitCost is the deadline's cost on the built-in zscore
// and holt-winters guests (make plugins builds them): each call runs the
// analyzer on 1,000 series × 30 history windows; the modes alternate on
// every iteration and are timed in the calling thread's CPU time, so other
// users of a shared machine do not count. Target: limited ≤ 1.2 × unlimited.
func BenchmarkPluginLimitCost(b *testing.B) {
	for _, p := range []struct{ name, opts string }{
		{"zscore", `{"fields":["sum_bytes"]}`},
		{"holt-winters", `{"field":"sum_bytes","season":24}`},
	} {
		b.Run(p.name, func(b *testing.B) {
			wasm, err := os.ReadFile("../../plugins/" + p.name + ".wasm")
			if err != nil {
				b.Fatalf("%v: run `make plugins`", err)
			}
			opts, err := resolvedOptions(wasm, p.opts)
			if err != nil {
				b.Fatal(err)
			}
			input := pluginInput()
			ctx := context.Background()
			modes := []limitMode{limitModes[0], limitModes[1], limitModes[2],
				{"interruptLoopsOnly", deadlineInterrupt, wasmbin.Options{LoopCounter: true}}}
			ins := make([]*Instance, len(modes))
			for i, lm := range modes {
				cfg := NewConfig().WithCacheDir(runtimetest.CompilationCacheDir()).WithCallTimeout(10 * time.Second)
				cfg.deadline, cfg.checks = lm.mode, lm.checks
				rt, err := New(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { rt.Close(ctx) })
				m, err := rt.Compile(ctx, wasm)
				if err != nil {
					b.Fatal(err)
				}
				if ins[i], err = m.Instantiate(ctx, InstanceConfig{Name: "bench", Options: opts, Host: nopHost{}}); err != nil {
					b.Fatal(err)
				}
			}
			interleave(b, modes, ins, input)
		})
	}
}

func resolvedOptions(wasm []byte, opts string) ([]byte, error) {
	man, err := abi.ReadManifest(wasm)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(opts), &m); err != nil {
		return nil, err
	}
	return man.OptionsJSON(m)
}

type nopHost struct{}

func (nopHost) EmitAlert([]byte) error         { return nil }
func (nopHost) Log(int, string)                {}
func (nopHost) StateGet(string) ([]byte, bool) { return nil, false }
func (nopHost) StateSet(string, []byte) error  { return nil }
func (nopHost) Query([]byte) ([]byte, error)   { return nil, nil }
