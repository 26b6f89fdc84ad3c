package abi

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestEncodeAppendsAndReusesBuffer(t *testing.T) {
	in := goldenInputs()["large"]
	prefix := []byte("xyz")
	out := in.Encode(prefix)
	if string(out[:3]) != "xyz" || len(out) != 3+in.Size() {
		t.Fatalf("Encode did not append: len %d", len(out))
	}
	buf := make([]byte, 0, in.Size())
	allocs := testing.AllocsPerRun(5, func() { buf = in.Encode(buf[:0]) })
	if allocs != 0 {
		t.Fatalf("Encode into a buffer with capacity allocated %v times", allocs)
	}
	v := new(View)
	allocs = testing.AllocsPerRun(5, func() {
		if err := v.Reset(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("View.Reset allocated %v times", allocs)
	}
}

func TestDecodeIsZeroCopy(t *testing.T) {
	in := goldenInputs()["one_series"]
	b := in.Encode(nil)
	v, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	col := v.Frame(0).Column(0)
	le.PutUint64(b[v.framesOff+FrameHeaderSize:], math.Float64bits(42))
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 && col[0] != 42 {
		t.Fatalf("column does not alias the input: %v", col[0])
	}
}

func TestDecodeMisalignedCopies(t *testing.T) {
	in := goldenInputs()["one_series"]
	b := make([]byte, 1, in.Size()+1)
	b = in.Encode(b)[1:] // odd address
	v, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Frame(1).Column(0)[0]; got != 1200.5 {
		t.Fatalf("misaligned decode read %v", got)
	}
}

func TestEncodePadsShortColumnsWithNaN(t *testing.T) {
	in := &Input{Series: 2, FieldNames: []string{"a", "b"}, Frames: []Frame{{Columns: [][]float64{{1}}}}}
	if in.Validate() == nil {
		t.Fatal("Validate accepted a short column")
	}
	v, err := Decode(in.Encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	a, bcol := v.Frame(0).Column(0), v.Frame(0).Column(1)
	if a[0] != 1 || !math.IsNaN(a[1]) || !math.IsNaN(bcol[0]) || !math.IsNaN(bcol[1]) {
		t.Fatalf("got %v %v", a, bcol)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := goldenInputs()["unicode_tags"].Encode(nil)
	put32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
	}
	cases := map[string]func([]byte) []byte{
		"short":             func(b []byte) []byte { return b[:HeaderSize-1] },
		"magic":             func(b []byte) []byte { b[0] = 'X'; return b },
		"major":             func(b []byte) []byte { b[4] = 2; return b },
		"total past end":    put32(12, uint32(len(good)+8)),
		"too few strings":   put32(32, 2),
		"huge string count": put32(32, 1<<30),
		"offset decreases":  put32(HeaderSize+8, 0xFFFFFF),
		"series off":        put32(52, 4),
		"misaligned frames": put32(56, 0x101),
		"frames past end":   put32(56, 0xFFFFFFF8), // found by FuzzDecode: total−frames_off underflowed
		"zero frames":       put32(48, 0),
		"many frames":       put32(48, 1<<31),
		"small stride":      put32(60, 8),
		"huge series":       put32(44, 1<<31),
		"bad tag index": func(b []byte) []byte {
			off := binary.LittleEndian.Uint32(b[52:])
			binary.LittleEndian.PutUint32(b[off:], 999)
			return b
		},
		"truncated": func(b []byte) []byte { return b[:len(b)-8] },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			b := mutate(append([]byte(nil), good...))
			if _, err := Decode(b); !errors.Is(err, ErrFormat) {
				t.Fatalf("Decode = %v, want ErrFormat", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, in := range goldenInputs() {
		if in.Size() < 4096 {
			f.Add(in.Encode(nil))
		}
	}
	f.Add([]byte("TMK1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			return
		}
		// Every accessor must stay in bounds for every advertised index.
		for i := range v.NumStrings() {
			_ = v.String(i)
		}
		_ = v.FieldIndex("x") + v.TagIndex("y")
		for s := range v.NumSeries() {
			for tg := range v.NumTags() {
				_ = v.TagValue(s, tg)
			}
		}
		for k := range v.NumFrames() {
			fr := v.Frame(k)
			for f := range v.NumFields() {
				if len(fr.Column(f)) != v.NumSeries() {
					t.Fatalf("column length %d, series %d", len(fr.Column(f)), v.NumSeries())
				}
			}
		}
	})
}

func FuzzDecodeAlert(f *testing.F) {
	for _, a := range goldenAlerts() {
		f.Add(EncodeAlert(a, nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAlert(b)
		if err != nil {
			return
		}
		if len(a.Message) > MaxAlertMessage*3 {
			t.Fatalf("message of %d bytes kept", len(a.Message))
		}
	})
}

func TestAlertDecodeRejectsAndTruncates(t *testing.T) {
	a := Alert{Severity: SeverityWarn, Message: strings.Repeat("é", MaxAlertMessage)}
	got, err := DecodeAlert(a.AppendEncode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Message) > MaxAlertMessage || !strings.HasPrefix(a.Message, got.Message) || len(got.Message)%2 != 0 {
		t.Fatalf("message cut to %d bytes, not at a rune boundary", len(got.Message))
	}
	good := (&Alert{Severity: SeverityCrit, Message: "x"}).AppendEncode(nil)
	for name, b := range map[string][]byte{
		"short":    good[:AlertHeaderSize-1],
		"severity": append([]byte{4}, good[1:]...),
		"kind":     append([]byte{3, 2}, good[2:]...),
		"length":   good[:len(good)-1],
		"reserved": append([]byte{3, 0, 1}, good[3:]...),
	} {
		if _, err := DecodeAlert(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: DecodeAlert = %v, want ErrFormat", name, err)
		}
	}
	bad := (&Alert{Message: "a\xffb"}).AppendEncode(nil)
	if got, _ := DecodeAlert(bad); got.Message != "a\uFFFDb" {
		t.Errorf("invalid UTF-8 kept: %q", got.Message)
	}
	chk := Alert{Series: 3, Field: NoIndex}
	if chk.Check(3, 1) == nil || chk.Check(4, 0) != nil {
		t.Error("Check bounds wrong")
	}
}

// BenchmarkEncode measures the host's per-window encoding cost for 1,000
// series × 3 fields × (1 + 30) frames.
func BenchmarkEncode(b *testing.B) {
	in := goldenInputs()["large"]
	buf := make([]byte, 0, in.Size())
	b.SetBytes(int64(in.Size()))
	b.ReportAllocs()
	for b.Loop() {
		buf = in.Encode(buf[:0])
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
}

func BenchmarkDecode(b *testing.B) {
	buf := goldenInputs()["large"].Encode(nil)
	v := new(View)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Reset(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
}
