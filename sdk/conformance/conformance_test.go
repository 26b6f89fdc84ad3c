// Package conformance checks that the reference analyzer of sdk/REFERENCE.md,
// written once per SDK (Go, Rust, AssemblyScript), emits byte-identical
// alert streams under the real host (host/runtime) for the same inputs: the
// spec's suite (sdk/rust/testdata/reference, whose expected hashes must
// match too), every golden vector in abi/testdata with two option sets per
// field, and a generated 10,000-series window with 30 history windows. A missing toolchain fails the test with the command that
// installs it (sdk/conformance/setup.sh installs them all).
package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime"
)

const setupHint = "run `bash sdk/conformance/setup.sh` (it installs what is missing: apt-get install -y rustc cargo libstd-rust-dev-wasm32 nodejs npm; npm ci in sdk/assemblyscript)"

// repoRoot is the repository root, found from this file's location.
func repoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// cacheDir holds built modules and the Rust target dir between runs.
func cacheDir(t testing.TB) string {
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	dir := filepath.Join(root, "tidemark-conformance")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sourceHash hashes the files under dirs (skipping build outputs), so a
// module is rebuilt only when its sources or its SDK change.
func sourceHash(t testing.TB, dirs ...string) string {
	h := sha256.New()
	for _, dir := range dirs {
		var files []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case "node_modules", "target", "build", ".git":
					return filepath.SkipDir
				}
				return nil
			}
			files = append(files, p)
			return nil
		})
		if err != nil {
			t.Fatalf("hash %s: %v", dir, err)
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%s %d\n", f, len(b))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func run(t testing.TB, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
}

// cached returns the module at path cache/<name>-<hash>.wasm, building it
// with build(out) if it is not there yet.
func cached(t testing.TB, name, hash string, build func(out string)) []byte {
	t.Helper()
	out := filepath.Join(cacheDir(t), name+"-"+hash+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b
	}
	tmp := out + ".tmp"
	build(tmp)
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var buildMu sync.Mutex // the machine has two shared cores: one build at a time

func buildGo(t testing.TB) []byte {
	buildMu.Lock()
	defer buildMu.Unlock()
	root := repoRoot()
	src := filepath.Join(root, "sdk", "go", "examples", "reference")
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("Go reference analyzer: %v (expected in sdk/go/examples/reference)", err)
	}
	hash := sourceHash(t, filepath.Join(root, "sdk", "go"), filepath.Join(root, "abi"))
	return cached(t, "reference-go", hash, func(out string) {
		run(t, src, []string{"GOOS=wasip1", "GOARCH=wasm"}, "go", "build", "-buildmode=c-shared", "-o", out, ".")
	})
}

// rustToolchain finds a cargo whose rustc has the wasm32-unknown-unknown
// standard library: Debian's (/usr/bin, package libstd-rust-dev-wasm32)
// first, then cargo on PATH (rustup with the target added).
func rustToolchain(t testing.TB) (env []string) {
	t.Helper()
	type candidate struct{ cargo, rustc string }
	var cands []candidate
	if _, err := os.Stat("/usr/bin/cargo"); err == nil {
		cands = append(cands, candidate{"/usr/bin/cargo", "/usr/bin/rustc"})
	}
	if c, err := exec.LookPath("cargo"); err == nil {
		r, _ := exec.LookPath("rustc")
		cands = append(cands, candidate{c, r})
	}
	for _, c := range cands {
		if c.rustc == "" {
			continue
		}
		sysroot, err := exec.Command(c.rustc, "--print", "sysroot").Output()
		if err != nil {
			continue
		}
		lib := filepath.Join(strings.TrimSpace(string(sysroot)), "lib", "rustlib", "wasm32-unknown-unknown")
		if _, err := os.Stat(lib); err == nil {
			return []string{"CARGO=" + c.cargo, "RUSTC=" + c.rustc}
		}
	}
	t.Fatalf("no Rust toolchain with the wasm32-unknown-unknown target (looked at /usr/bin/cargo and cargo on PATH): %s", setupHint)
	return nil
}

// buildRust builds the Rust reference with the crate's own build script.
func buildRust(t testing.TB) []byte {
	buildMu.Lock()
	defer buildMu.Unlock()
	root := repoRoot()
	crate := filepath.Join(root, "sdk", "rust")
	if _, err := os.Stat(filepath.Join(crate, "build.sh")); err != nil {
		t.Fatalf("Rust SDK build script: %v", err)
	}
	env := rustToolchain(t)
	hash := sourceHash(t, crate)
	return cached(t, "reference-rust", hash, func(out string) {
		dir := t.TempDir()
		run(t, crate, env, "bash", "build.sh", "-o", dir, "reference")
		copyFile(t, filepath.Join(dir, "reference.wasm"), out)
	})
}

func buildAS(t testing.TB) []byte {
	buildMu.Lock()
	defer buildMu.Unlock()
	root := repoRoot()
	pkg := filepath.Join(root, "sdk", "assemblyscript")
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("npm not found: %s", setupHint)
	}
	if _, err := os.Stat(filepath.Join(pkg, "node_modules", "assemblyscript", "package.json")); err != nil {
		t.Fatalf("AssemblyScript compiler not installed in sdk/assemblyscript/node_modules: %s", setupHint)
	}
	hash := sourceHash(t, filepath.Join(pkg, "assembly"), filepath.Join(pkg, "examples", "reference"), filepath.Join(pkg, "package.json"))
	return cached(t, "reference-as", hash, func(out string) {
		run(t, pkg, nil, "npm", "run", "--silent", "build:reference")
		copyFile(t, filepath.Join(pkg, "build", "reference.wasm"), out)
	})
}

// buildASHarness builds the AS SDK's test module (tests/harness.ts), whose
// analyzer only keeps the decoded input.
func buildASHarness(t testing.TB) []byte {
	buildMu.Lock()
	defer buildMu.Unlock()
	pkg := filepath.Join(repoRoot(), "sdk", "assemblyscript")
	if _, err := os.Stat(filepath.Join(pkg, "node_modules", "assemblyscript", "package.json")); err != nil {
		t.Fatalf("AssemblyScript compiler not installed in sdk/assemblyscript/node_modules: %s", setupHint)
	}
	hash := sourceHash(t, filepath.Join(pkg, "assembly"), filepath.Join(pkg, "tests"), filepath.Join(pkg, "package.json"))
	return cached(t, "harness-as", hash, func(out string) {
		run(t, pkg, nil, "npm", "run", "--silent", "build:harness")
		copyFile(t, filepath.Join(pkg, "build", "harness.wasm"), out)
	})
}

func copyFile(t testing.TB, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// collector is the HostHandler: it keeps every alert's raw bytes.
type collector struct {
	alerts [][]byte
	logs   []string
}

func (c *collector) EmitAlert(raw []byte) error { c.alerts = append(c.alerts, raw); return nil }
func (c *collector) Log(level int, msg string) {
	c.logs = append(c.logs, fmt.Sprintf("[%d] %s", level, msg))
}
func (c *collector) StateGet(string) ([]byte, bool) { return nil, false }
func (c *collector) StateSet(string, []byte) error  { return nil }
func (c *collector) Query([]byte) ([]byte, error) {
	return nil, errors.New("no query in conformance tests")
}

type module struct {
	lang string
	mod  *runtime.Module
	size int
}

// testCase is one input with one set of options.
type testCase struct {
	name    string
	input   []byte
	options map[string]any
	// From sdk/rust/testdata/reference/cases.json: the expected alert count
	// and sha256 of the concatenated payloads ("" when not known).
	alerts int
	sha256 string
}

func newRuntime(t testing.TB) *runtime.Runtime {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCallTimeout(5*time.Second).WithCacheDir(filepath.Join(cacheDir(t), "wazero")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}

func compileModule(t testing.TB, rt *runtime.Runtime, lang string, wasm []byte) module {
	m, err := rt.Compile(context.Background(), wasm)
	if err != nil {
		t.Fatalf("%s reference module: %v", lang, err)
	}
	return module{lang: lang, mod: m, size: len(wasm)}
}

// manifest is the reference analyzer's manifest (the same in every language).
func manifest(t testing.TB) *abi.Manifest {
	js, err := os.ReadFile(filepath.Join(repoRoot(), "sdk", "assemblyscript", "examples", "reference", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := abi.ParseManifest(js)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// analyze instantiates m with opts (resolved against the manifest, defaults
// filled in, as the host does) and returns the alerts of one analyze call.
func analyze(t testing.TB, m module, tc testCase) [][]byte {
	t.Helper()
	ctx := context.Background()
	opts, err := manifest(t).OptionsJSON(tc.options)
	if err != nil {
		t.Fatalf("%s: options: %v", tc.name, err)
	}
	c := &collector{}
	in, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "conformance", Options: opts, Host: c})
	if err != nil {
		t.Fatalf("%s: %s: instantiate: %v\nlogs: %v", tc.name, m.lang, err, c.logs)
	}
	defer in.Close(ctx)
	if err := in.Analyze(ctx, tc.input); err != nil {
		t.Fatalf("%s: %s: analyze: %v\nlogs: %v\noutput: %s", tc.name, m.lang, err, c.logs, in.Output())
	}
	return c.alerts
}

func TestReferenceAlertsIdentical(t *testing.T) {
	rt := newRuntime(t)
	mods := []module{
		compileModule(t, rt, "go", buildGo(t)),
		compileModule(t, rt, "rust", buildRust(t)),
		compileModule(t, rt, "assemblyscript", buildAS(t)),
	}
	for _, m := range mods {
		t.Logf("%s reference module: %d bytes", m.lang, m.size)
	}
	cases := suiteCases(t)
	cases = append(cases, goldenCases(t)...)
	cases = append(cases, generatedCases()...)
	total := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			streams := make([][][]byte, len(mods))
			for i, m := range mods {
				streams[i] = analyze(t, m, tc)
			}
			total += len(streams[0])
			for i := 1; i < len(mods); i++ {
				compareStreams(t, mods[0].lang, streams[0], mods[i].lang, streams[i])
			}
			if tc.sha256 != "" {
				sum := sha256.Sum256(bytes.Join(streams[0], nil))
				if len(streams[0]) != tc.alerts || hex.EncodeToString(sum[:]) != tc.sha256 {
					t.Fatalf("%d alerts with sha256 %x; sdk/rust/testdata/reference/cases.json expects %d with %s",
						len(streams[0]), sum, tc.alerts, tc.sha256)
				}
			}
		})
	}
	if total == 0 {
		t.Fatal("no case raised an alert: the comparison proves nothing")
	}
	t.Logf("%d cases, %d alerts per module, identical", len(cases), total)
}

func compareStreams(t *testing.T, la string, a [][]byte, lb string, b [][]byte) {
	t.Helper()
	n := min(len(a), len(b))
	for i := range n {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("alert %d differs:\n%s: %s\n%s: %s", i, la, describe(a[i]), lb, describe(b[i]))
		}
	}
	if len(a) != len(b) {
		t.Fatalf("%s emitted %d alerts, %s %d", la, len(a), lb, len(b))
	}
}

// describe renders an alert with its floats' bit patterns (NaN payloads matter for byte identity).
func describe(raw []byte) string {
	a, err := abi.DecodeAlert(raw)
	if err != nil {
		return fmt.Sprintf("undecodable (%v): %x", err, raw)
	}
	f := func(v float64) string { return fmt.Sprintf("%v(%#016x)", v, math.Float64bits(v)) }
	return fmt.Sprintf("sev=%d kind=%d series=%d field=%d observed=%s expected=%s lower=%s upper=%s horizon=%d msg=%q",
		a.Severity, a.Kind, a.Series, a.Field, f(a.Observed), f(a.Expected), f(a.Lower), f(a.Upper), a.Horizon, a.Message)
}

// suiteCases are the spec's conformance suite (sdk/REFERENCE.md), with the
// expected alert bytes as hashes.
func suiteCases(t testing.TB) []testCase {
	root := repoRoot()
	js, err := os.ReadFile(filepath.Join(root, "sdk", "rust", "testdata", "reference", "cases.json"))
	if err != nil {
		t.Fatalf("the reference conformance suite: %v", err)
	}
	var suite []struct {
		Name    string         `json:"name"`
		Input   string         `json:"input"`
		Options map[string]any `json:"options"`
		Alerts  int            `json:"alerts"`
		SHA256  string         `json:"sha256"`
	}
	if err := json.Unmarshal(js, &suite); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	var cases []testCase
	for _, c := range suite {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(c.Input)))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, testCase{name: "suite/" + c.Name, input: b, options: c.Options, alerts: c.Alerts, sha256: c.SHA256})
	}
	if len(cases) == 0 {
		t.Fatal("cases.json has no cases")
	}
	return cases
}

// optionSets are the instance options each input is analyzed with: the
// spec's defaults, and an aggressive set that makes most series alert.
func optionSets(field string) []map[string]any {
	return []map[string]any{
		{"field": field, "threshold": 3.0, "min_history": 3.0},
		{"field": field, "threshold": 0.5, "min_history": 1.0, "abs_max": 100.0},
	}
}

func goldenCases(t testing.TB) []testCase {
	dir := filepath.Join(repoRoot(), "abi", "testdata")
	bins, err := filepath.Glob(filepath.Join(dir, "*.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []testCase
	for _, p := range bins {
		name := strings.TrimSuffix(filepath.Base(p), ".bin")
		if strings.HasPrefix(name, "alert_") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		v, err := abi.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for f := range v.NumFields() {
			for i, o := range optionSets(v.FieldName(f)) {
				cases = append(cases, testCase{name: fmt.Sprintf("%s/%s/opts%d", name, v.FieldName(f), i), input: b, options: o})
			}
		}
		// A field the pipeline lacks: every module must emit nothing.
		cases = append(cases, testCase{name: name + "/absent-field", input: b, options: map[string]any{"field": "no_such_field"}})
	}
	if len(cases) == 0 {
		t.Fatalf("no golden vectors in %s", dir)
	}
	return cases
}

// Generated builds a window of series×fields with history frames: smooth
// baselines with noise, spikes, NaN gaps, ±Inf, constant series (sd 0),
// negative values, one MISSING history frame and huge magnitudes.
func Generated(series, history int, seed uint64) *abi.Input {
	r := rand.New(rand.NewPCG(seed, 0x7469646d61726b))
	const sec = int64(time.Second)
	start := int64(1795791600) * sec
	width := 60 * sec
	in := &abi.Input{
		WindowStart: start, WindowEnd: start + width,
		Instance: "conformance", Pipeline: "generated",
		TagNames: []string{"dst_ip", "proto"}, FieldNames: []string{"sum_bytes", "count"},
		Series: series,
	}
	protos := []string{"tcp", "udp", "icmp"}
	in.Dict = append(in.Dict, protos...)
	in.SeriesTags = make([]uint32, 0, 2*series)
	for s := range series {
		in.Dict = append(in.Dict, fmt.Sprintf("10.%d.%d.%d", s>>16&255, s>>8&255, s&255))
		in.SeriesTags = append(in.SeriesTags, uint32(len(in.Dict)-1), uint32(s%3))
	}
	base := make([]float64, series)
	for s := range base {
		base[s] = math.Exp(r.Float64()*12) - 1 // 0 .. 160k, log-uniform
	}
	for k := 0; k <= history; k++ {
		fr := abi.Frame{Start: start - int64(k)*width, End: start - int64(k)*width + width}
		sum := make([]float64, series)
		cnt := make([]float64, series)
		for s := range series {
			v := base[s] * (1 + 0.2*r.NormFloat64())
			switch x := r.IntN(1000); {
			case s%97 == 0: // constant: sd 0
				v = base[s]
			case x < 20:
				v = math.NaN()
			case x < 22 && k > 0:
				v = math.Inf(1 - 2*(x&1))
			case x < 40 && k == 0:
				v *= 3 + 10*r.Float64() // spike
			case x < 45:
				v = -v
			case x == 50:
				v = 1e300 * r.Float64()
			}
			sum[s] = v
			cnt[s] = math.Floor(v / 1500)
		}
		if k == 7 {
			fr.Flags = abi.FrameMissing
			for s := range series {
				sum[s], cnt[s] = math.NaN(), math.NaN()
			}
		}
		fr.Columns = [][]float64{sum, cnt}
		in.Frames = append(in.Frames, fr)
	}
	return in
}

// futureLayout re-lays an encoded input the way a later minor version may:
// minor 1, an unknown section (junk bytes) before the frames, and frames
// with trailing bytes (frame_stride above 24 + 8·F·S). A guest that uses
// frames_off and frame_stride, as ABI.md §3.1 requires, reads the same values.
func futureLayout(b []byte, gap, extra int) []byte {
	le := func(off int) int {
		return int(uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24)
	}
	put := func(dst []byte, off, v int) {
		dst[off], dst[off+1], dst[off+2], dst[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	frames, framesOff, stride := le(48), le(56), le(60)
	nOff, nStride := framesOff+gap, stride+extra
	out := make([]byte, nOff+frames*nStride)
	for i := range out {
		out[i] = 0x7f // junk where the new sections would be
	}
	copy(out, b[:framesOff])
	for k := range frames {
		copy(out[nOff+k*nStride:], b[framesOff+k*stride:framesOff+(k+1)*stride])
	}
	out[6], out[7] = 1, 0 // minor 1
	put(out, 12, len(out))
	put(out, 56, nOff)
	put(out, 60, nStride)
	return out
}

func generatedCases() []testCase {
	big := Generated(10000, 30, 1).Encode(nil)
	future := futureLayout(Generated(1000, 30, 4).Encode(nil), 64, 40)
	return []testCase{
		{name: "generated-10000x30/sum_bytes", input: big, options: map[string]any{"field": "sum_bytes", "threshold": 3.0, "min_history": 3.0}},
		{name: "generated-10000x30/sum_bytes-tight", input: big, options: map[string]any{"field": "sum_bytes", "threshold": 1.0, "min_history": 20.0, "abs_max": 50000.0}},
		{name: "generated-10000x30/count", input: big, options: map[string]any{"field": "count", "threshold": 2.0, "min_history": 5.0}},
		// threshold 0: every series with a baseline and sd > 0 is crit (about 9,000 alerts, under the 10,000 limit);
		// min_history 2.5 is compared as f64; abs_max below every value.
		{name: "generated-1000x30-minor1-padded/sum_bytes", input: future, options: map[string]any{"field": "sum_bytes", "threshold": 2.0, "min_history": 3.0}},
		{name: "generated-10000x30/threshold0", input: big, options: map[string]any{"field": "count", "threshold": 0.0, "min_history": 2.5, "abs_max": -1e308}},
	}
}

// TestReferenceAlertLimit: past abi.MaxAlertsPerCall alerts in one call,
// every implementation must fail the call (the host then discards its
// alerts) rather than drop alerts silently.
func TestReferenceAlertLimit(t *testing.T) {
	rt := newRuntime(t)
	input := Generated(abi.MaxAlertsPerCall+500, 3, 3).Encode(nil)
	opts, err := manifest(t).OptionsJSON(map[string]any{"field": "sum_bytes", "abs_max": -1e308})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, m := range []module{
		compileModule(t, rt, "go", buildGo(t)),
		compileModule(t, rt, "rust", buildRust(t)),
		compileModule(t, rt, "assemblyscript", buildAS(t)),
	} {
		c := &collector{}
		in, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "limit", Options: opts, Host: c})
		if err != nil {
			t.Fatal(err)
		}
		err = in.Analyze(ctx, input)
		in.Close(ctx)
		var ce *runtime.CallError
		if !errors.As(err, &ce) || ce.Kind != runtime.ErrGuestStatus {
			t.Errorf("%s: %d alerts, err %v; want the call to fail with a guest status", m.lang, len(c.alerts), err)
		} else if ce.Status != int32(abi.StatusLimitExceeded) {
			t.Errorf("%s: status %d after %d alerts, want %d (LIMIT_EXCEEDED) as every SDK returns", m.lang, ce.Status, len(c.alerts), abi.StatusLimitExceeded)
		}
	}
}

// TestReferenceInitFailure: an empty field fails init with status -1
// (sdk/REFERENCE.md, Options) in every implementation.
func TestReferenceInitFailure(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	for _, m := range []module{
		compileModule(t, rt, "go", buildGo(t)),
		compileModule(t, rt, "rust", buildRust(t)),
		compileModule(t, rt, "assemblyscript", buildAS(t)),
	} {
		in, err := m.mod.Instantiate(ctx, runtime.InstanceConfig{Name: "bad", Options: []byte(`{"field":"","threshold":3,"min_history":3}`), Host: &collector{}})
		if err == nil {
			in.Close(ctx)
			t.Errorf("%s: init with an empty field succeeded", m.lang)
			continue
		}
		var ce *runtime.CallError
		if !errors.As(err, &ce) || ce.Kind != runtime.ErrGuestStatus || ce.Status != -1 {
			t.Errorf("%s: %v, want guest status -1", m.lang, err)
		}
	}
}

// TestFutureLayoutReadsTheSame: the re-laid input decodes to the same values
// with the host's decoder, so equal alerts in TestReferenceAlertsIdentical
// mean the SDKs followed frames_off and frame_stride.
func TestFutureLayoutReadsTheSame(t *testing.T) {
	plain := Generated(1000, 30, 4).Encode(nil)
	a, err := abi.Decode(plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := abi.Decode(futureLayout(plain, 64, 40))
	if err != nil {
		t.Fatalf("future layout: %v", err)
	}
	if b.Minor != 1 || b.NumFrames() != a.NumFrames() {
		t.Fatalf("minor %d, %d frames", b.Minor, b.NumFrames())
	}
	for k := range a.NumFrames() {
		for f := range a.NumFields() {
			ca, cb := a.Frame(k).Column(f), b.Frame(k).Column(f)
			for s := range ca {
				if math.Float64bits(ca[s]) != math.Float64bits(cb[s]) {
					t.Fatalf("frame %d field %d series %d: %v != %v", k, f, s, ca[s], cb[s])
				}
			}
		}
	}
	rt := newRuntime(t)
	m := compileModule(t, rt, "assemblyscript", buildAS(t))
	opts := map[string]any{"field": "sum_bytes", "threshold": 2.0, "min_history": 3.0}
	pa := analyze(t, m, testCase{name: "plain", input: plain, options: opts})
	pb := analyze(t, m, testCase{name: "future", input: futureLayout(plain, 64, 40), options: opts})
	if len(pa) == 0 {
		t.Fatal("no alerts: the comparison proves nothing")
	}
	compareStreams(t, "plain", pa, "future layout", pb)
}
