package decode

import (
	"bytes"
	"fmt"

	"github.com/tidemark/tidemark/host/record"
)

type csvDecoder struct {
	*layout
	delim byte
}

func newCSV(cfg Config) (Decoder, error) {
	l, err := compileColumns(cfg, true)
	if err != nil {
		return nil, err
	}
	d := &csvDecoder{layout: l, delim: cfg.Delimiter}
	if d.delim == 0 {
		d.delim = ','
	}
	if d.delim == '"' || d.delim == '\n' || d.delim == '\r' {
		return nil, fmt.Errorf("delimiter: %q cannot be a delimiter", d.delim)
	}
	return d, nil
}

func (d *csvDecoder) Schema() *record.Schema { return d.schema }
func (d *csvDecoder) HasTime() bool          { return d.timeCol >= 0 }

func (d *csvDecoder) Decode(msg []byte, row *record.Row) *record.Error {
	line := trimEOL(msg)
	if len(bytes.TrimSpace(line)) == 0 {
		return record.Errorf(ReasonEmpty, "empty line")
	}
	rest := line
	n := len(d.kinds)
	for i := 0; i < n; i++ {
		if rest == nil {
			return record.Errorf(ReasonColumns, "%d columns, want %d", i, n)
		}
		var val []byte
		if len(rest) > 0 && rest[0] == '"' {
			v, next, err := d.quoted(rest, i, row)
			if err != nil {
				return err
			}
			val, rest = v, next
		} else {
			j := bytes.IndexByte(rest, d.delim)
			if j < 0 {
				val, rest = rest, nil
			} else {
				val, rest = rest[:j], rest[j+1:]
			}
		}
		if err := d.store(i, val, row); err != nil {
			return err
		}
	}
	if rest != nil {
		return record.Errorf(ReasonColumns, "more than %d columns", n)
	}
	return nil
}

// quoted reads an RFC 4180 quoted field at the start of s. Without doubled
// quotes the value aliases s; with them it is unescaped into row.Scratch.
// next is nil when the field ends the line.
func (d *csvDecoder) quoted(s []byte, i int, row *record.Row) (val, next []byte, err *record.Error) {
	body := s[1:]
	escaped := false
	j := 0
	for {
		k := bytes.IndexByte(body[j:], '"')
		if k < 0 {
			return nil, nil, record.Errorf(ReasonQuote, "column %d (%s): unterminated quote", i, d.names[i])
		}
		j += k
		if j+1 < len(body) && body[j+1] == '"' {
			escaped = true
			j += 2
			continue
		}
		break
	}
	val = body[:j]
	after := body[j+1:]
	switch {
	case len(after) == 0:
		next = nil
	case after[0] == d.delim:
		next = after[1:]
	default:
		return nil, nil, record.Errorf(ReasonQuote, "column %d (%s): text after closing quote %q", i, d.names[i], truncate(after))
	}
	if escaped {
		start := len(row.Scratch)
		for p := 0; p < len(val); p++ {
			row.Scratch = append(row.Scratch, val[p])
			if val[p] == '"' {
				p++ // skip the second quote of a pair
			}
		}
		val = row.Scratch[start:len(row.Scratch):len(row.Scratch)]
	}
	return val, next, nil
}

func (d *csvDecoder) store(i int, val []byte, row *record.Row) *record.Error {
	if i == d.timeCol {
		t, ok := parseTime(trimSpace(val), d.timeFmt)
		if !ok {
			return colErr(ReasonTime, i, d.names[i], "not a time", val)
		}
		row.Time = t
	}
	switch d.kinds[i] {
	case colNumber:
		f, ok := parseNumber(trimSpace(val))
		if !ok {
			return colErr(ReasonNumber, i, d.names[i], "not a number", val)
		}
		row.Num[d.slots[i]] = f
	case colString:
		row.Str[d.slots[i]] = val
	}
	return nil
}
