// Tests that run the Rust SDK's reference analyzer under the real host
// (host/runtime: wazero, limits, host functions), and check that it and the
// Go SDK's reference analyzer (sdk/go/examples/reference) emit byte-identical
// alerts, as sdk/REFERENCE.md requires.
//
// The Rust module is built with sdk/rust/build.sh, which needs Debian's
// toolchain with the wasm targets (apt-get install rustc cargo
// libstd-rust-dev-wasm32; CARGO/RUSTC override /usr/bin/cargo and
// /usr/bin/rustc). Cargo rebuilds only when the sources changed.
package rust_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/tidemark/tidemark/internal/cpuclock"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/sdk/go/tmtest"
)

var buildMu sync.Mutex

// rustModule builds examples/<name> for target with build.sh and returns
// the .wasm bytes.
func rustModule(tb testing.TB, name, target string) []byte {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	out := filepath.Join("target", "wasm-"+target)
	cmd := exec.Command("./build.sh", "-t", target, "-o", out, name)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("sdk/rust/build.sh %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(filepath.Join(out, name+".wasm"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func goModule(tb testing.TB) []byte {
	tb.Helper()
	return tmtest.Build(tb, filepath.Join("..", "go", "examples", "reference"))
}

// rawHost keeps each alert's bytes exactly as the guest encoded them.
type rawHost struct {
	mu     sync.Mutex
	alerts [][]byte
	logs   []string
	state  map[string][]byte
}

func (h *rawHost) EmitAlert(raw []byte) error {
	if _, err := abi.DecodeAlert(raw); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alerts = append(h.alerts, raw)
	return nil
}

func (h *rawHost) Log(level int, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, msg)
}

func (h *rawHost) StateGet(key string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.state[key]
	return v, ok
}

func (h *rawHost) StateSet(key string, val []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		h.state = map[string][]byte{}
	}
	if len(val) == 0 {
		delete(h.state, key)
		return nil
	}
	h.state[key] = bytes.Clone(val)
	return nil
}

func (h *rawHost) Query([]byte) ([]byte, error) { return nil, errors.New("no query capability") }

func (h *rawHost) take() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.alerts
	h.alerts = nil
	return a
}

type instance struct {
	host *rawHost
	inst *runtime.Instance
}

// start compiles wasm with the production runtime, resolves opts against
// the module's manifest (read from its custom section, as the registry
// does) and instantiates it.
func start(tb testing.TB, wasm []byte, opts map[string]any) (*instance, error) {
	tb.Helper()
	return startWithHost(tb, wasm, opts, &rawHost{})
}

func startWithHost(tb testing.TB, wasm []byte, opts map[string]any, h *rawHost) (*instance, error) {
	tb.Helper()
	ctx := context.Background()
	m, err := abi.ReadManifest(wasm)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	optJSON, err := m.OptionsJSON(opts)
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	// A generous deadline: on a shared, overloaded machine a descheduled
	// call can take longer than the production 250 ms without being wrong.
	cfg := runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)).WithCallTimeout(10 * time.Second)
	if dir, err := os.UserCacheDir(); err == nil {
		cfg = cfg.WithCacheDir(filepath.Join(dir, "tidemark-sdk-rust-wazero"))
	}
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Compile(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	inst, err := mod.Instantiate(ctx, runtime.InstanceConfig{Name: "ref", Options: optJSON, Host: h})
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { inst.Close(ctx) })
	return &instance{host: h, inst: inst}, nil
}

func mustStart(tb testing.TB, wasm []byte, opts map[string]any) *instance {
	tb.Helper()
	in, err := start(tb, wasm, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

func (in *instance) analyze(tb testing.TB, input []byte) [][]byte {
	tb.Helper()
	in.host.take()
	if err := in.inst.Analyze(context.Background(), input); err != nil {
		tb.Fatalf("analyze: %v (guest log %q)", err, in.host.logs)
	}
	return in.host.take()
}

func golden(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "abi", "testdata", name+".bin"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// edgeInput holds what the spec's arithmetic rules are about: NaN and ±Inf
// in history and now, a MISSING frame with values in it, flat history,
// too short history, overflow to Inf, and negative deviations.
func edgeInput() []byte {
	const sec = int64(1_000_000_000)
	inf, nan := math.Inf(1), math.NaN()
	cols := [][]float64{ // frame 0 first, then history; 10 series
		{14, 1e9, 1e9, nan, inf, -50, 1e308, 5, 101, -inf},
		{10, 1, 5, 1, 10, 10, 1e308, 5, 1, 1},
		{1e6, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6}, // MISSING: ignored
		{12, inf, 5, 2, 12, 12, -1e308, 5, 2, 2},
		{inf, nan, 5, 3, 10, 10, 1e308, 5, 3, 3},
		{10, 2, 5, 4, 12, 12, 1e308, 5.000000001, -inf, 4},
		{12, nan, 5, 5, 11, 11, 1e308, 5, nan, 5},
	}
	in := &abi.Input{
		WindowStart: 100 * sec, WindowEnd: 110 * sec,
		Instance: "ref", Pipeline: "edge",
		TagNames: []string{"k"}, FieldNames: []string{"other", "v"},
		Series: 10,
	}
	for s := range 10 {
		in.Dict = append(in.Dict, fmt.Sprintf("s%d", s))
		in.SeriesTags = append(in.SeriesTags, uint32(s))
	}
	for k, col := range cols {
		fr := abi.Frame{Start: (100 - 10*int64(k)) * sec, End: (110 - 10*int64(k)) * sec,
			Columns: [][]float64{make([]float64, 10), col}}
		if k == 2 {
			fr.Flags = abi.FrameMissing
		}
		in.Frames = append(in.Frames, fr)
	}
	return in.Encode(nil)
}

// The conformance suite of sdk/REFERENCE.md: cases.json lists inputs (paths
// from the repository root), options, and the expected alert count and
// SHA-256; <case>.alerts holds the expected alert bytes, concatenated in
// emit order. `go test ./sdk/rust -run Agree -update` rewrites them from the
// Go module's output (and edge.bin from edgeInput).
var update = flag.Bool("update", false, "rewrite sdk/rust/testdata/reference from the Go reference module")

const suiteDir = "testdata/reference"

type refCase struct {
	Name    string         `json:"name"`
	Input   string         `json:"input"`
	Options map[string]any `json:"options"`
	Alerts  int            `json:"alerts"`
	SHA256  string         `json:"sha256"`
}

func (c refCase) alertsFile() string {
	return filepath.Join(suiteDir, strings.ReplaceAll(c.Name, "/", "_")+".alerts")
}

// The spec's only NaN is 0x7FF8000000000000: no computed NaN reaches an
// alert, so the bytes are the same on every platform.
func checkNaNs(tb testing.TB, alerts [][]byte) {
	tb.Helper()
	for i, raw := range alerts {
		for off := 16; off < 48; off += 8 {
			bits := binary.LittleEndian.Uint64(raw[off:])
			if math.IsNaN(math.Float64frombits(bits)) && bits != 0x7FF8000000000000 {
				tb.Fatalf("alert %d: NaN %#x at offset %d, want 0x7ff8000000000000", i, bits, off)
			}
		}
	}
}

func loadSuite(tb testing.TB) []refCase {
	tb.Helper()
	edge := edgeInput()
	edgePath := filepath.Join(suiteDir, "edge.bin")
	if *update {
		if err := os.WriteFile(edgePath, edge, 0o644); err != nil {
			tb.Fatal(err)
		}
	} else if b, err := os.ReadFile(edgePath); err != nil || !bytes.Equal(b, edge) {
		tb.Fatalf("%s differs from edgeInput() (err %v): run with -update", edgePath, err)
	}
	js, err := os.ReadFile(filepath.Join(suiteDir, "cases.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []refCase
	if err := json.Unmarshal(js, &cases); err != nil {
		tb.Fatal(err)
	}
	if len(cases) == 0 {
		tb.Fatal("no cases")
	}
	return cases
}

// TestReferenceAnalyzersAgree runs the Go reference module and the Rust one
// (both wasm targets) on the suite and requires the expected alert bytes
// from all of them.
func TestReferenceAnalyzersAgree(t *testing.T) {
	cases := loadSuite(t)
	modules := []struct {
		name string
		wasm []byte
	}{
		{"go", goModule(t)},
		{"rust wasm32-unknown-unknown", rustModule(t, "reference", "wasm32-unknown-unknown")},
		{"rust wasm32-wasi", rustModule(t, "reference", "wasm32-wasi")},
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(c.Input)))
			if err != nil {
				t.Fatal(err)
			}
			var want [][]byte
			for _, m := range modules {
				got := mustStart(t, m.wasm, c.Options).analyze(t, input)
				checkNaNs(t, got)
				if want == nil && *update && m.name == "go" {
					all := bytes.Join(got, nil)
					sum := sha256.Sum256(all)
					c.Alerts, c.SHA256 = len(got), hex.EncodeToString(sum[:])
					if err := os.WriteFile(c.alertsFile(), all, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if want == nil {
					want = got
					all := bytes.Join(got, nil)
					sum := sha256.Sum256(all)
					file, err := os.ReadFile(c.alertsFile())
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != c.Alerts || hex.EncodeToString(sum[:]) != c.SHA256 || !bytes.Equal(all, file) {
						t.Fatalf("%s: %d alerts, sha256 %x; cases.json says %d, %s (or %s differs)", m.name, len(got), sum, c.Alerts, c.SHA256, c.alertsFile())
					}
					continue
				}
				if len(got) != len(want) {
					t.Fatalf("%s: %d alerts, want %d", m.name, len(got), len(want))
				}
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						ga, _ := abi.DecodeAlert(got[i])
						wa, _ := abi.DecodeAlert(want[i])
						t.Fatalf("%s: alert %d differs\n got %x\nwant %x\n got %+v\nwant %+v", m.name, i, got[i], want[i], ga, wa)
					}
				}
			}
		})
	}
	if *update {
		js, err := json.MarshalIndent(cases, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(suiteDir, "cases.json"), append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReferenceEdgeValues pins what the spec says about the edge input, so
// the two implementations cannot agree on something wrong.
func TestReferenceEdgeValues(t *testing.T) {
	in := mustStart(t, rustModule(t, "reference", "wasm32-unknown-unknown"),
		map[string]any{"field": "v", "threshold": 1.0, "abs_max": 100.0})
	type got struct {
		series uint32
		sev    abi.Severity
		msg    string
	}
	var alerts []got
	for _, raw := range in.analyze(t, edgeInput()) {
		a, err := abi.DecodeAlert(raw)
		if err != nil {
			t.Fatal(err)
		}
		if a.Field != 1 || a.Kind != abi.KindAnomaly || a.Horizon != 0 {
			t.Fatalf("alert %+v: want field 1, anomaly, horizon 0", a)
		}
		alerts = append(alerts, got{a.Series, a.Severity, a.Message})
		if a.Series == 6 && !(math.IsNaN(a.Expected) && math.IsNaN(a.Lower) && math.IsNaN(a.Upper)) {
			t.Errorf("series 6: %+v, want no baseline (its sum overflowed)", a)
		}
		if a.Series == 0 && (a.Expected != 11 || a.Lower != 10 || a.Upper != 12 || a.Observed != 14) {
			t.Errorf("series 0: %+v, want expected 11, band [10, 12], observed 14", a)
		}
	}
	want := []got{
		{0, abi.SeverityCrit, "z-score beyond threshold"}, // history 10,12,10,12 (Inf, NaN, MISSING skipped): z = 3
		{1, abi.SeverityWarn, "above absolute maximum"},   // 2 finite values < min_history 3; 1e9 > 100
		{2, abi.SeverityWarn, "above absolute maximum"},   // flat history, sd = 0: no z-score
		// 3: NaN now: nothing
		{4, abi.SeverityCrit, "z-score beyond threshold; above absolute maximum"}, // +Inf now: z = +Inf
		{5, abi.SeverityCrit, "z-score beyond threshold"},                         // -50 vs mean 11
		{6, abi.SeverityWarn, "above absolute maximum"},                           // sum overflows: no baseline
		// 7: history 5,5,5,5.000000001,5: x = 5 is within one sd: nothing
		{8, abi.SeverityCrit, "z-score beyond threshold; above absolute maximum"}, // history 1,2,3 (-Inf, NaN skipped)
		{9, abi.SeverityCrit, "z-score beyond threshold"},                         // -Inf now: z = -Inf
	}
	if fmt.Sprint(alerts) != fmt.Sprint(want) {
		t.Fatalf("alerts\n got %v\nwant %v", alerts, want)
	}
}

func TestRustModuleRejectsBadOptionsAndInput(t *testing.T) {
	wasm := rustModule(t, "reference", "wasm32-unknown-unknown")
	if _, err := start(t, wasm, map[string]any{"threshold": 3.0}); err == nil {
		t.Fatal("module started without the required field option")
	}
	in := mustStart(t, wasm, map[string]any{"field": "sum_bytes"})
	err := in.inst.Analyze(context.Background(), []byte("TMK1 this is not an input"))
	if err == nil {
		t.Fatal("garbage input analyzed without error")
	}
	// The instance chose to fail (negative status): it stays usable.
	if a := in.analyze(t, golden(t, "one_series")); len(a) != 0 {
		t.Fatalf("one_series with 1 history window: %d alerts, want 0", len(a))
	}
	if len(in.host.logs) == 0 {
		t.Fatal("the failed call logged nothing")
	}
}

// BenchmarkReference measures one analyze call of each reference module on
// the golden large input: 1,000 series × 3 fields × (1 + 30) windows.
// "alerting" emits 188 alerts per call, "quiet" none, and "no_field" only
// pays for the call, the input copy and its decoding.
func BenchmarkReference(b *testing.B) {
	input := golden(b, "large")
	modules := []struct {
		name string
		wasm func(testing.TB) []byte
	}{
		{"rust", func(tb testing.TB) []byte { return rustModule(tb, "reference", "wasm32-unknown-unknown") }},
		{"go", goModule},
	}
	cases := []struct {
		name string
		opts map[string]any
	}{
		{"alerting", map[string]any{"field": "sum_bytes", "threshold": 1.5, "abs_max": 990.0}},
		{"quiet", map[string]any{"field": "sum_bytes"}},
		{"no_field", map[string]any{"field": "nope"}},
	}
	for _, m := range modules {
		wasm := m.wasm(b)
		for _, c := range cases {
			b.Run(m.name+"/"+c.name, func(b *testing.B) {
				in := mustStart(b, wasm, c.opts)
				ctx := context.Background()
				// The calls run on this goroutine's thread: its CPU time is
				// the cost without the waiting a shared machine adds.
				goruntime.LockOSThread()
				defer goruntime.UnlockOSThread()
				cpu0, cpuOK := cpuclock.Thread()
				for b.Loop() {
					if err := in.inst.Analyze(ctx, input); err != nil {
						b.Fatal(err)
					}
					in.host.take()
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
				if cpu1, ok := cpuclock.Thread(); ok && cpuOK {
					b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
				}
			})
		}
	}
}

// TestProbeHostFunctions runs examples/probe under the real host: state
// get/set (including a value longer than the SDK's first buffer), denied
// capabilities, logging, the alert about the whole input, and the
// hot-reload hand-over (state_save on the old instance, state_load on the
// new one, host-held state shared).
func TestProbeHostFunctions(t *testing.T) {
	ctx := context.Background()
	wasm := rustModule(t, "probe", "wasm32-unknown-unknown")
	old := mustStart(t, wasm, nil)
	input := golden(t, "one_series")
	wantMsg := "query PERMISSION_DENIED clock PERMISSION_DENIED big 1000 missing true series 1 key src_country=FR instance country-spike"
	for i := 1; i <= 2; i++ {
		alerts := old.analyze(t, input)
		if len(alerts) != 1 {
			t.Fatalf("window %d: %d alerts, want 1", i, len(alerts))
		}
		a, err := abi.DecodeAlert(alerts[0])
		if err != nil {
			t.Fatal(err)
		}
		if a.Severity != abi.SeverityInfo || a.Series != abi.NoIndex || a.Field != abi.NoIndex ||
			a.Observed != float64(i) || a.Expected != float64(i) || a.Message != wantMsg {
			t.Fatalf("window %d: %+v", i, a)
		}
	}
	if len(old.host.logs) < 3 || old.host.logs[0] != "probe init" {
		t.Fatalf("logs %q: want probe init, then a line per window", old.host.logs)
	}

	// Hot reload: a new instance sharing the host (and its state).
	next, err := startWithHost(t, wasm, nil, old.host)
	if err != nil {
		t.Fatal(err)
	}
	blob, ok, err := old.inst.SaveState(ctx)
	if err != nil || !ok || len(blob) != 8 {
		t.Fatalf("state save: %x, %v, %v; want an 8-byte blob", blob, ok, err)
	}
	if ok, err := next.inst.LoadState(ctx, blob); err != nil || !ok {
		t.Fatalf("state load: %v, %v", ok, err)
	}
	a, err := abi.DecodeAlert(next.analyze(t, input)[0])
	if err != nil {
		t.Fatal(err)
	}
	if a.Observed != 3 || a.Expected != 3 {
		t.Fatalf("after reload: host state %v, in-memory %v; want 3 and 3", a.Observed, a.Expected)
	}
	if _, err := next.inst.LoadState(ctx, []byte("short")); err == nil {
		t.Fatal("a 5-byte blob was loaded")
	}
}

func TestProbeFailures(t *testing.T) {
	wasm := rustModule(t, "probe", "wasm32-unknown-unknown")
	if _, err := start(t, wasm, map[string]any{"fail_init": true}); err == nil {
		t.Fatal("init with fail_init succeeded")
	}
	in := mustStart(t, wasm, map[string]any{"panic": true})
	err := in.inst.Analyze(context.Background(), golden(t, "one_series"))
	if err == nil {
		t.Fatal("a panicking analyze succeeded")
	}
	found := false
	for _, l := range in.host.logs {
		found = found || strings.HasPrefix(l, "panic: ") && strings.Contains(l, "probe panic at window 1795791600000000000")
	}
	if !found {
		t.Fatalf("no panic message in the guest log %q (call error %v)", in.host.logs, err)
	}
}
