//go:build !wasip1

package tidemark_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/sdk/go/tmtest"
)

// golden is the part of abi/testdata/<name>.json this test checks.
type golden struct {
	Instance   string   `json:"instance"`
	Pipeline   string   `json:"pipeline"`
	FieldNames []string `json:"field_names"`
	Flags      int      `json:"flags"`
	Frames     []struct {
		Start  string `json:"start"`
		Flags  int    `json:"flags"`
		Fields map[string]struct {
			FiniteSum float64 `json:"finite_sum"`
		} `json:"fields"`
	} `json:"frames"`
}

// TestProbeDecodesGoldenVectorsInWasm runs the probe analyzer, built with
// this SDK for wasip1, under the real host runtime on every golden vector
// and checks what it decoded against the vector's JSON.
func TestProbeDecodesGoldenVectorsInWasm(t *testing.T) {
	wasm := tmtest.Build(t, "testdata/probe")
	inst := tmtest.Start(t, wasm, map[string]any{"tags": []any{"a", "b"}})
	names := []string{"empty", "one_series", "large", "special_values", "unicode_tags", "history_incomplete"}
	for i, name := range names {
		bin, err := os.ReadFile(filepath.Join("..", "..", "abi", "testdata", name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		js, err := os.ReadFile(filepath.Join("..", "..", "abi", "testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var want golden
		if err := json.Unmarshal(js, &want); err != nil {
			t.Fatal(err)
		}
		alerts, err := inst.AnalyzeBytes(bin)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(alerts) != len(want.Frames)+1 {
			t.Fatalf("%s: %d alerts, want one per frame (%d) + 1", name, len(alerts), len(want.Frames))
		}
		for k, fr := range want.Frames {
			sum := 0.0
			for _, f := range want.FieldNames {
				sum += fr.Fields[f].FiniteSum
			}
			a := alerts[k]
			if math.Abs(a.Observed-sum) > 1e-9*math.Max(1, math.Abs(sum)) || a.Expected != float64(k) {
				t.Errorf("%s frame %d: guest summed %v, golden %v", name, k, a.Observed, sum)
			}
			if missing := fr.Flags&1 != 0; !strings.HasSuffix(a.Message, map[bool]string{true: "missing=true", false: "missing=false"}[missing]) {
				t.Errorf("%s frame %d: %q, flags %d", name, k, a.Message, fr.Flags)
			}
		}
		last := alerts[len(alerts)-1]
		if last.Observed != float64(i+1) || last.Lower != 2.5 || !math.IsInf(last.Upper, 1) || last.Kind != abi.KindPrediction {
			t.Errorf("%s: state/options alert %+v", name, last)
		}
		wantMsg := want.Instance + "|" + want.Pipeline + "|"
		if !strings.HasPrefix(last.Message, wantMsg) || !strings.Contains(last.Message, "tags=[a b]") ||
			!strings.Contains(last.Message, "beyond_nan=true") {
			t.Errorf("%s: message %q", name, last.Message)
		}
		if incomplete := want.Flags&1 != 0; !strings.Contains(last.Message, map[bool]string{true: "incomplete=true", false: "incomplete=false"}[incomplete]) {
			t.Errorf("%s: message %q, flags %d", name, last.Message, want.Flags)
		}
	}
	if got := string(inst.Host.State()["calls"]); got != "6" {
		t.Errorf("state calls = %q, want 6", got)
	}
	if logs := inst.Host.Logs(); len(logs) != len(names) || !strings.Contains(logs[2], "series=1000") {
		t.Errorf("logs %q", logs)
	}

	// Hot reload: in-memory state goes through SaveState/LoadState, host
	// state is simply kept.
	next := inst.Reload(t, wasm, nil)
	one, _ := os.ReadFile(filepath.Join("..", "..", "abi", "testdata", "one_series.bin"))
	alerts, err := next.AnalyzeBytes(one)
	if err != nil {
		t.Fatal(err)
	}
	last := alerts[len(alerts)-1]
	if last.Observed != 7 || last.Expected != 7 {
		t.Errorf("after reload: calls %v (host state), loaded %v (SaveState), want 7 and 7", last.Observed, last.Expected)
	}
	if !strings.Contains(last.Message, "src_country=FR") {
		t.Errorf("series key in %q", last.Message)
	}
}

func TestProbeFailures(t *testing.T) {
	wasm := tmtest.Build(t, "testdata/probe")
	in := &abi.Input{Pipeline: "error", Frames: []abi.Frame{{}}}
	inst := tmtest.Start(t, wasm, nil)
	if _, err := inst.Analyze(in); !errors.Is(err, runtime.ErrGuestStatus) {
		t.Errorf("Analyze returning an error: %v, want ErrGuestStatus", err)
	}
	in.Pipeline = "panic"
	if _, err := inst.Analyze(in); !errors.Is(err, runtime.ErrTrap) {
		t.Errorf("Analyze panicking: %v, want ErrTrap", err)
	}
}
