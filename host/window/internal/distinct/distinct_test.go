package distinct

import (
	"math"
	"strconv"
	"testing"
)

func fill(s *Set, from, to, limit int) {
	for i := from; i < to; i++ {
		s.Insert(HashBytes([]byte("v"+strconv.Itoa(i))), limit)
	}
}

func TestExactThenSketch(t *testing.T) {
	var s Set
	fill(&s, 0, 100, 100)
	fill(&s, 0, 100, 100) // repeats change nothing
	if s.Approximate() || s.Count() != 100 {
		t.Fatalf("100 values at limit 100: count %d approximate %v, want exact 100", s.Count(), s.Approximate())
	}
	fill(&s, 100, 101, 100)
	if !s.Approximate() {
		t.Fatal("101 values at limit 100 still exact")
	}
	fill(&s, 101, 50000, 100)
	if got := float64(s.Count()); math.Abs(got-50000)/50000 > 0.02 {
		t.Errorf("count %v, want 50000 within 2%%", got)
	}
}

func TestMerge(t *testing.T) {
	cases := []struct {
		name                   string
		aFrom, aTo, bFrom, bTo int
		approximate            bool
	}{
		{"exact+exact", 0, 40, 20, 60, false},
		{"exact+exact past the limit", 0, 80, 60, 150, true},
		{"exact+sketch", 0, 50, 25, 5000, true},
		{"sketch+exact", 0, 5000, 4990, 5050, true},
		{"sketch+sketch", 0, 5000, 2500, 10000, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const limit = 100
			var a, b, whole Set
			fill(&a, c.aFrom, c.aTo, limit)
			fill(&b, c.bFrom, c.bTo, limit)
			fill(&whole, min(c.aFrom, c.bFrom), max(c.aTo, c.bTo), limit)
			if err := a.Merge(&b, limit); err != nil {
				t.Fatal(err)
			}
			if a.Approximate() != c.approximate {
				t.Errorf("approximate = %v, want %v", a.Approximate(), c.approximate)
			}
			if a.Count() != whole.Count() {
				t.Errorf("merged count %d, whole %d", a.Count(), whole.Count())
			}
		})
	}
}

func TestHashNumber(t *testing.T) {
	if HashNumber(0) != HashNumber(math.Copysign(0, -1)) {
		t.Error("0 and -0 hash apart")
	}
	if HashNumber(math.NaN()) != HashNumber(math.Float64frombits(0x7ff8000000000abc)) {
		t.Error("two NaNs hash apart")
	}
	if HashNumber(1) == HashNumber(2) {
		t.Error("1 and 2 hash alike")
	}
}
