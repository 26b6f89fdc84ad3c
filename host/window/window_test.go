package window

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/record"
)

// testSchema: host (string), port (number), bytes, size, src (string).
var testSchema = record.MustSchema(
	record.Field{Name: "host", Kind: record.String},
	record.Field{Name: "port", Kind: record.Number},
	record.Field{Name: "bytes", Kind: record.Number},
	record.Field{Name: "size", Kind: record.Number},
	record.Field{Name: "src", Kind: record.String},
)

const (
	slotHost = iota
	slotPort
	slotBytes
	slotSize
	slotSrc
)

func agg(fn string, slot int, q float64) AggSpec {
	a := AggSpec{Func: fn, Field: slot, Q: q}
	field := ""
	if slot >= 0 {
		f := testSchema.Field(slot)
		a.Kind, field = f.Kind, f.Name
	}
	a.Name = DefaultName(fn, field, q)
	return a
}

// allAggs has every aggregate, first/last included.
func allAggs() []AggSpec {
	return []AggSpec{
		agg("sum", slotBytes, 0), agg("product", slotSize, 0), agg("min", slotBytes, 0),
		agg("max", slotBytes, 0), agg("count", -1, 0), agg("count_distinct", slotSrc, 0),
		agg("count_distinct", slotBytes, 0), agg("avg", slotBytes, 0), agg("first", slotBytes, 0),
		agg("last", slotBytes, 0), agg("percentile", slotBytes, 0.5), agg("percentile", slotBytes, 0.99),
	}
}

func hostPortConfig(aggs []AggSpec) Config {
	return Config{
		Size: 10 * time.Second, Lateness: 5 * time.Second,
		GroupBy: []int{slotHost, slotPort}, GroupNames: []string{"host", "port"},
		GroupKinds: []record.Kind{record.String, record.Number},
		Aggs:       aggs,
	}
}

type testRow struct {
	t          int64
	host, src  string
	port       float64
	bytes, siz float64
}

func (r testRow) load(row *record.Row) {
	row.Reset()
	row.Time = r.t
	row.Scratch = append(row.Scratch, r.host...)
	row.Str[slotHost] = row.Scratch[:len(r.host)]
	row.Scratch = append(row.Scratch, r.src...)
	row.Str[slotSrc] = row.Scratch[len(r.host):]
	row.Num[slotPort] = r.port
	row.Num[slotBytes] = r.bytes
	row.Num[slotSize] = r.siz
}

func mustTumbling(t testing.TB, cfg Config) *Tumbling {
	t.Helper()
	tw, err := NewTumbling(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// drain closes every window and returns the results.
func drain(tw *Tumbling) []*Result {
	tw.AdvanceTo(math.MaxInt64)
	return tw.Ready()
}

func TestAddAllocatesNothingOnExistingKeys(t *testing.T) {
	cases := map[string]Config{
		"two keys, four aggregates": hostPortConfig([]AggSpec{
			agg("sum", slotBytes, 0), agg("count", -1, 0), agg("max", slotBytes, 0), agg("avg", slotBytes, 0)}),
		"every aggregate": hostPortConfig(allAggs()),
		"no group_by":     {Size: time.Minute, Aggs: allAggs()},
		"inferred kinds": {Size: time.Minute, GroupBy: []int{slotHost, slotPort}, GroupNames: []string{"host", "port"},
			Aggs: []AggSpec{agg("sum", slotBytes, 0)}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			tw := mustTumbling(t, cfg)
			rows := []testRow{
				{t: 1e9, host: "a", port: 80, bytes: 100, siz: 1, src: "x"},
				{t: 2e9, host: "b", port: 443, bytes: 7, siz: 1, src: "y"},
			}
			row := record.NewRow(testSchema)
			for _, r := range rows { // warm up: create the window and keys
				r.load(row)
				tw.Add(row)
			}
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				rows[i%2].load(row)
				if _, late := tw.Add(row); late {
					t.Fatal("late")
				}
				i++
			})
			if allocs != 0 {
				t.Errorf("Add allocates %v times per call, want 0", allocs)
			}
		})
	}
}

// randomRows returns n rows over a few windows and keys, with integer
// values so that sums are exact whatever the order.
func randomRows(rng *rand.Rand, n, distinct int) []testRow {
	rows := make([]testRow, n)
	for i := range rows {
		rows[i] = testRow{
			t:     rng.Int64N(int64(35 * time.Second)),
			host:  string(rune('a' + rng.IntN(3))),
			port:  float64(rng.IntN(2) * 80),
			bytes: float64(rng.IntN(1500) - 100),
			siz:   float64([]int{1, -1, 2}[rng.IntN(3)]),
			src:   "10.0.0." + strconv.Itoa(rng.IntN(distinct)),
		}
	}
	return rows
}

// orderFree drops first/last, whose ties follow arrival.
func orderFree(aggs []AggSpec) []AggSpec {
	var out []AggSpec
	for _, a := range aggs {
		if a.Func != "first" && a.Func != "last" {
			out = append(out, a)
		}
	}
	return out
}

func run(t testing.TB, cfg Config, rows []testRow) []*Result {
	tw := mustTumbling(t, cfg)
	row := record.NewRow(testSchema)
	var out []*Result
	for _, r := range rows {
		r.load(row)
		if _, late := tw.Add(row); late {
			t.Fatalf("row %+v late", r)
		}
		out = append(out, tw.Ready()...)
	}
	return append(out, drain(tw)...)
}

func pointsOf(rs []*Result) map[int64][]Point {
	m := map[int64][]Point{}
	for _, r := range rs {
		m[r.Start] = r.Points
	}
	return m
}

// Any order of the same rows gives the same points (first/last aside).
func TestResultIgnoresOrder(t *testing.T) {
	for _, distinct := range []int{20, 3000} { // exact sets and HLL sketches
		t.Run(fmt.Sprintf("distinct=%d", distinct), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(distinct)))
			rows := randomRows(rng, 5000, distinct)
			cfg := hostPortConfig(orderFree(allAggs()))
			cfg.Lateness = time.Minute // nothing late in any order
			cfg.DistinctExact = 100
			want := pointsOf(run(t, cfg, rows))
			if len(want) != 4 {
				t.Fatalf("%d windows, want 4", len(want))
			}
			for range 5 {
				rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
				if got := pointsOf(run(t, cfg, rows)); !reflect.DeepEqual(got, want) {
					t.Fatalf("shuffled input gives other points:\n got %v\nwant %v", got, want)
				}
			}
		})
	}
}

// Merging the results of two halves gives the result of the whole.
func TestMergeOfHalvesIsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	rows := randomRows(rng, 4000, 500)
	// Distinct times, so that first/last do not depend on arrival.
	for i := range rows {
		rows[i].t = rows[i].t/int64(time.Millisecond)*int64(time.Millisecond) + int64(i)
	}
	cfg := hostPortConfig(allAggs())
	cfg.Lateness = time.Minute
	cfg.DistinctExact = 100
	want := pointsOf(run(t, cfg, rows))

	var a, b []testRow
	for _, r := range rows {
		if rng.IntN(2) == 0 {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	ra, rb := run(t, cfg, a), run(t, cfg, b)
	byStart := map[int64]*Result{}
	for _, r := range ra {
		byStart[r.Start] = r
	}
	for _, r := range rb {
		if m, ok := byStart[r.Start]; ok {
			if err := m.Merge(r); err != nil {
				t.Fatal(err)
			}
		} else {
			byStart[r.Start] = r
		}
	}
	got := map[int64][]Point{}
	for s, r := range byStart {
		got[s] = r.Points
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged halves differ from the whole:\n got %v\nwant %v", got, want)
	}
}

func TestMergeRejects(t *testing.T) {
	cfg := hostPortConfig([]AggSpec{agg("sum", slotBytes, 0)})
	rows := []testRow{{t: 1, host: "a"}, {t: int64(11 * time.Second), host: "a"}}
	rs := run(t, cfg, rows)
	if err := rs[0].Merge(rs[1]); err == nil || !strings.Contains(err.Error(), "merge of window") {
		t.Errorf("merge of two windows: err = %v", err)
	}
	other := run(t, hostPortConfig([]AggSpec{agg("max", slotBytes, 0)}), rows[:1])
	if err := rs[0].Merge(other[0]); err == nil || !strings.Contains(err.Error(), "different configs") {
		t.Errorf("merge of other configs: err = %v", err)
	}
	again := run(t, cfg, rows[:1])
	again[0].Release()
	if err := rs[0].Merge(again[0]); err == nil || !strings.Contains(err.Error(), "released") {
		t.Errorf("merge of a released result: err = %v", err)
	}
	if len(again[0].Points) != 1 {
		t.Errorf("Release dropped the points")
	}
}

// Merging respects MaxKeys: keys past it go to the overflow key.
func TestMergeOverflow(t *testing.T) {
	cfg := hostPortConfig([]AggSpec{agg("count", -1, 0)})
	cfg.MaxKeys = 2
	a := run(t, cfg, []testRow{{t: 1, host: "a"}, {t: 1, host: "b"}})
	b := run(t, cfg, []testRow{{t: 1, host: "c"}, {t: 1, host: "a"}, {t: 1, host: "d"}})
	if err := a[0].Merge(b[0]); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range a[0].Points {
		got = append(got, fmt.Sprintf("%s/%s=%v", p.Tags[0], p.Tags[1], p.Values[0]))
	}
	want := []string{"__overflow__/__overflow__=2", "a/0=2", "b/0=1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("points %v, want %v", got, want)
	}
}

// Without GroupKinds a key field is a string when its Str slot is set.
func TestInferredGroupKinds(t *testing.T) {
	cfg := Config{Size: time.Second, GroupBy: []int{slotHost, slotPort}, GroupNames: []string{"host", "port"},
		Aggs: []AggSpec{agg("count", -1, 0)}}
	rs := run(t, cfg, []testRow{{host: "a", port: 8080}, {host: "", port: math.Copysign(0, -1)}, {host: "a", port: 8080.5}, {host: "a", port: 1e21}})
	var got []string
	for _, p := range rs[0].Points {
		got = append(got, strings.Join(p.Tags, "/"))
	}
	want := []string{"/0", "a/1000000000000000000000", "a/8080", "a/8080.5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tags %q, want %q", got, want)
	}
}

func TestNewTumblingErrors(t *testing.T) {
	good := func() Config { return hostPortConfig([]AggSpec{agg("sum", slotBytes, 0)}) }
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"zero size", func(c *Config) { c.Size = 0 }, "size 0s must be positive"},
		{"negative lateness", func(c *Config) { c.Lateness = -1 }, "lateness"},
		{"names", func(c *Config) { c.GroupNames = c.GroupNames[:1] }, "2 group_by slots but 1 names"},
		{"kinds", func(c *Config) { c.GroupKinds = c.GroupKinds[:1] }, "2 group_by slots but 1 kinds"},
		{"bool key", func(c *Config) { c.GroupKinds[0] = record.Bool }, `group_by "host": cannot group by a bool`},
		{"no aggs", func(c *Config) { c.Aggs = nil }, "no aggregate"},
		{"unknown", func(c *Config) { c.Aggs[0].Func = "summ" }, `unknown function "summ" (did you mean "sum"?)`},
		{"string sum", func(c *Config) { c.Aggs[0] = agg("sum", slotHost, 0) }, "sum of a string field: needs a number"},
		{"no field", func(c *Config) { c.Aggs[0].Field = -1 }, "sum needs a field"},
		{"quantile", func(c *Config) { c.Aggs[0] = agg("percentile", slotBytes, 0) }, "quantile 0 not in (0, 1]"},
		{"no name", func(c *Config) { c.Aggs[0].Name = "" }, "has no name"},
		{"duplicate", func(c *Config) { c.Aggs = append(c.Aggs, c.Aggs[0]) }, `duplicate name "sum_bytes"`},
		{"max_keys", func(c *Config) { c.MaxKeys = -1 }, "must not be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.edit(&cfg)
			_, err := NewTumbling(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := NewTumbling(good()); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestValidateAgg(t *testing.T) {
	for _, fn := range funcs {
		if err := ValidateAgg(fn); err != nil {
			t.Errorf("ValidateAgg(%q) = %v", fn, err)
		}
	}
	cases := map[string]string{
		"summ":          `unknown function "summ" (did you mean "sum"?)`,
		"cnt":           `unknown function "cnt" (did you mean "count"?)`,
		"countdistinct": `unknown function "countdistinct" (did you mean "count_distinct"?)`,
		"percentil":     `unknown function "percentil" (did you mean "percentile"?)`,
		"median_abs":    `unknown function "median_abs" (known: sum, count,`,
	}
	for fn, want := range cases {
		if err := ValidateAgg(fn); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ValidateAgg(%q) = %v, want %s", fn, err, want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	cases := []struct {
		fn, field string
		q         float64
		want      string
	}{
		{"sum", "bytes", 0, "sum_bytes"}, {"count", "", 0, "count"}, {"count", "x", 0, "count_x"},
		{"count_distinct", "src_ip", 0, "distinct_src_ip"}, {"percentile", "packet_size", 0.95, "p95_packet_size"},
		{"percentile", "rtt", 0.999, "p99_9_rtt"}, {"percentile", "x", 0.07, "p7_x"}, {"percentile", "x", 1, "p100_x"},
		{"avg", "x", 0, "avg_x"}, {"min", "x", 0, "min_x"}, {"max", "x", 0, "max_x"},
		{"product", "x", 0, "product_x"}, {"first", "x", 0, "first_x"}, {"last", "x", 0, "last_x"},
	}
	for _, c := range cases {
		if got := DefaultName(c.fn, c.field, c.q); got != c.want {
			t.Errorf("DefaultName(%q, %q, %v) = %q, want %q", c.fn, c.field, c.q, got, c.want)
		}
	}
	if !FieldIsInt("count") || !FieldIsInt("count_distinct") || FieldIsInt("sum") || FieldIsInt("avg") {
		t.Error("FieldIsInt: only count and count_distinct are integers")
	}
}

func TestWindowStart(t *testing.T) {
	tw := mustTumbling(t, Config{Size: 10 * time.Second, Aggs: []AggSpec{agg("count", -1, 0)}})
	s := int64(time.Second)
	for ts, want := range map[int64]int64{0: 0, 9*s + 999: 0, 10 * s: 10 * s, -1: -10 * s, -10 * s: -10 * s, -11 * s: -20 * s} {
		if got := tw.WindowStart(ts); got != want {
			t.Errorf("WindowStart(%d) = %d, want %d", ts, got, want)
		}
	}
	// Extreme times neither panic nor wrap around.
	if got := tw.WindowStart(math.MinInt64); got != math.MinInt64 {
		t.Errorf("WindowStart(MinInt64) = %d", got)
	}
	row := record.NewRow(testSchema)
	row.Time = math.MaxInt64
	if _, late := tw.Add(row); late {
		t.Error("first row late")
	}
	row.Time = math.MinInt64
	if _, late := tw.Add(row); !late {
		t.Error("MinInt64 after MaxInt64 not late")
	}
	if rs := drain(tw); len(rs) != 1 || rs[0].End != math.MaxInt64 {
		t.Errorf("after draining: %d results, want 1 ending at MaxInt64", len(rs))
	}
}
