package synth

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidemark/tidemark/abi"
	tm "github.com/tidemark/tidemark/sdk/go"
	"github.com/tidemark/tidemark/sdk/go/tmtest"
)

var update = flag.Bool("update", false, "rewrite the plugin's testdata golden files")

// RunNative runs inputs through a fresh analyzer natively and returns the
// alerts of every window as records.
func RunNative(t testing.TB, a tm.Analyzer, opts map[string]any, inputs []*abi.Input) []Record {
	t.Helper()
	manifest, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	n := tmtest.NewNative(t, a, manifest, opts)
	var recs []Record
	for w, in := range inputs {
		alerts, err := n.Analyze(in)
		if err != nil {
			t.Fatalf("window %d: %v", w, err)
		}
		recs = append(recs, Records(w, in, alerts)...)
	}
	return recs
}

// CheckGolden runs the golden case natively (and rewrites testdata with
// -update), then builds the plugin in the current directory to wasm and runs
// the stored windows under the real host runtime: both must raise exactly
// the alerts in testdata/alerts.json.
func CheckGolden(t *testing.T, a tm.Analyzer, opts map[string]any, inputs []*abi.Input) {
	t.Helper()
	g := Golden{Dir: "testdata", Options: opts}
	native := RunNative(t, a, opts, inputs)
	if *update {
		if err := os.MkdirAll(g.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := g.Write(inputs, native); err != nil {
			t.Fatal(err)
		}
	}
	windows, want, storedOpts, err := g.Load()
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update)", err)
	}
	Compare(t, native, want)

	dir, _ := filepath.Abs(".")
	inst := tmtest.Start(t, tmtest.Build(t, dir), storedOpts)
	var got []Record
	for w, b := range windows {
		alerts, err := inst.AnalyzeBytes(b)
		if err != nil {
			t.Fatalf("wasm window %d: %v", w, err)
		}
		in, err := DecodeInput(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, Records(w, in, alerts)...)
	}
	Compare(t, got, want)
}
