package window

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"

	"github.com/tidemark/tidemark/host/record"
	"github.com/tidemark/tidemark/host/window/internal/distinct"
)

const (
	percentileAccuracy = 0.01
	percentileMaxBins  = 2048
)

type opKind uint8

// Number slots per key of each op; distinct and percentile ops index
// per-key sets and sketches instead.
const (
	opCount      opKind = iota // [n]
	opCountField               // [n]: count of non-NaN values
	opSum                      // [n, sum, compensation]
	opAvg                      // [n, sum, compensation]
	opProduct                  // [n, product]
	opMin                      // [n, min]
	opMax                      // [n, max]
	opFirst                    // [n, value, time]
	opLast                     // [n, value, time]
	opDistinct                 // index into the key's sets
	opPercentile               // index into the key's sketches
)

var opSlots = [...]int{opCount: 1, opCountField: 1, opSum: 3, opAvg: 3, opProduct: 2, opMin: 2, opMax: 2, opFirst: 3, opLast: 3}

type op struct {
	kind  opKind
	field int
	str   bool    // count_distinct of a string
	off   int     // first number slot, or set/sketch index
	q     float64 // percentile
}

// layout is the compiled Config shared by all windows of a Tumbling.
type layout struct {
	aggs       []AggSpec
	ops        []op
	numSlots   int       // number slots per key
	init       []float64 // initial number slots of a key
	nSets      int
	sketchOf   []int // field of each per-key sketch (one per percentile field)
	groupBy    []int
	groupKinds []record.Kind // 0: decided per row
	maxKeys    int
	exact      int
	overflow   string // encoded overflow key
	mapping    mapping.IndexMapping
}

func newLayout(cfg *Config) (*layout, error) {
	if len(cfg.GroupNames) != len(cfg.GroupBy) {
		return nil, fmt.Errorf("window: %d group_by slots but %d names", len(cfg.GroupBy), len(cfg.GroupNames))
	}
	if cfg.GroupKinds != nil && len(cfg.GroupKinds) != len(cfg.GroupBy) {
		return nil, fmt.Errorf("window: %d group_by slots but %d kinds", len(cfg.GroupBy), len(cfg.GroupKinds))
	}
	if len(cfg.Aggs) == 0 {
		return nil, fmt.Errorf("window: no aggregate")
	}
	if cfg.MaxKeys < 0 || cfg.DistinctExact < 0 {
		return nil, fmt.Errorf("window: max_keys %d and distinct_exact %d must not be negative", cfg.MaxKeys, cfg.DistinctExact)
	}
	l := &layout{
		aggs:    slices.Clone(cfg.Aggs),
		groupBy: slices.Clone(cfg.GroupBy),
		maxKeys: cmp.Or(cfg.MaxKeys, defaultMaxKeys),
		exact:   cmp.Or(cfg.DistinctExact, defaultDistinctExact),
	}
	l.groupKinds = make([]record.Kind, len(cfg.GroupBy))
	for i, slot := range cfg.GroupBy {
		if slot < 0 {
			return nil, fmt.Errorf("window: group_by %q: bad slot %d", cfg.GroupNames[i], slot)
		}
		if cfg.GroupKinds != nil {
			k := cfg.GroupKinds[i]
			if k != record.String && k != record.Number {
				return nil, fmt.Errorf("window: group_by %q: cannot group by a %s", cfg.GroupNames[i], k)
			}
			l.groupKinds[i] = k
		}
		l.overflow += "s" + string(rune(len(OverflowTag))) + OverflowTag
	}
	names := map[string]bool{}
	for i, a := range cfg.Aggs {
		o, err := l.compile(a)
		if err != nil {
			return nil, fmt.Errorf("window: aggregate[%d] %s: %w", i, a.Name, err)
		}
		if a.Name == "" {
			return nil, fmt.Errorf("window: aggregate[%d] %s has no name", i, a.Func)
		}
		if names[a.Name] {
			return nil, fmt.Errorf("window: aggregate[%d]: duplicate name %q", i, a.Name)
		}
		names[a.Name] = true
		l.ops = append(l.ops, o)
	}
	return l, nil
}

func (l *layout) compile(a AggSpec) (op, error) {
	if err := ValidateAgg(a.Func); err != nil {
		return op{}, err
	}
	o := op{field: a.Field, q: a.Q}
	if a.Func == "count" && a.Field < 0 {
		o.kind, o.off = opCount, l.numSlots
		l.numSlots++
		l.init = append(l.init, 0)
		return o, nil
	}
	if a.Field < 0 {
		return op{}, fmt.Errorf("%s needs a field", a.Func)
	}
	switch a.Func {
	case "count_distinct":
		if a.Kind != record.String && a.Kind != record.Number {
			return op{}, fmt.Errorf("count_distinct of a %s", a.Kind)
		}
		o.kind, o.str, o.off = opDistinct, a.Kind == record.String, l.nSets
		l.nSets++
		return o, nil
	case "count":
		if a.Kind != record.String && a.Kind != record.Number {
			return op{}, fmt.Errorf("count of a %s", a.Kind)
		}
		if a.Kind == record.String {
			o.kind = opCount // a string is never missing
		} else {
			o.kind = opCountField
		}
	default:
		if a.Kind != record.Number {
			return op{}, fmt.Errorf("%s of a %s field: needs a number", a.Func, a.Kind)
		}
	}
	switch a.Func {
	case "percentile":
		if !(a.Q > 0 && a.Q <= 1) {
			return op{}, fmt.Errorf("quantile %v not in (0, 1]", a.Q)
		}
		if l.mapping == nil {
			m, err := mapping.NewLogarithmicMapping(percentileAccuracy)
			if err != nil {
				return op{}, fmt.Errorf("percentile sketch: %w", err)
			}
			l.mapping = m
		}
		// Percentiles of one field share a sketch.
		o.kind, o.off = opPercentile, slices.Index(l.sketchOf, a.Field)
		if o.off < 0 {
			o.off = len(l.sketchOf)
			l.sketchOf = append(l.sketchOf, a.Field)
		}
		return o, nil
	case "sum":
		o.kind = opSum
	case "avg":
		o.kind = opAvg
	case "product":
		o.kind = opProduct
	case "min":
		o.kind = opMin
	case "max":
		o.kind = opMax
	case "first":
		o.kind = opFirst
	case "last":
		o.kind = opLast
	}
	o.off = l.numSlots
	l.numSlots += opSlots[o.kind]
	l.init = append(l.init, make([]float64, opSlots[o.kind])...)
	if o.kind == opProduct {
		l.init[o.off+1] = 1
	}
	return o, nil
}

// compatible says whether states of l and o can be merged.
func (l *layout) compatible(o *layout) bool {
	return l == o || (slices.Equal(l.aggs, o.aggs) && slices.Equal(l.groupBy, o.groupBy) &&
		slices.Equal(l.groupKinds, o.groupKinds) && l.exact == o.exact)
}

// appendKey encodes row's group key: per field 's' uvarint(len) bytes or
// 'n' and the 8 bytes of the number (-0 as 0, one NaN).
func (l *layout) appendKey(buf []byte, row *record.Row) []byte {
	for i, slot := range l.groupBy {
		k := l.groupKinds[i]
		if k == 0 {
			k = record.Number
			if row.Str[slot] != nil {
				k = record.String
			}
		}
		if k == record.String {
			s := row.Str[slot]
			buf = append(buf, 's')
			for n := uint64(len(s)); ; n >>= 7 {
				if n < 0x80 {
					buf = append(buf, byte(n))
					break
				}
				buf = append(buf, byte(n)|0x80)
			}
			buf = append(buf, s...)
			continue
		}
		v := row.Num[slot]
		if v == 0 {
			v = 0
		}
		bits := math.Float64bits(v)
		if v != v {
			bits = 0x7ff8000000000001
		}
		buf = append(buf, 'n', byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24),
			byte(bits>>32), byte(bits>>40), byte(bits>>48), byte(bits>>56))
	}
	return buf
}

// tags decodes an encoded key into tag values.
func (l *layout) tags(key string) []string {
	out := make([]string, len(l.groupBy))
	i := 0
	for g := range out {
		tag := key[i]
		i++
		if tag == 's' {
			var n, shift uint
			for {
				b := key[i]
				i++
				n |= uint(b&0x7f) << shift
				if b < 0x80 {
					break
				}
				shift += 7
			}
			out[g] = key[i : i+int(n)]
			i += int(n)
			continue
		}
		var bits uint64
		for j := 0; j < 8; j++ {
			bits |= uint64(key[i+j]) << (8 * j)
		}
		i += 8
		out[g] = strconv.FormatFloat(math.Float64frombits(bits), 'f', -1, 64)
	}
	return out
}

// table is the aggregation state of one window: keys and, per key, a run
// of number slots, distinct sets and percentile sketches in flat slices.
type table struct {
	lay      *layout
	index    map[string]int32
	keys     []string // encoded key of each key index
	overflow int      // key index of the overflow key, -1 if none
	nReal    int      // keys other than a created overflow key
	num      []float64
	sets     []distinct.Set
	sketches []*ddsketch.DDSketch
}

func newTable(l *layout) *table {
	return &table{lay: l, index: make(map[string]int32), overflow: -1}
}

func (t *table) realKeys() int { return t.nReal }

func (t *table) overflowKey() int {
	if t.overflow < 0 {
		if k, ok := t.index[t.lay.overflow]; ok {
			// A real key spelled "__overflow__" in every tag takes the role.
			t.overflow = int(k)
		} else {
			t.overflow = t.newKey(t.lay.overflow)
			t.nReal--
		}
	}
	return t.overflow
}

func (t *table) newKey(key string) int {
	k := len(t.keys)
	t.keys = append(t.keys, key)
	t.index[key] = int32(k)
	t.nReal++
	t.num = append(t.num, t.lay.init...)
	for range t.lay.nSets {
		t.sets = append(t.sets, distinct.Set{})
	}
	for range t.lay.sketchOf {
		t.sketches = append(t.sketches, ddsketch.NewDDSketch(t.lay.mapping,
			store.NewCollapsingLowestDenseStore(percentileMaxBins),
			store.NewCollapsingLowestDenseStore(percentileMaxBins)))
	}
	return k
}

// fold adds row to key k.
func (t *table) fold(k int, row *record.Row) {
	l := t.lay
	s := t.num[k*l.numSlots : (k+1)*l.numSlots]
	for i := range l.ops {
		o := &l.ops[i]
		switch o.kind {
		case opCount:
			s[o.off]++
			continue
		case opDistinct:
			var h uint64
			if o.str {
				h = distinct.HashBytes(row.Str[o.field])
			} else {
				v := row.Num[o.field]
				if v != v {
					continue
				}
				h = distinct.HashNumber(v)
			}
			t.sets[k*l.nSets+o.off].Insert(h, l.exact)
			continue
		case opPercentile:
			continue // below, once per field
		}
		v := row.Num[o.field]
		if v != v {
			continue
		}
		st := s[o.off : o.off+opSlots[o.kind]]
		first := st[0] == 0
		st[0]++
		switch o.kind {
		case opSum, opAvg:
			st[1], st[2] = neumaier(st[1], st[2], v)
		case opProduct:
			st[1] *= v
		case opMin:
			if first || v < st[1] {
				st[1] = v
			}
		case opMax:
			if first || v > st[1] {
				st[1] = v
			}
		case opFirst:
			if first || row.Time < timeOf(st[2]) {
				st[1], st[2] = v, timeSlot(row.Time)
			}
		case opLast:
			if first || row.Time >= timeOf(st[2]) {
				st[1], st[2] = v, timeSlot(row.Time)
			}
		}
	}
	for j, f := range l.sketchOf {
		if v := row.Num[f]; v == v {
			// Only ±Inf and values beyond 1e308 fail; they are dropped.
			_ = t.sketches[k*len(l.sketchOf)+j].Add(v)
		}
	}
}

// timeSlot keeps an event time in a number slot bit for bit: as a float64
// value, Unix nanoseconds would lose the last 8 bits.
func timeSlot(t int64) float64 { return math.Float64frombits(uint64(t)) }

func timeOf(slot float64) int64 { return int64(math.Float64bits(slot)) }

// neumaier adds v to the compensated sum (s, c).
func neumaier(s, c, v float64) (float64, float64) {
	n := s + v
	if math.Abs(s) >= math.Abs(v) {
		c += (s - n) + v
	} else {
		c += (v - n) + s
	}
	return n, c
}

func compensated(s, c float64) float64 {
	if math.IsInf(s, 0) || math.IsNaN(c) {
		return s
	}
	return s + c
}

// merge adds o's keys into t, o's rows counting as later arrivals.
func (t *table) merge(o *table) error {
	l := t.lay
	order := make([]int, len(o.keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(o.keys[a], o.keys[b]) })
	for _, ok := range order {
		ki, found := t.index[o.keys[ok]]
		k := int(ki)
		if !found {
			if t.realKeys() >= l.maxKeys {
				k = t.overflowKey()
			} else {
				k = t.newKey(o.keys[ok])
			}
		}
		if err := t.mergeKey(k, o, ok); err != nil {
			return err
		}
	}
	return nil
}

func (t *table) mergeKey(k int, o *table, ok int) error {
	l := t.lay
	s := t.num[k*l.numSlots : (k+1)*l.numSlots]
	os := o.num[ok*l.numSlots : (ok+1)*l.numSlots]
	for i := range l.ops {
		op := &l.ops[i]
		switch op.kind {
		case opCount, opCountField:
			s[op.off] += os[op.off]
			continue
		case opDistinct:
			if err := t.sets[k*l.nSets+op.off].Merge(&o.sets[ok*l.nSets+op.off], l.exact); err != nil {
				return err
			}
			continue
		case opPercentile:
			continue
		}
		st, ot := s[op.off:op.off+opSlots[op.kind]], os[op.off:op.off+opSlots[op.kind]]
		if ot[0] == 0 {
			continue
		}
		first := st[0] == 0
		st[0] += ot[0]
		switch op.kind {
		case opSum, opAvg:
			st[1], st[2] = neumaier(st[1], st[2], ot[1])
			st[2] += ot[2]
		case opProduct:
			st[1] *= ot[1]
		case opMin:
			if first || ot[1] < st[1] {
				st[1] = ot[1]
			}
		case opMax:
			if first || ot[1] > st[1] {
				st[1] = ot[1]
			}
		case opFirst:
			if first || timeOf(ot[2]) < timeOf(st[2]) {
				st[1], st[2] = ot[1], ot[2]
			}
		case opLast:
			if first || timeOf(ot[2]) >= timeOf(st[2]) {
				st[1], st[2] = ot[1], ot[2]
			}
		}
	}
	n := len(l.sketchOf)
	for j := range n {
		if err := t.sketches[k*n+j].MergeWith(o.sketches[ok*n+j]); err != nil {
			return fmt.Errorf("merge percentile sketch: %w", err)
		}
	}
	return nil
}

// points renders every key, sorted by tags.
func (t *table) points() []Point {
	l := t.lay
	nv := len(l.ops)
	vals := make([]float64, len(t.keys)*nv)
	pres := make([]bool, len(t.keys)*nv)
	pts := make([]Point, len(t.keys))
	for k := range t.keys {
		p := &pts[k]
		p.Tags = l.tags(t.keys[k])
		p.Values, p.Present = vals[k*nv:(k+1)*nv:(k+1)*nv], pres[k*nv:(k+1)*nv:(k+1)*nv]
		s := t.num[k*l.numSlots : (k+1)*l.numSlots]
		for i := range l.ops {
			p.Values[i], p.Present[i] = t.value(&l.ops[i], k, s)
		}
	}
	slices.SortFunc(pts, func(a, b Point) int { return slices.Compare(a.Tags, b.Tags) })
	return pts
}

func (t *table) value(o *op, k int, s []float64) (float64, bool) {
	switch o.kind {
	case opCount, opCountField:
		return s[o.off], true
	case opDistinct:
		return float64(t.sets[k*t.lay.nSets+o.off].Count()), true
	case opPercentile:
		v, err := t.sketches[k*len(t.lay.sketchOf)+o.off].GetValueAtQuantile(o.q)
		if err != nil {
			return 0, false
		}
		return v, true
	}
	st := s[o.off : o.off+opSlots[o.kind]]
	if st[0] == 0 {
		return 0, false
	}
	switch o.kind {
	case opSum:
		return compensated(st[1], st[2]), true
	case opAvg:
		return compensated(st[1], st[2]) / st[0], true
	}
	return st[1], true
}
