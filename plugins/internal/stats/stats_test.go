package stats

import (
	"math"
	"testing"
)

func TestMedianMAD(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 100}
	m, mad := MedianMAD(xs)
	if m != 3 || mad != 1 {
		t.Fatalf("median %v mad %v, want 3 1", m, mad)
	}
	if !math.IsNaN(Median(nil)) || Median([]float64{4, 2}) != 3 {
		t.Fatal("Median edge cases")
	}
}

func TestMeanStdSkipsMissing(t *testing.T) {
	mean, std, n := MeanStd([]float64{2, math.NaN(), 4, math.Inf(1)})
	if mean != 3 || math.Abs(std-math.Sqrt2) > 1e-12 || n != 2 {
		t.Fatalf("mean %v std %v n %d", mean, std, n)
	}
}

func TestParseFields(t *testing.T) {
	fs, err := ParseFields([]string{"sum_bytes:5", "count"})
	if err != nil || fs[0].Factor != 5 || fs[1].Factor != 0 || fs[1].Name != "count" {
		t.Fatalf("%v %v", fs, err)
	}
	for _, bad := range [][]string{{}, {":3"}, {"a:x"}, {"a:-1"}} {
		if _, err := ParseFields(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestRatio(t *testing.T) {
	if r, up := Ratio(10, 2); r != 5 || !up {
		t.Fatal(r, up)
	}
	if r, up := Ratio(2, 10); r != 5 || up {
		t.Fatal(r, up)
	}
	if r, _ := Ratio(3, 0); !math.IsInf(r, 1) {
		t.Fatal(r)
	}
}

func TestParseDirection(t *testing.T) {
	if up, down, err := ParseDirection("down"); err != nil || up || !down {
		t.Fatal(up, down, err)
	}
	if up, down, err := ParseDirection("both"); err != nil || !up || !down {
		t.Fatal(up, down, err)
	}
	if _, _, err := ParseDirection("sideways"); err == nil {
		t.Fatal("accepted sideways")
	}
}
