package abi

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite abi/testdata golden files")

// rng is a tiny xorshift so golden inputs never depend on math/rand.
type rng uint64

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = rng(x)
	return x
}

// float returns a value in [0, scale) with 3 decimals, exact in JSON.
func (r *rng) float(scale float64) float64 {
	return float64(r.next()%uint64(scale*1000)) / 1000
}

const sec = int64(1_000_000_000)

// t0 is 2026-11-27T15:00:00Z.
const t0 = int64(1795791600) * sec

func goldenInputs() map[string]*Input {
	m := map[string]*Input{}
	m["empty"] = &Input{
		WindowStart: t0, WindowEnd: t0 + 10*sec,
		Instance: "empty", Pipeline: "traffic",
		TagNames: []string{"src_country"}, FieldNames: []string{"sum_bytes"},
		Frames: []Frame{{Start: t0, End: t0 + 10*sec, Columns: [][]float64{{}}}},
	}
	m["one_series"] = &Input{
		WindowStart: t0, WindowEnd: t0 + 10*sec,
		Instance: "country-spike", Pipeline: "traffic_by_country",
		TagNames: []string{"src_country"}, FieldNames: []string{"sum_bytes", "count"},
		Dict: []string{"FR"}, SeriesTags: []uint32{0}, Series: 1,
		Frames: []Frame{
			{Start: t0, End: t0 + 10*sec, Columns: [][]float64{{1500}, {3}}},
			{Start: t0 - 10*sec, End: t0, Columns: [][]float64{{1200.5}, {2}}},
		},
	}
	{
		const S, N = 1000, 30
		r := rng(42)
		in := &Input{
			WindowStart: t0, WindowEnd: t0 + 60*sec,
			Instance: "large", Pipeline: "flows",
			TagNames:   []string{"dst_ip", "proto"},
			FieldNames: []string{"sum_bytes", "sum_packets", "distinct_src_ip"},
			Series:     S,
		}
		in.Dict = append(in.Dict, "tcp", "udp")
		for s := range S {
			in.Dict = append(in.Dict, fmt.Sprintf("10.%d.%d.%d", s/65536, s/256%256, s%256))
			in.SeriesTags = append(in.SeriesTags, uint32(2+s), uint32(s%2))
		}
		for k := range N + 1 {
			st := t0 - int64(k)*60*sec
			fr := Frame{Start: st, End: st + 60*sec}
			for f := range 3 {
				col := make([]float64, S)
				for s := range col {
					col[s] = r.float(float64(1000 * (f + 1)))
					if k > 0 && (s+k)%97 == 0 {
						col[s] = math.NaN()
					}
				}
				fr.Columns = append(fr.Columns, col)
			}
			in.Frames = append(in.Frames, fr)
		}
		m["large"] = in
	}
	m["special_values"] = &Input{
		WindowStart: t0, WindowEnd: t0 + 10*sec,
		Instance: "special", Pipeline: "p",
		TagNames: []string{"k"}, FieldNames: []string{"v"},
		Dict: []string{"a", "b", "c", "d", "e"}, SeriesTags: []uint32{0, 1, 2, 3, 4}, Series: 5,
		Frames: []Frame{
			{Start: t0, End: t0 + 10*sec, Columns: [][]float64{{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, 1e308}}},
			{Start: t0 - 10*sec, End: t0, Columns: [][]float64{{0, math.NaN(), 5e-324, math.Inf(1), -1e-300}}},
		},
	}
	m["unicode_tags"] = &Input{
		WindowStart: t0, WindowEnd: t0 + 10*sec,
		Instance: "ünïcode-instance", Pipeline: "städte",
		TagNames: []string{"city", "as_org"}, FieldNames: []string{"count"},
		Dict:       []string{"Zürich", "東京", "São Paulo", "Ελλάδα Telecom", "😀 emoji AS", ""},
		SeriesTags: []uint32{0, 3, 1, 4, 2, 5}, Series: 3,
		Frames: []Frame{{Start: t0, End: t0 + 10*sec, Columns: [][]float64{{1, 2, 3}}}},
	}
	m["history_incomplete"] = &Input{
		Flags:       FlagHistoryIncomplete | FlagHistoryOffset,
		WindowStart: t0, WindowEnd: t0 + 10*sec,
		Instance: "yesterday", Pipeline: "traffic",
		TagNames: []string{"src_country"}, FieldNames: []string{"sum_bytes"},
		Dict: []string{"DE", "US"}, SeriesTags: []uint32{0, 1}, Series: 2,
		Frames: []Frame{
			{Start: t0, End: t0 + 10*sec, Columns: [][]float64{{10, 20}}},
			{Start: t0 - 86400*sec + 2*sec, End: t0 - 86400*sec + 12*sec, Columns: [][]float64{{9, math.NaN()}}},
			{Start: t0 - 2*86400*sec, End: t0 - 2*86400*sec + 10*sec, Flags: FrameMissing, Columns: [][]float64{{math.NaN(), math.NaN()}}},
		},
	}
	return m
}

func goldenAlerts() map[string]*Alert {
	return map[string]*Alert{
		"alert_anomaly": {
			Severity: SeverityCrit, Kind: KindAnomaly, Series: 7, Field: 1,
			Observed: 5000, Expected: 1000, Lower: 0, Upper: 3000,
			Message: "sum_bytes 5.0× the same window 1 day ago",
		},
		"alert_prediction": {
			Severity: SeverityWarn, Kind: KindPrediction, Series: 0, Field: 0,
			Observed: 80, Expected: 95.5, Lower: math.NaN(), Upper: 100,
			Horizon: 3600 * sec, Message: "disk füll in 1h",
		},
		"alert_no_series": {
			Severity: SeverityOK, Kind: KindAnomaly, Series: NoIndex, Field: NoIndex,
			Observed: math.Inf(1), Expected: math.NaN(), Lower: math.NaN(), Upper: math.NaN(),
		},
	}
}

// jfloat writes non-finite values as strings, which JSON cannot hold.
func jfloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return f
}

// expectedOf describes what a decoder must read from v (ABI.md §11).
func expectedOf(v *View) map[string]any {
	strs := make([]string, v.NumStrings())
	for i := range strs {
		strs[i] = v.String(i)
	}
	tagNames, fieldNames := []string{}, []string{}
	for t := range v.NumTags() {
		tagNames = append(tagNames, v.TagName(t))
	}
	for f := range v.NumFields() {
		fieldNames = append(fieldNames, v.FieldName(f))
	}
	series := [][]string{}
	for s := range min(v.NumSeries(), 10) {
		tags := []string{}
		for t := range v.NumTags() {
			tags = append(tags, v.TagValue(s, t))
		}
		series = append(series, tags)
	}
	frames := []any{}
	for k := range v.NumFrames() {
		fr := v.Frame(k)
		fields := map[string]any{}
		for f := range v.NumFields() {
			col := fr.Column(f)
			sum, nan, pinf, ninf := 0.0, 0, 0, 0
			for _, x := range col {
				switch {
				case math.IsNaN(x):
					nan++
				case math.IsInf(x, 1):
					pinf++
				case math.IsInf(x, -1):
					ninf++
				default:
					sum += x
				}
			}
			first := []any{}
			for _, x := range col[:min(len(col), 5)] {
				first = append(first, jfloat(x))
			}
			fields[v.FieldName(f)] = map[string]any{
				"finite_sum": sum, "nan_count": nan, "pos_inf_count": pinf, "neg_inf_count": ninf,
				"first": first, "last": jfloatLast(col),
			}
		}
		frames = append(frames, map[string]any{
			"start": i64(fr.Start), "end": i64(fr.End), "flags": fr.Flags, "fields": fields,
		})
	}
	out := map[string]any{
		"major": v.Major, "minor": v.Minor, "flags": v.Flags, "total_len": len(v.Bytes()),
		"window_start": i64(v.WindowStart), "window_end": i64(v.WindowEnd), "frames": frames,
		"instance": v.Instance(), "pipeline": v.Pipeline(),
		"tag_names": tagNames, "field_names": fieldNames,
		"series_count": v.NumSeries(), "frame_count": v.NumFrames(),
		"series_tags_first10": series,
	}
	if v.NumStrings() <= 64 {
		out["strings"] = strs
	} else {
		out["string_count"] = v.NumStrings()
	}
	return out
}

// i64 is written as a decimal string: JavaScript numbers lose precision
// past 2^53 and nanosecond timestamps are past it.
func i64(x int64) string { return strconv.FormatInt(x, 10) }

func jfloatLast(col []float64) any {
	if len(col) == 0 {
		return nil
	}
	return jfloat(col[len(col)-1])
}

func alertExpected(a Alert) map[string]any {
	return map[string]any{
		"severity": a.Severity, "kind": a.Kind, "series": a.Series, "field": a.Field,
		"observed": jfloat(a.Observed), "expected": jfloat(a.Expected),
		"lower": jfloat(a.Lower), "upper": jfloat(a.Upper),
		"horizon": i64(a.Horizon), "message": a.Message,
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// checkGolden compares (or with -update writes) one golden file.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./abi -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the encoder's output: the wire format changed (if intended, -update and bump the ABI version)", path)
	}
}

func TestGoldenInputs(t *testing.T) {
	for name, in := range goldenInputs() {
		t.Run(name, func(t *testing.T) {
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			enc := in.Encode(nil)
			if len(enc) != in.Size() {
				t.Fatalf("Encode wrote %d bytes, Size says %d", len(enc), in.Size())
			}
			checkGolden(t, name+".bin", enc)
			// Decode the stored file, not the fresh encoding, so the JSON
			// states what is on disk.
			stored, err := os.ReadFile(filepath.Join("testdata", name+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			v, err := Decode(stored)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".json", marshal(t, expectedOf(v)))
			assertSameAsInput(t, in, v)
		})
	}
}

// assertSameAsInput checks a decoded view value by value against the input.
func assertSameAsInput(t *testing.T, in *Input, v *View) {
	t.Helper()
	if v.Flags != in.Flags || v.WindowStart != in.WindowStart || v.WindowEnd != in.WindowEnd ||
		v.Instance() != in.Instance || v.Pipeline() != in.Pipeline {
		t.Fatalf("header mismatch: %+v", v)
	}
	if v.NumSeries() != in.Series || v.NumFrames() != len(in.Frames) || v.NumTags() != len(in.TagNames) || v.NumFields() != len(in.FieldNames) {
		t.Fatalf("counts mismatch")
	}
	T := len(in.TagNames)
	for s := range in.Series {
		for ti := range T {
			if got, want := v.TagValue(s, ti), in.Dict[in.SeriesTags[s*T+ti]]; got != want {
				t.Fatalf("series %d tag %d = %q, want %q", s, ti, got, want)
			}
		}
	}
	for k, fr := range in.Frames {
		fv := v.Frame(k)
		if fv.Start != fr.Start || fv.End != fr.End || fv.Flags != fr.Flags {
			t.Fatalf("frame %d header mismatch", k)
		}
		for f, col := range fr.Columns {
			got := fv.Column(f)
			for s := range col {
				if math.Float64bits(got[s]) != math.Float64bits(col[s]) && !(math.IsNaN(got[s]) && math.IsNaN(col[s])) {
					t.Fatalf("frame %d field %d series %d = %v, want %v", k, f, s, got[s], col[s])
				}
			}
		}
	}
}

func TestGoldenAlerts(t *testing.T) {
	for name, a := range goldenAlerts() {
		t.Run(name, func(t *testing.T) {
			enc := EncodeAlert(a, nil)
			checkGolden(t, name+".bin", enc)
			got, err := DecodeAlert(enc)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".json", marshal(t, alertExpected(got)))
			if got.Message != a.Message || got.Series != a.Series || got.Horizon != a.Horizon || got.Severity != a.Severity {
				t.Fatalf("round trip: got %+v, want %+v", got, *a)
			}
		})
	}
}
