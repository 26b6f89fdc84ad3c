package runtime_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/host/runtime/runtimetest"
)

// BenchmarkAnalyzeCall measures the host's per-call overhead: a guest that
// only copies a 1,000 series × 30 windows input (≈250 KB) into its memory.
func BenchmarkAnalyzeCall(b *testing.B) {
	ctx := context.Background()
	rt := newRuntime(b, runtime.NewConfig())
	in := instantiate(b, compile(b, rt, "ok"), runtime.InstanceConfig{Name: "bench", Host: &runtimetest.Host{}})
	input := make([]byte, 1000*30*8+1024) // f64 per series per window + tag dictionary
	cpu0 := processCPU()
	for b.Loop() {
		if err := in.Analyze(ctx, input); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
	// CPU time used by the process: unlike wall time, not inflated by the
	// other users of a shared machine
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
}

// BenchmarkStartFromCache measures a restart: a new runtime on a warm
// on-disk compilation cache, compile (a cache hit) and instantiate + init.
func BenchmarkStartFromCache(b *testing.B) {
	ctx := context.Background()
	wasm := runtimetest.Guest(b, "ok", "")
	dir := b.TempDir()
	warm := func() {
		rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(dir))
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		m, err := rt.Compile(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		in, err := m.Instantiate(ctx, runtime.InstanceConfig{Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		in.Close(ctx)
	}
	warm()
	cpu0 := processCPU()
	for b.Loop() {
		warm()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/start")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/start")
}

// processCPU is the user+system CPU time of this process.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
