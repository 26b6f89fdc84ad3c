package decode

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tidemark/tidemark/host/record"
)

func mustNew(t testing.TB, cfg Config) Decoder {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return d
}

func decodeLine(d Decoder, line string) (*record.Row, *record.Error) {
	row := record.NewRow(d.Schema())
	row.Reset()
	return row, d.Decode([]byte(line), row)
}

// want is the expected value of named fields: float64 for numbers, string
// for strings.
type want map[string]any

func checkRow(t *testing.T, d Decoder, row *record.Row, w want) {
	t.Helper()
	s := d.Schema()
	for name, v := range w {
		slot, kind, ok := s.Lookup(name)
		if !ok {
			t.Errorf("field %q not in schema %v", name, s.Names())
			continue
		}
		switch v := v.(type) {
		case float64:
			if kind != record.Number || row.Num[slot] != v {
				t.Errorf("%s = %v (kind %s), want %v", name, row.Num[slot], kind, v)
			}
		case string:
			if kind != record.String || string(row.Str[slot]) != v {
				t.Errorf("%s = %q (kind %s), want %q", name, row.Str[slot], kind, v)
			}
		default:
			t.Fatalf("bad want type %T", v)
		}
	}
}

// rowsEqual compares the slots a schema defines.
func rowsEqual(s *record.Schema, a, b *record.Row) error {
	if a.Time != b.Time {
		return fmt.Errorf("time %d != %d", a.Time, b.Time)
	}
	for i := 0; i < s.Len(); i++ {
		f := s.Field(i)
		if f.Kind == record.Number && a.Num[i] != b.Num[i] {
			return fmt.Errorf("%s: %v != %v", f.Name, a.Num[i], b.Num[i])
		}
		if f.Kind == record.String && !bytes.Equal(a.Str[i], b.Str[i]) {
			return fmt.Errorf("%s: %q != %q", f.Name, a.Str[i], b.Str[i])
		}
	}
	return nil
}

// assertZeroAllocs decodes line repeatedly and fails on any allocation.
func assertZeroAllocs(t *testing.T, d Decoder, line string) {
	t.Helper()
	msg := []byte(line)
	row := record.NewRow(d.Schema())
	allocs := testing.AllocsPerRun(200, func() {
		row.Reset()
		if err := d.Decode(msg, row); err != nil {
			t.Fatalf("decode %q: %v", line, err)
		}
	})
	if allocs != 0 {
		t.Errorf("decode %q: %v allocs per record, want 0", line, allocs)
	}
}

func contains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }
