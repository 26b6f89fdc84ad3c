// Package window aggregates rows in event-time tumbling windows, grouped by
// key fields, with mergeable aggregate states.
//
// Time: a window is [start, start+Size) with start a multiple of Size since
// the Unix epoch. The watermark is the largest event time seen minus
// Lateness (or a later time given to AdvanceTo). A window closes once the
// watermark reaches its end; a row whose window has closed is late and is
// not aggregated (Add says so; the caller counts or dead-letters it).
//
// Determinism: a window's result does not depend on the order its rows
// arrived in, except for
//   - first/last: the row with the smallest (first) or largest (last) event
//     time wins; on equal times the earlier-arrived row wins for first and
//     the later-arrived for last (Merge treats the receiver as earlier);
//   - sum/avg/product of non-integers: float addition is not associative.
//     Sums use Neumaier compensation, so a reordering rarely changes even
//     the last bit, but it can; sums and products of integers below 2^53
//     are exact and so order-free;
//   - which keys land in "__overflow__" once MaxKeys is reached (the first
//     MaxKeys keys to arrive keep their own point).
//
// NaN: a NaN number is "no value". Value aggregates (sum, product, min,
// max, avg, first, last, percentile, count_distinct of a number and
// count(field) of a number) skip it; count() counts every row. An aggregate
// that saw no value has Present false. ±Inf are values, except for
// percentile, whose sketch cannot hold them (they are left out).
//
// Percentile uses DDSketch with 1 % relative accuracy: the reported value v
// for quantile q satisfies |v − x| ≤ 0.01·|x| where x is the exact value of
// 0-based rank ⌊q·(n−1)⌋ in sorted order (no interpolation). At most 2048
// bins are kept per sign; past that the lowest bins collapse, which loses
// accuracy only on the lowest quantiles of data spanning more than ~17
// orders of magnitude.
//
// count_distinct is exact (a set of 64-bit MetroHash values; a collision
// among n values has probability about n²/2⁶⁵, 2.7e-14 for n = 1000) up to
// DistinctExact values, then a HyperLogLog sketch of precision 14: standard
// error 0.8 %, worst of 10 trials about 2 % at 10⁵ and 10⁶ values.
//
// Memory: Ready forgets the windows it returns; a window holds at most
// MaxKeys+1 keys. Per key and aggregate the state is a few float64s, except
// count_distinct (up to DistinctExact hashes, then a 16 KiB sketch) and
// percentile (one sketch per field, at most 2×2048 bins of 8 bytes). A
// Result keeps that state for Merge until Release or until it is dropped.
package window

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tidemark/tidemark/host/record"
)

// AggSpec is one aggregate of a window.
type AggSpec struct {
	// Func is "sum", "product", "min", "max", "count", "count_distinct",
	// "avg", "first", "last" or "percentile".
	Func string
	// Field is the row slot; -1 for count().
	Field int
	// Kind is the field's kind: count_distinct accepts strings or numbers,
	// count(field) either, the others numbers.
	Kind record.Kind
	// Q is the quantile of percentile, in (0, 1].
	Q float64
	// Name is the output field name (see DefaultName).
	Name string
}

// Config describes a tumbling window stage.
type Config struct {
	Size, Lateness time.Duration
	// GroupBy holds the row slots of the key fields. A number key is written
	// as a tag with strconv.FormatFloat(v, 'f', -1, 64).
	GroupBy []int
	// GroupNames are the tag names, in GroupBy order.
	GroupNames []string
	// GroupKinds are the kinds of the key fields, in GroupBy order. Optional
	// but recommended: when nil, a key field is read as a string when its
	// Str slot is non-nil and as a number otherwise, so an empty string held
	// as a nil slice would become the tag "0".
	GroupKinds []record.Kind
	Aggs       []AggSpec
	// MaxKeys bounds the keys of one window (default 100000). Rows with a
	// new key past it are folded into the key whose every tag is
	// "__overflow__", and Overflowed counts them.
	MaxKeys int
	// DistinctExact is the largest exact distinct set kept per key and
	// aggregate before it turns into a HyperLogLog sketch (default 1000).
	DistinctExact int
	// ExternalWatermark leaves the watermark to AdvanceTo alone: Add no
	// longer raises it from the rows' times. The pipeline uses it to hold
	// the watermark at the slowest input partition.
	ExternalWatermark bool
}

// OverflowTag is the tag value of the key that takes rows past MaxKeys.
const OverflowTag = "__overflow__"

const (
	defaultMaxKeys       = 100000
	defaultDistinctExact = 1000
)

// Result is the output of one closed window.
type Result struct {
	Start, End int64 // Unix ns
	// Points holds one point per key, sorted by tags.
	Points []Point

	// tab is the mergeable state behind Points; nil after Release.
	tab *table
}

// Point is the aggregate of one key. Tags follow Config.GroupNames and
// Values/Present follow Config.Aggs.
type Point struct {
	Tags    []string
	Values  []float64
	Present []bool // false when the aggregate saw no value (e.g. min of only NaN)
}

// Merge adds o's aggregates into r, as if o's rows had been added to r's
// window after r's own. Both must come from the same Config and window.
// Keys o brings past MaxKeys go to the overflow key, in key order.
func (r *Result) Merge(o *Result) error {
	if r.tab == nil || o.tab == nil {
		return errors.New("window: merge of a released result")
	}
	if r.Start != o.Start || r.End != o.End {
		return fmt.Errorf("window: merge of window [%d,%d) into [%d,%d)", o.Start, o.End, r.Start, r.End)
	}
	if !r.tab.lay.compatible(o.tab.lay) {
		return errors.New("window: merge of results with different configs")
	}
	if err := r.tab.merge(o.tab); err != nil {
		return fmt.Errorf("window: merge [%d,%d): %w", r.Start, r.End, err)
	}
	r.Points = r.tab.points()
	return nil
}

// Release drops the mergeable state (distinct sets and sketches) and keeps
// Points; Merge fails afterwards. Call it when the result will not be
// merged, to hand the memory back before the sink has written it.
func (r *Result) Release() { r.tab = nil }

// Tumbling assigns rows to event-time tumbling windows and aggregates them.
// It is not safe for concurrent use.
type Tumbling struct {
	size, lateness int64
	lay            *layout

	wm       int64     // watermark
	external bool      // only AdvanceTo moves wm
	wins     []*window // open windows, oldest first
	last     *window   // window of the previous row, usually the next one's too

	buf        []byte // group key being built, reused
	overflowed uint64
}

type window struct {
	start, end int64
	tab        *table
}

// NewTumbling checks cfg and returns an empty window stage.
func NewTumbling(cfg Config) (*Tumbling, error) {
	if cfg.Size <= 0 {
		return nil, fmt.Errorf("window: size %v must be positive", cfg.Size)
	}
	if cfg.Lateness < 0 {
		return nil, fmt.Errorf("window: lateness %v must not be negative", cfg.Lateness)
	}
	lay, err := newLayout(&cfg)
	if err != nil {
		return nil, err
	}
	return &Tumbling{
		size:     int64(cfg.Size),
		lateness: int64(cfg.Lateness),
		lay:      lay,
		wm:       math.MinInt64,
		external: cfg.ExternalWatermark,
		buf:      make([]byte, 0, 64),
	}, nil
}

// WindowStart returns the start of the window holding ts.
func (t *Tumbling) WindowStart(ts int64) int64 {
	r := ts % t.size
	if r < 0 {
		r += t.size
		if ts < math.MinInt64+r {
			return math.MinInt64 // the aligned start is not representable
		}
	}
	return ts - r
}

// Watermark is the largest event time seen minus the lateness, or the
// latest AdvanceTo if that is later; math.MinInt64 before any input.
func (t *Tumbling) Watermark() int64 { return t.wm }

// AdvanceTo raises the watermark to ts (it never goes down), so windows
// close while input is idle.
func (t *Tumbling) AdvanceTo(ts int64) {
	if ts > t.wm {
		t.wm = ts
	}
}

// Open is the number of windows held: open ones and closed ones that Ready
// has not returned yet.
func (t *Tumbling) Open() int { return len(t.wins) }

// Overflowed counts the rows folded into the overflow key because their
// window already held MaxKeys keys.
func (t *Tumbling) Overflowed() uint64 { return t.overflowed }

// Add folds row into its window and returns the window start. late is true
// when that window had already closed; the row is then not aggregated.
// Add keeps no reference to row or its strings.
func (t *Tumbling) Add(row *record.Row) (start int64, late bool) {
	ts := row.Time
	w := t.last
	if w == nil || ts < w.start || ts >= w.end {
		start = t.WindowStart(ts)
		if end(start, t.size) <= t.wm {
			return start, true
		}
		w = t.window(start)
		t.last = w
	} else if w.end <= t.wm {
		return w.start, true
	}
	if ts >= math.MinInt64+t.lateness {
		if m := ts - t.lateness; m > t.wm && !t.external {
			t.wm = m
		}
	}
	w.tab.fold(t.key(w.tab, row), row)
	return w.start, false
}

// end is start+size without overflow.
func end(start, size int64) int64 {
	if start > math.MaxInt64-size {
		return math.MaxInt64
	}
	return start + size
}

// window returns the window starting at start, creating it if needed.
func (t *Tumbling) window(start int64) *window {
	i := len(t.wins)
	for i > 0 && t.wins[i-1].start >= start {
		if t.wins[i-1].start == start {
			return t.wins[i-1]
		}
		i--
	}
	w := &window{start: start, end: end(start, t.size), tab: newTable(t.lay)}
	t.wins = append(t.wins, nil)
	copy(t.wins[i+1:], t.wins[i:])
	t.wins[i] = w
	return w
}

// key returns the key index of row in tab, adding the key (or folding it
// into the overflow key) when it is new.
func (t *Tumbling) key(tab *table, row *record.Row) int {
	if len(t.lay.groupBy) == 0 {
		if len(tab.keys) == 0 {
			return tab.newKey("")
		}
		return 0
	}
	t.buf = t.lay.appendKey(t.buf[:0], row)
	if k, ok := tab.index[string(t.buf)]; ok {
		return int(k)
	}
	if tab.realKeys() >= t.lay.maxKeys {
		t.overflowed++
		return tab.overflowKey()
	}
	return tab.newKey(string(t.buf))
}

// Ready returns the windows whose end is at or before the watermark,
// oldest first, and forgets them.
func (t *Tumbling) Ready() []*Result {
	n := 0
	for n < len(t.wins) && t.wins[n].end <= t.wm {
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]*Result, 0, n)
	for _, w := range t.wins[:n] {
		if w == t.last {
			t.last = nil
		}
		if len(w.tab.keys) == 0 {
			continue
		}
		out = append(out, &Result{Start: w.start, End: w.end, Points: w.tab.points(), tab: w.tab})
	}
	m := copy(t.wins, t.wins[n:])
	clear(t.wins[m:])
	t.wins = t.wins[:m]
	return out
}
