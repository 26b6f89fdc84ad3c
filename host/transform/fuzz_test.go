package transform

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/tidemark/tidemark/host/record"
)

// FuzzCompile asserts that Compile never panics, that its errors point
// inside the expression they blame, and that Run on whatever compiles never
// panics, on ordinary and hostile rows.
func FuzzCompile(f *testing.F) {
	seeds := [][3]string{
		{"bytes > 1 and proto in ['tcp', 'udp']", "x = bytes * 8 / 10", "y = subnet(src_ip, 24)"},
		{"not (port == 443) || lower(proto) != 'tcp'", "c = country(geo_ip)", "a = asn(src_ip) + 1"},
		{"port not in [1, 2, 3, 4, 5, 6, 7, 8, 9]", "s = concat(proto, ':', str(port), port_name(port))", "n = num(numtext) % 7"},
		{"if(bytes > 1, true, false)", "m = min(bytes, max(neg, zero), round(dev.temp))", "k = floor(bytes / packets) + ceil(neg) + abs(neg)"},
		{"", "bytes = bytes / zero", "z = subnet(dst_ip, 16, 64)"},
		{"byts > 1", "x = summ(1, 2)", "q = num(bad)"},
		{"((((1))))", "x = -(-(-bytes))", "u = upper(name)"},
		{"'a' < 'b' == true", "x = sum(1, 2, 3) - minus(4, 5) * mult(6, 7) / div(8, 9)", "t = if(1 > 2, 'a', city(geo_ip))"},
		{"\"unterminated", "x = 1e999", "y == 2"},
		{"dev.temp >= 1e3", "o = as_org(dst_ip)", "p = subnet(bad, 8)"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, where, f1, f2 string) {
		s, _ := testSchema()
		before := s.Len()
		fields := []string{f1, f2}
		p, err := Compile(s, where, fields, fullGeo)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
			}
			seen := map[int]bool{}
			for _, e := range list {
				src := where
				if e.Expr >= 0 {
					if e.Expr >= len(fields) {
						t.Fatalf("error blames fields[%d] of %d", e.Expr, len(fields))
					}
					src = fields[e.Expr]
				}
				if e.Pos < 0 || e.Pos > len(src) {
					t.Fatalf("error %v points outside %q", e, src)
				}
				if seen[e.Expr] {
					t.Fatalf("two errors for expression %d: %v", e.Expr, err)
				}
				seen[e.Expr] = true
				if e.Msg == "" {
					t.Fatal("empty error message")
				}
			}
			return
		}
		if s.Len() < before || !slices.IsSorted(p.Functions()) {
			t.Fatalf("schema shrank or functions unsorted: %v", p.Functions())
		}
		// Differential check: the shape-specialised closures must agree
		// with the generic ones.
		specialize = false
		gs, _ := testSchema()
		gp, gerr := Compile(gs, where, fields, fullGeo)
		specialize = true
		if gerr != nil {
			t.Fatalf("generic compile failed where specialised did not: %v", gerr)
		}
		grows := fuzzRows(gs)
		for i, row := range fuzzRows(s) {
			for range 2 {
				row.Scratch = row.Scratch[:0]
				keep, rerr := p.Run(row)
				if rerr != nil && (keep || rerr.Reason == "") {
					t.Fatalf("keep=%v with error %v", keep, rerr)
				}
				g := grows[i]
				g.Scratch = g.Scratch[:0]
				gkeep, gerr := gp.Run(g)
				if keep != gkeep || (rerr == nil) != (gerr == nil) || (rerr != nil && *rerr != *gerr) {
					t.Fatalf("row %d: specialised keep=%v err=%v, generic keep=%v err=%v", i, keep, rerr, gkeep, gerr)
				}
				if !keep {
					continue
				}
				for j := range row.Num {
					a, b := row.Num[j], g.Num[j]
					if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
						t.Fatalf("row %d slot %d: specialised %v, generic %v", i, j, a, b)
					}
					if string(row.Str[j]) != string(g.Str[j]) {
						t.Fatalf("row %d slot %d: specialised %q, generic %q", i, j, row.Str[j], g.Str[j])
					}
				}
			}
		}
	})
}

// fuzzRows returns the ordinary test row plus rows full of edge values, and
// one sized for the input schema only (Run must grow it).
func fuzzRows(s *record.Schema) []*record.Row {
	_, ordinary := testSchema()
	ordinary.Grow(s.Len())
	hostile := record.NewRow(s)
	for i := range hostile.Num {
		hostile.Num[i] = []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.MaxFloat64, -1e-300}[i%6]
		hostile.Str[i] = [][]byte{nil, []byte(""), []byte("\xff\xfe"), []byte("::"), []byte("1.2.3.4%x"), []byte("1e999")}[i%6]
	}
	small := &record.Row{Num: make([]float64, 3), Str: make([][]byte, 3)}
	return []*record.Row{ordinary, hostile, small}
}
