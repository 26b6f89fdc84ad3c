// Probe is the SDK's test analyzer: it reports what it decoded so the test
// can compare it with the golden vectors, and exercises options, state, logs
// and hot-reload state transfer.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"

	tm "github.com/tidemark/tidemark/sdk/go"
)

func init() { tm.Register(&probe{}) }

type probe struct {
	factor float64
	tags   []string
	loaded int // windows seen, carried across a reload by SaveState/LoadState
}

func (p *probe) Init(opts tm.Options) error {
	p.factor = opts.Float("factor", -1)
	p.tags = opts.Strings("tags", nil)
	if opts.Bool("fail_init", false) {
		return errors.New("asked to fail")
	}
	return nil
}

func (p *probe) Analyze(in *tm.Input, out *tm.Emitter) error {
	switch in.Pipeline() {
	case "panic":
		panic("probe: asked to panic")
	case "error":
		return errors.New("probe: asked to fail")
	}
	p.loaded++
	calls := 0
	if b, err := tm.StateGet("calls"); err == nil {
		calls, _ = strconv.Atoi(string(b))
	} else if !errors.Is(err, tm.ErrNotFound) {
		return err
	}
	calls++
	if err := tm.StateSet("calls", []byte(strconv.Itoa(calls))); err != nil {
		return err
	}
	tm.Logf(slog.LevelInfo, "window %s series=%d", in.Start().Format("15:04:05"), in.Series())

	// One info alert per frame: the finite sum of all its columns.
	for k := 0; k <= in.HistoryLen(); k++ {
		fr := in.Frame(k)
		sum := 0.0
		for f := range in.Fields() {
			for _, v := range fr.Column(f) {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					sum += v
				}
			}
		}
		out.Emit(tm.Alert{Severity: tm.Info, Series: tm.NoSeries, Field: tm.NoField,
			Observed: sum, Expected: float64(k), Horizon: fr.Start().Sub(in.Start()),
			Message: fmt.Sprintf("frame=%d missing=%v", k, fr.Missing())})
	}
	key := ""
	if in.Series() > 0 {
		key = in.SeriesKey(in.Series() - 1)
	}
	// Past the history, frames are missing and all NaN, never out of range.
	beyond := in.History(in.HistoryLen() + 5)
	nan := len(in.Fields()) == 0 || in.Series() == 0 || math.IsNaN(beyond.Column(0)[0])
	return out.Emit(tm.Alert{Severity: tm.Warn, Kind: tm.Prediction, Series: tm.NoSeries, Field: tm.NoField,
		Observed: float64(calls), Expected: float64(p.loaded), Lower: p.factor, Upper: math.Inf(1),
		Message: fmt.Sprintf("%s|%s|%s|tags=%v|incomplete=%v|offset=%v|beyond_nan=%v",
			in.Instance(), in.Pipeline(), key, p.tags, in.HistoryIncomplete(), in.HistoryOffset(), nan)})
}

func (p *probe) SaveState() ([]byte, error) { return []byte(strconv.Itoa(p.loaded)), nil }

func (p *probe) LoadState(b []byte) error {
	n, err := strconv.Atoi(string(b))
	p.loaded = n
	return err
}

func main() {}
