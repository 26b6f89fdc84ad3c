//go:build !wasip1

package tidemark

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tidemark/tidemark/abi"
)

func TestOptionsGetters(t *testing.T) {
	o, err := ParseOptions([]byte(`{"f":2.5,"s":"x","b":true,"l":["a","b"],"bad":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	if o.Float("f", 0) != 2.5 || o.Int("f", 0) != 2 || o.String("s", "") != "x" || !o.Bool("b", false) {
		t.Fatalf("getters: %v", o.m)
	}
	if l := o.Strings("l", nil); len(l) != 2 || l[1] != "b" {
		t.Fatalf("Strings = %v", l)
	}
	if o.Float("missing", 7) != 7 || o.String("f", "def") != "def" || o.Strings("bad", []string{"d"})[0] != "d" {
		t.Fatal("defaults not used for absent or mistyped options")
	}
	if _, err := ParseOptions([]byte(`[`)); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

func TestEmitterChecksIndices(t *testing.T) {
	var got []abi.Alert
	e := NewEmitter(2, 1, func(a *abi.Alert) error { got = append(got, *a); return nil })
	if err := e.Emit(Alert{Series: 2}); err == nil {
		t.Fatal("series 2 of 2 accepted")
	}
	if err := e.Emit(Alert{Series: 1, Field: NoField, Severity: Crit, Horizon: 5}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Field != abi.NoIndex || got[0].Horizon != 5 || e.Count() != 1 {
		t.Fatalf("got %+v", got)
	}
	e.emitted = abi.MaxAlertsPerCall
	if err := e.Emit(Alert{}); !errors.Is(err, ErrTooManyAlerts) {
		t.Fatalf("past the limit: %v", err)
	}
}

func TestInputMissingFrames(t *testing.T) {
	in := &abi.Input{Series: 2, FieldNames: []string{"v"}, TagNames: []string{"k"}, Dict: []string{"a", "b"},
		SeriesTags: []uint32{0, 1}, Frames: []abi.Frame{{Columns: [][]float64{{1, 2}}}}}
	v, err := abi.Decode(in.Encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	x := NewInput(v)
	if x.HistoryLen() != 0 || !x.History(3).Missing() || !math.IsNaN(x.History(1).Field("v")[1]) {
		t.Fatal("history past the end is not an all-NaN missing frame")
	}
	if x.Field("v")[1] != 2 || x.Field("nope") != nil || x.Tag(1, "k") != "b" || x.SeriesKey(0) != "k=a" {
		t.Fatal("accessors")
	}
}

func TestStateThroughHost(t *testing.T) {
	h := &MemoryHost{}
	defer UseHost(h)()
	if _, err := StateGet("k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	big := make([]byte, 10000) // larger than the first read buffer
	big[9999] = 7
	if err := StateSet("k", big); err != nil {
		t.Fatal(err)
	}
	got, err := StateGet("k")
	if err != nil || len(got) != 10000 || got[9999] != 7 {
		t.Fatalf("StateGet = %d bytes, %v", len(got), err)
	}
	if StateSet("", []byte("x")) == nil {
		t.Fatal("empty key accepted")
	}
}

func TestWindowsAgoWithGaps(t *testing.T) {
	col := func(v float64) [][]float64 { return [][]float64{{v}} }
	in := &abi.Input{WindowStart: 100, WindowEnd: 110, Series: 1, FieldNames: []string{"v"}, Frames: []abi.Frame{
		{Start: 100, End: 110, Columns: col(0)},
		{Start: 90, End: 100, Columns: col(1)},
		{Start: 70, End: 80, Columns: col(3)}, // window 80 has no data: the host left it out
	}}
	v, err := abi.Decode(in.Encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	x := NewInput(v)
	if got := x.WindowsAgo(1).Field("v")[0]; got != 1 {
		t.Fatalf("1 ago = %v", got)
	}
	if f := x.WindowsAgo(2); !f.Missing() || f.Start().UnixNano() != 80 || !math.IsNaN(f.Column(0)[0]) {
		t.Fatalf("2 ago should be missing at 80: %v %v", f.Missing(), f.Start())
	}
	if got := x.WindowsAgo(3).Field("v")[0]; got != 3 {
		t.Fatalf("3 ago = %v", got)
	}
	if x.HistorySpan() != 3 || x.HistoryLen() != 2 {
		t.Fatalf("span %d len %d", x.HistorySpan(), x.HistoryLen())
	}
	if got := x.FrameNear(time.Unix(0, 72), 3).Field("v")[0]; got != 3 {
		t.Fatalf("near 72 = %v", got)
	}
	if !x.FrameNear(time.Unix(0, 50), 3).Missing() {
		t.Fatal("nothing near 50")
	}
}

func TestLoggerKeepsAttributes(t *testing.T) {
	h := &MemoryHost{}
	defer UseHost(h)()
	Logger.With("instance", "x").WithGroup("g").Info("hello", "n", 3)
	if len(h.Logs) != 1 || h.Logs[0] != "hello instance=x g.n=3" {
		t.Fatalf("logs %q", h.Logs)
	}
}
