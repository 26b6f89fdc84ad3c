// Package record defines the row layout shared by decoders, the transform
// language and the window/aggregate stage.
//
// A pipeline's fields are fixed when the config is compiled, so a record is
// not a map but a Row of typed slots addressed by index. Numbers are float64
// (InfluxDB fields are float and sums overflow int64 sooner than they lose
// precision at the rates seen here); strings are byte slices that point into
// the input message or into the row's scratch buffer, so decoding and
// transforming a record allocates nothing.
package record

import (
	"fmt"
)

// Kind is the static type of a field.
type Kind uint8

const (
	// Number is a float64 slot (Row.Num).
	Number Kind = iota + 1
	// String is a []byte slot (Row.Str); IP addresses are strings.
	String
	// Bool only exists inside expressions (where clauses); it is never a
	// field of a row.
	Bool
)

func (k Kind) String() string {
	switch k {
	case Number:
		return "number"
	case String:
		return "string"
	case Bool:
		return "bool"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Field is one named, typed slot.
type Field struct {
	Name string
	Kind Kind
}

// Schema is the ordered set of fields a Row carries. Decoders create it;
// transforms append derived fields. It is built once per pipeline and never
// changed while records flow.
type Schema struct {
	fields []Field
	index  map[string]int
}

// NewSchema returns a schema holding fields in order. Duplicate names are an
// error because an expression could not tell them apart.
func NewSchema(fields ...Field) (*Schema, error) {
	s := &Schema{index: make(map[string]int, len(fields))}
	for _, f := range fields {
		if _, err := s.Add(f.Name, f.Kind); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// MustSchema is NewSchema for fixed layouts known to be valid.
func MustSchema(fields ...Field) *Schema {
	s, err := NewSchema(fields...)
	if err != nil {
		panic(err)
	}
	return s
}

// Clone returns a copy that can be extended without touching s, so several
// pipelines can derive their own fields from one decoder's schema.
func (s *Schema) Clone() *Schema {
	c := &Schema{fields: append([]Field(nil), s.fields...), index: make(map[string]int, len(s.index))}
	for k, v := range s.index {
		c.index[k] = v
	}
	return c
}

// Add appends a field and returns its slot index. Re-adding an existing
// name with the same kind returns the existing slot (a derived field may
// overwrite an input field of the same type, e.g. `bytes = bytes * 8`).
func (s *Schema) Add(name string, kind Kind) (int, error) {
	if s.index == nil {
		s.index = map[string]int{}
	}
	if i, ok := s.index[name]; ok {
		if s.fields[i].Kind != kind {
			return 0, fmt.Errorf("field %q is a %s, cannot redefine it as a %s", name, s.fields[i].Kind, kind)
		}
		return i, nil
	}
	s.fields = append(s.fields, Field{Name: name, Kind: kind})
	s.index[name] = len(s.fields) - 1
	return len(s.fields) - 1, nil
}

// Lookup returns a field's slot and kind.
func (s *Schema) Lookup(name string) (int, Kind, bool) {
	i, ok := s.index[name]
	if !ok {
		return 0, 0, false
	}
	return i, s.fields[i].Kind, true
}

// Len is the number of slots.
func (s *Schema) Len() int { return len(s.fields) }

// Field returns slot i.
func (s *Schema) Field(i int) Field { return s.fields[i] }

// Fields returns a copy of the field list.
func (s *Schema) Fields() []Field { return append([]Field(nil), s.fields...) }

// Names returns the field names in slot order (for "did you mean" hints).
func (s *Schema) Names() []string {
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.Name
	}
	return out
}

// Row is one record. Num[i] is valid when field i is a Number, Str[i] when
// it is a String. Str slices alias the decoded message or Scratch and are
// only valid until the next Reset: stages that keep a string (a new group
// key, a distinct value) must copy it.
type Row struct {
	Num []float64
	Str [][]byte
	// Time is the event time in Unix nanoseconds.
	Time int64
	// Scratch is an arena for strings built by transforms (lower, subnet,
	// country). Reset truncates it, so after warm-up it never grows.
	Scratch []byte
}

// NewRow returns a row sized for s.
func NewRow(s *Schema) *Row {
	return &Row{
		Num:     make([]float64, s.Len()),
		Str:     make([][]byte, s.Len()),
		Scratch: make([]byte, 0, 4096),
	}
}

// Reset clears per-record state without freeing memory.
func (r *Row) Reset() {
	for i := range r.Num {
		r.Num[i] = 0
	}
	for i := range r.Str {
		r.Str[i] = nil
	}
	r.Time = 0
	r.Scratch = r.Scratch[:0]
}

// Grow makes sure the row has n slots (after a transform added fields).
func (r *Row) Grow(n int) {
	for len(r.Num) < n {
		r.Num = append(r.Num, 0)
	}
	for len(r.Str) < n {
		r.Str = append(r.Str, nil)
	}
}

// Error is a per-record failure. Reason is a short, fixed label used as a
// metric label and a dead-letter header ("columns", "number", "div_zero"),
// so it must come from a small set; Msg carries the detail.
type Error struct {
	Reason string
	Msg    string
}

func (e *Error) Error() string { return e.Reason + ": " + e.Msg }

// Errorf builds a per-record error.
//
// It allocates, which is fine: it is only called for bad records.
func Errorf(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}
