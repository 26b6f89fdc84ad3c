// Package decode turns one message (one line of a Kafka value) into a
// record.Row.
//
// Three formats are built in: "sflowtool" (the fixed `sflowtool -l` layout,
// see README.md), "csv" (configured columns) and "json" (flat or nested
// objects, fields picked by dotted path). Decoders never allocate for a
// valid record: string fields alias the message (or, when they must be
// unescaped, the row's Scratch arena), numbers are parsed in place. A bad
// record yields a *record.Error whose Reason is one of a small fixed set
// (see the Reason constants) and whose Msg says where the problem is.
//
// A Decoder holds no per-record state, so one value may be shared by
// several goroutines as long as each uses its own Row.
package decode

import (
	"fmt"
	"strings"

	"github.com/tidemark/tidemark/host/record"
)

// Reasons carried by *record.Error. They are metric labels and dead-letter
// headers, so the set is small and fixed.
const (
	ReasonEmpty   = "empty"   // blank line
	ReasonColumns = "columns" // wrong number of columns / unknown line type
	ReasonNumber  = "number"  // a number column holds something else
	ReasonIP      = "ip"      // an IP column holds something else
	ReasonMAC     = "mac"     // a MAC column holds something else
	ReasonTime    = "time"    // event time missing or unparsable
	ReasonQuote   = "quote"   // malformed CSV quoting
	ReasonJSON    = "json"    // malformed JSON
	ReasonType    = "type"    // JSON value of the wrong kind for its column
	ReasonMissing = "missing" // configured JSON field absent or null
)

// Column describes one input column (csv) or extracted field (json).
type Column struct {
	Name string
	Type string // "number" | "string" | "time"; "" means "string"
	Path string // json dotted path, default Name
}

// Config selects and parameterises a decoder.
type Config struct {
	Format     string   // "sflowtool" | "csv" | "json"
	Columns    []Column // csv: all columns in order (use name "_" to skip one); json: the fields to extract
	Delimiter  byte     // csv, default ','
	TimeField  string   // name of the event-time field; "" = none (pipeline uses the Kafka timestamp)
	TimeFormat string   // "s" | "ms" | "us" | "ns" | "rfc3339" | "auto" (default auto)
}

// Decoder turns one message into a row.
type Decoder interface {
	// Schema is the fields the decoder fills, fixed at construction.
	// Callers that add fields must Clone it first.
	Schema() *record.Schema
	// HasTime reports whether Decode sets row.Time.
	HasTime() bool
	// Decode fills row, which is already Reset and sized ≥ Schema().Len().
	// String slots alias msg, so msg must outlive the row's use. After an
	// error the row is partly filled and must not be used.
	Decode(msg []byte, row *record.Row) *record.Error
}

// New builds the decoder cfg describes. Errors name the offending key,
// e.g. `columns[3]: unknown type "nmber"`.
func New(cfg Config) (Decoder, error) {
	switch cfg.Format {
	case "sflowtool":
		if cfg.Delimiter != 0 && cfg.Delimiter != ',' {
			return nil, fmt.Errorf("delimiter: the sflowtool format is always comma-separated")
		}
		if len(cfg.Columns) > 0 {
			return nil, fmt.Errorf("columns: the sflowtool format has a fixed layout and takes no columns")
		}
		if cfg.TimeField != "" {
			return nil, fmt.Errorf("time_field: sflowtool lines carry no event time (the Kafka timestamp is used)")
		}
		return newSflowtool(), nil
	case "csv":
		return newCSV(cfg)
	case "json":
		if cfg.Delimiter != 0 {
			return nil, fmt.Errorf("delimiter: only the csv format takes one")
		}
		return newJSON(cfg)
	case "":
		return nil, fmt.Errorf("format: missing (want sflowtool, csv or json)")
	}
	return nil, fmt.Errorf("format: unknown format %q (want sflowtool, csv or json)", cfg.Format)
}

// colKind is a column's role in the row.
type colKind uint8

const (
	colSkip colKind = iota
	colNumber
	colString
	colTime // event time only, not a row field
)

// layout is the compiled column list shared by the csv and json decoders.
type layout struct {
	schema  *record.Schema
	kinds   []colKind // per configured column
	slots   []int     // row slot per column (-1 for skip/time-only)
	names   []string  // per column, for error messages
	timeCol int       // index into columns of the event-time column, -1 = none
	timeFmt timeFormat
}

// compileColumns validates the column list. allowSkip is true for csv,
// where "_" keeps a position without a field.
func compileColumns(cfg Config, allowSkip bool) (*layout, error) {
	if len(cfg.Columns) == 0 {
		return nil, fmt.Errorf("columns: at least one column is required for format %q", cfg.Format)
	}
	tf, err := parseTimeFormat(cfg.TimeFormat)
	if err != nil {
		return nil, err
	}
	l := &layout{
		schema:  &record.Schema{},
		kinds:   make([]colKind, len(cfg.Columns)),
		slots:   make([]int, len(cfg.Columns)),
		names:   make([]string, len(cfg.Columns)),
		timeCol: -1,
		timeFmt: tf,
	}
	seen := map[string]int{}
	var timeCols []int
	for i, c := range cfg.Columns {
		l.slots[i] = -1
		l.names[i] = c.Name
		if c.Path != "" && allowSkip {
			return nil, fmt.Errorf("columns[%d]: path is only for the json format", i)
		}
		if c.Name == "_" && allowSkip {
			l.kinds[i] = colSkip
			continue
		}
		if c.Name == "" || strings.TrimSpace(c.Name) != c.Name {
			return nil, fmt.Errorf("columns[%d]: name %q is empty or has surrounding spaces", i, c.Name)
		}
		if c.Name == "_" {
			return nil, fmt.Errorf("columns[%d]: \"_\" (skip) only makes sense for csv", i)
		}
		if j, dup := seen[c.Name]; dup {
			return nil, fmt.Errorf("columns[%d]: name %q already used by columns[%d]", i, c.Name, j)
		}
		seen[c.Name] = i
		switch c.Type {
		case "number":
			l.kinds[i] = colNumber
		case "string", "":
			l.kinds[i] = colString
		case "time":
			l.kinds[i] = colTime
			timeCols = append(timeCols, i)
		default:
			return nil, fmt.Errorf("columns[%d]: unknown type %q (want number, string or time)", i, c.Type)
		}
		if l.kinds[i] != colTime {
			kind := record.Number
			if l.kinds[i] == colString {
				kind = record.String
			}
			slot, err := l.schema.Add(c.Name, kind)
			if err != nil {
				return nil, fmt.Errorf("columns[%d]: %w", i, err)
			}
			l.slots[i] = slot
		}
	}
	switch {
	case cfg.TimeField != "":
		i, ok := seen[cfg.TimeField]
		if !ok {
			return nil, fmt.Errorf("time_field: %q is not one of the columns", cfg.TimeField)
		}
		for _, t := range timeCols {
			if t != i {
				return nil, fmt.Errorf("columns[%d]: type \"time\" but time_field is %q", t, cfg.TimeField)
			}
		}
		l.timeCol = i
	case len(timeCols) == 1:
		l.timeCol = timeCols[0]
	case len(timeCols) > 1:
		return nil, fmt.Errorf("columns[%d]: a second column of type \"time\" (columns[%d] is one); set time_field", timeCols[1], timeCols[0])
	}
	if l.timeCol < 0 && cfg.TimeFormat != "" {
		return nil, fmt.Errorf("time_format: set but there is no time_field")
	}
	return l, nil
}

// truncate shortens offending input for an error message.
func truncate(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// colErr is the error for a bad value in a named column.
func colErr(reason string, idx int, name, what string, text []byte) *record.Error {
	return record.Errorf(reason, "column %d (%s): %s %q", idx, name, what, truncate(text))
}
