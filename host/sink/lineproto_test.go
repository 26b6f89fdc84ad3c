package sink

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLineProtocolEncoding(t *testing.T) {
	w := &Window{
		Measurement: "traffic by,country",
		Start:       time.Unix(1700000000, 0),
		TagNames:    []string{"z key", "a=k"},
		FieldNames:  []string{"sum bytes", "count", "avg", "nan", "inf", "absent", "big"},
		FieldInt:    []bool{false, true, false, false, false, false, true},
		Points: []Point{{
			Tags:    []string{"v,1 x", "b=2"},
			Values:  []float64{1.5e20, 42, 0.1, math.NaN(), math.Inf(-1), 7, 1e19},
			Present: []bool{true, true, true, true, true, false, true},
		}},
	}
	var buf bytes.Buffer
	if err := NewStdout(&buf).Write(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	want := `traffic\ by\,country,a\=k=b\=2,z\ key=v\,1\ x sum\ bytes=1.5e+20,count=42i,avg=0.1 1700000000000000000` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %q\nwant %q", buf.String(), want)
	}
}

func TestLineProtocolSkips(t *testing.T) {
	w := &Window{
		Measurement: "m",
		Start:       time.Unix(10, 0),
		TagNames:    []string{"k"},
		FieldNames:  []string{"v"},
		Points: []Point{
			{Tags: []string{""}, Values: []float64{1}},                                  // empty tag value: tag left out
			{Tags: []string{"x"}, Values: []float64{math.NaN()}},                        // no writable field: no line
			{Tags: []string{"y"}, Values: []float64{2}, Present: []bool{false}},         // absent: no line
			{Tags: []string{"new\nline"}, Values: []float64{-3}, Present: []bool{true}}, // newline escaped
		},
	}
	var buf bytes.Buffer
	if err := NewStdout(&buf).Write(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	want := "m v=1 10000000000\nm,k=new\\nline v=-3 10000000000\n"
	if buf.String() != want {
		t.Fatalf("got  %q\nwant %q", buf.String(), want)
	}
}

func TestStdoutDeterministicOrder(t *testing.T) {
	mk := func(order []string) string {
		w := &Window{Measurement: "m", Start: time.Unix(0, 0), TagNames: []string{"k"}, FieldNames: []string{"v"}}
		for _, k := range order {
			w.Points = append(w.Points, Point{Tags: []string{k}, Values: []float64{1}})
		}
		var buf bytes.Buffer
		if err := NewStdout(&buf).Write(context.Background(), w); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	a, b := mk([]string{"c", "a", "b"}), mk([]string{"b", "c", "a"})
	if a != b || !strings.HasPrefix(a, "m,k=a ") {
		t.Fatalf("outputs differ or unsorted:\n%s\n%s", a, b)
	}
}

func TestWindowValidation(t *testing.T) {
	w := &Window{Measurement: "m", TagNames: []string{"k"}, FieldNames: []string{"v"},
		Points: []Point{{Tags: []string{"a", "b"}, Values: []float64{1}}}}
	err := NewStdout(&bytes.Buffer{}).Write(context.Background(), w)
	if err == nil || !strings.Contains(err.Error(), "2 tags for 1 tag names") {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkEncode(b *testing.B) {
	w := benchWindow(5000, time.Unix(0, 0))
	enc := newEncoder(w)
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n++
		buf = buf[:0]
		for i := range w.Points {
			buf, _ = enc.appendPoint(buf, i)
		}
	}
	b.ReportMetric(float64(n*len(w.Points))/b.Elapsed().Seconds(), "points/s")
}
