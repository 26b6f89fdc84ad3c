package runtime

import (
	"context"
	"encoding/binary"
	"github.com/tidemark/tidemark/internal/cpuclock"
	"math"
	goruntime "runtime"
	"slices"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/runtime/internal/wasmbin"
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

type limitMode struct {
	name   string
	mode   deadlineMode
	checks wasmbin.Options
}

var limitModes = []limitMode{
	{"unlimited", deadlineNone, wasmbin.Options{}},
	{"closeOnContextDone", deadlineCloseOnDone, wasmbin.Options{}},
	{"interrupt", deadlineInterrupt, wasmbin.Options{}}, // the default: loop counter + entry counter
	{"interruptFlagAtLoops", deadlineInterrupt, wasmbin.Options{FunctionEntry: true}},
}

func benchInstance(b *testing.B, wasm []byte, lm limitMode) *Instance {
	ctx := context.Background()
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
	in, err := m.Instantiate(ctx, InstanceConfig{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// threadCPU is the calling thread's CPU time (the goroutine is locked to it).
func threadCPU() time.Duration {
	d, ok := cpuclock.Thread()
	if !ok {
		panic("no thread CPU clock on this platform")
	}
	return d
}

// BenchmarkCallLimitCost compares the per-call deadline mechanisms on a
// compute-heavy guest (median + MAD of 1,000 series × 30 values). The
// "interleaved" case alternates them on every iteration and measures the
// calling thread's CPU time (the goroutine is locked to it), so that the
// other users of a shared machine do not show up as cost; it reports the
// medians and their ratios to the unlimited call.
func BenchmarkCallLimitCost(b *testing.B) {
	wasm := runtimetest.Guest(b, "compute", "")
	input := computeInput()
	ctx := context.Background()
	for _, lm := range limitModes {
		b.Run(lm.name, func(b *testing.B) {
			in := benchInstance(b, wasm, lm)
			for b.Loop() {
				if err := in.Analyze(ctx, input); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		ins := make([]*Instance, len(limitModes))
		for i, lm := range limitModes {
			ins[i] = benchInstance(b, wasm, lm)
		}
		interleave(b, limitModes, ins, input)
	})
}

// interleave calls each instance (one per mode, modes[0] unlimited) on
// input in rotating order, timing each call in the calling thread's CPU
// time so other users of a shared machine do not count, and reports the
// median per mode and its ratio to the unlimited one.
func interleave(b *testing.B, modes []limitMode, ins []*Instance, input []byte) {
	ctx := context.Background()
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	spent := make([][]time.Duration, len(modes))
	for n := 0; b.Loop(); n++ {
		for k := range ins {
			i := (n + k) % len(ins) // rotate the order: no mode always follows another
			t0 := threadCPU()
			if err := ins[i].Analyze(ctx, input); err != nil {
				b.Fatal(err)
			}
			spent[i] = append(spent[i], threadCPU()-t0)
		}
	}
	med := make([]float64, len(modes))
	for i, lm := range modes {
		slices.Sort(spent[i])
		med[i] = float64(spent[i][len(spent[i])/2].Nanoseconds()) / 1e3
		b.ReportMetric(med[i], lm.name+"-cpu-µs/call")
		if i > 0 {
			b.ReportMetric(med[i]/med[0], lm.name+"/unlimited")
		}
	}
}
