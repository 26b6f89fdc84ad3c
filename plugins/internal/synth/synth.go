// Package synth builds synthetic windows for the built-in analyzers' tests:
// seasonal series with deterministic noise and injected anomalies, encoded
// as analyze inputs with their history, plus golden-file helpers.
package synth

import (
	"math"
	"strconv"

	"github.com/tidemark/tidemark/abi"
)

// Scenario describes a family of series over consecutive windows.
type Scenario struct {
	Instance string
	Width    int64 // window width, ns
	Start    int64 // start of window 0, ns
	Tag      string
	Series   []string // tag values, one series each
	Fields   []string
	Windows  int
	// Value is the value of field f of series s in window w (NaN = missing).
	Value func(w, s, f int) float64
}

// Input returns the analyze input for window w with up to history earlier
// windows as frames 1..N (newest first); windows before 0 are MISSING and
// make the input HISTORY_INCOMPLETE.
func (sc *Scenario) Input(w, history int) *abi.Input {
	in := &abi.Input{
		WindowStart: sc.Start + int64(w)*sc.Width,
		WindowEnd:   sc.Start + int64(w+1)*sc.Width,
		Instance:    sc.Instance,
		Pipeline:    "synthetic",
		TagNames:    []string{sc.Tag},
		FieldNames:  sc.Fields,
		Dict:        sc.Series,
		Series:      len(sc.Series),
	}
	for s := range sc.Series {
		in.SeriesTags = append(in.SeriesTags, uint32(s))
	}
	for k := 0; k <= history; k++ {
		ww := w - k
		fr := abi.Frame{Start: sc.Start + int64(ww)*sc.Width, End: sc.Start + int64(ww+1)*sc.Width}
		if ww < 0 {
			fr.Flags = abi.FrameMissing
			in.Flags |= abi.FlagHistoryIncomplete
		}
		for f := range sc.Fields {
			col := make([]float64, len(sc.Series))
			for s := range col {
				if ww < 0 {
					col[s] = math.NaN()
				} else {
					col[s] = sc.Value(ww, s, f)
				}
			}
			fr.Columns = append(fr.Columns, col)
		}
		in.Frames = append(in.Frames, fr)
	}
	return in
}

// Noise is deterministic noise in [-1, 1) for (w, s, f).
func Noise(w, s, f int) float64 {
	x := uint64(w)*0x9E3779B97F4A7C15 ^ uint64(s)*0xC2B2AE3D27D4EB4F ^ uint64(f)*0x165667B19E3779F9
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return float64(x>>11)/float64(1<<52) - 1
}

// Seasonal is base·(1 + amp·sin(2πw/period)) · (1 + noise·Noise).
func Seasonal(w, s, f, period int, base, amp, noise float64) float64 {
	return base * (1 + amp*math.Sin(2*math.Pi*float64(w)/float64(period))) * (1 + noise*Noise(w, s, f))
}

// Record is one alert as the golden files store it.
type Record struct {
	Window   int     `json:"window"`
	Series   string  `json:"series"`
	Field    string  `json:"field"`
	Severity string  `json:"severity"`
	Kind     string  `json:"kind"`
	Observed float64 `json:"observed"`
	Expected float64 `json:"expected"`
	Horizon  int64   `json:"horizon_ns,omitempty"`
	Message  string  `json:"message"`
}

// Records converts one window's alerts.
func Records(w int, in *abi.Input, alerts []abi.Alert) []Record {
	var out []Record
	for _, a := range alerts {
		r := Record{Window: w, Severity: a.Severity.String(), Kind: a.Kind.String(),
			Observed: round(a.Observed), Expected: round(a.Expected), Horizon: a.Horizon, Message: a.Message}
		if a.Series != abi.NoIndex {
			r.Series = in.Dict[in.SeriesTags[int(a.Series)*len(in.TagNames)]]
		}
		if a.Field != abi.NoIndex {
			r.Field = in.FieldNames[a.Field]
		}
		out = append(out, r)
	}
	return out
}

// round keeps golden files stable across float formatting and makes
// non-finite values JSON-safe (NaN/Inf become 0 / ±1e308).
func round(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return 1e308
	case math.IsInf(v, -1):
		return -1e308
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return r
}

// FiredAt returns the windows at which any record has severity ≥ warn, for
// series (any series when "").
func FiredAt(recs []Record, series string) []int {
	var ws []int
	for _, r := range recs {
		if (series == "" || r.Series == series) && (r.Severity == "warn" || r.Severity == "crit") {
			if len(ws) == 0 || ws[len(ws)-1] != r.Window {
				ws = append(ws, r.Window)
			}
		}
	}
	return ws
}
