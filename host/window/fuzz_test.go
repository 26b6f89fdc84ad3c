package window

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/record"
)

// FuzzTumbling feeds arbitrary rows and idle advances and checks that
// nothing is lost: every row is either late or counted in exactly one
// emitted window, late means "its window had closed", windows come out
// oldest first and once, and a window never holds more than MaxKeys+1 keys.
func FuzzTumbling(f *testing.F) {
	f.Add([]byte{1, 10, 0, 2, 5, 3, 200, 1, 0, 0, 9, 0, 0})
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxKeys = 3
		cfg := hostPortConfig([]AggSpec{agg("count", -1, 0), agg("sum", slotBytes, 0), agg("count_distinct", slotSrc, 0)})
		cfg.Size, cfg.Lateness, cfg.MaxKeys, cfg.DistinctExact = 10*time.Second, 3*time.Second, maxKeys, 4
		tw := mustTumbling(t, cfg)
		row := record.NewRow(testSchema)
		var added, late, counted uint64
		lastStart := int64(-1 << 63)
		emitted := false
		check := func(rs []*Result) {
			for _, r := range rs {
				if emitted && r.Start <= lastStart {
					t.Fatalf("window %d emitted after %d", r.Start, lastStart)
				}
				lastStart, emitted = r.Start, true
				if r.End > tw.Watermark() {
					t.Fatalf("window [%d,%d) emitted at watermark %d", r.Start, r.End, tw.Watermark())
				}
				if len(r.Points) == 0 || len(r.Points) > maxKeys+1 {
					t.Fatalf("window with %d points", len(r.Points))
				}
				if !slices.IsSortedFunc(r.Points, func(a, b Point) int { return slices.Compare(a.Tags, b.Tags) }) {
					t.Fatal("points not sorted")
				}
				for _, p := range r.Points {
					counted += uint64(p.Values[0])
				}
			}
		}
		for len(data) >= 4 {
			op, a, b, c := data[0], data[1], data[2], data[3]
			data = data[4:]
			if op%8 == 7 { // idle advance
				tw.AdvanceTo(tw.Watermark() + int64(a)*int64(time.Second))
				check(tw.Ready())
				continue
			}
			row.Reset()
			row.Time = int64(int8(a)) * int64(time.Second) / 2
			row.Scratch = append(row.Scratch, 'h', 'a'+b%6)
			row.Str[slotHost] = row.Scratch[0:2]
			row.Scratch = append(row.Scratch, 's', c)
			row.Str[slotSrc] = row.Scratch[2:4]
			row.Num[slotPort] = float64(b % 2)
			row.Num[slotBytes] = float64(binary.LittleEndian.Uint16([]byte{c, b}))
			wasClosed := tw.WindowStart(row.Time)+int64(cfg.Size) <= tw.Watermark()
			added++
			start, isLate := tw.Add(row)
			if start != tw.WindowStart(row.Time) {
				t.Fatalf("Add returned start %d for time %d", start, row.Time)
			}
			if isLate != wasClosed {
				t.Fatalf("late = %v but window closed = %v", isLate, wasClosed)
			}
			if isLate {
				late++
			}
			if op%2 == 0 {
				check(tw.Ready())
			}
		}
		tw.AdvanceTo(1 << 62)
		check(tw.Ready())
		if tw.Open() != 0 {
			t.Fatalf("%d windows open after draining", tw.Open())
		}
		if late+counted != added {
			t.Fatalf("added %d rows: %d late + %d counted", added, late, counted)
		}
	})
}
