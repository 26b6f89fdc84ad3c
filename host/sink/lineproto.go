package sink

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// encoder turns a window into line protocol. Tags are written sorted by key
// (what InfluxDB recommends and what makes output deterministic); the sort
// order is computed once per window.
type encoder struct {
	w        *Window
	tagOrder []int
	meas     string
	tagKeys  []string // escaped, by tagOrder
	fieldKey []string // escaped
	ts       string
}

func newEncoder(w *Window) *encoder {
	e := &encoder{w: w, meas: escape(w.Measurement, measEscaper), ts: strconv.FormatInt(w.Start.UnixNano(), 10)}
	e.tagOrder = make([]int, len(w.TagNames))
	for i := range e.tagOrder {
		e.tagOrder[i] = i
	}
	sort.SliceStable(e.tagOrder, func(a, b int) bool { return w.TagNames[e.tagOrder[a]] < w.TagNames[e.tagOrder[b]] })
	e.tagKeys = make([]string, len(w.TagNames))
	for i, ti := range e.tagOrder {
		e.tagKeys[i] = escape(w.TagNames[ti], keyEscaper)
	}
	e.fieldKey = make([]string, len(w.FieldNames))
	for i, f := range w.FieldNames {
		e.fieldKey[i] = escape(f, keyEscaper)
	}
	return e
}

// appendPoint appends point i as one line (with trailing newline) and reports
// whether it did: a point with no writable field has no line-protocol form.
func (e *encoder) appendPoint(buf []byte, i int) ([]byte, bool) {
	p := &e.w.Points[i]
	start := len(buf)
	buf = append(buf, e.meas...)
	for k, ti := range e.tagOrder {
		v := p.Tags[ti]
		if needsEscape(v) {
			v = escape(v, keyEscaper)
		}
		if v == "" { // InfluxDB has no empty tag values: an absent tag is how it says ""
			continue
		}
		buf = append(buf, ',')
		buf = append(buf, e.tagKeys[k]...)
		buf = append(buf, '=')
		buf = append(buf, v...)
	}
	sep := byte(' ')
	n := 0
	for f, v := range p.Values {
		if p.Present != nil && !p.Present[f] {
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		isInt := len(e.w.FieldInt) > 0 && e.w.FieldInt[f]
		if isInt && (v >= 9.223372036854775807e18 || v < -9.223372036854775808e18) {
			continue // not representable as int64; writing it as float would conflict with the field type
		}
		buf = append(buf, sep)
		sep = ','
		buf = append(buf, e.fieldKey[f]...)
		buf = append(buf, '=')
		if isInt {
			buf = strconv.AppendInt(buf, int64(v), 10)
			buf = append(buf, 'i')
		} else {
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
		}
		n++
	}
	if n == 0 {
		return buf[:start], false
	}
	buf = append(buf, ' ')
	buf = append(buf, e.ts...)
	buf = append(buf, '\n')
	return buf, true
}

// Line protocol escaping: measurement escapes comma and space; tag keys, tag
// values and field keys also escape '='. A newline cannot appear in a line,
// so it is written as the two characters `\n`.
var (
	measEscaper = strings.NewReplacer(",", `\,`, " ", `\ `, "\n", `\n`)
	keyEscaper  = strings.NewReplacer(",", `\,`, " ", `\ `, "=", `\=`, "\n", `\n`)
)

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', ' ', '=', '\n', '\\':
			return true
		}
	}
	return false
}

func escape(s string, r *strings.Replacer) string {
	if !needsEscape(s) {
		return s
	}
	return fixTrailingBackslash(r.Replace(s))
}

// fixTrailingBackslash drops trailing backslashes: InfluxDB 1.x reads any
// character after `\` as escaped, so a final `\` would swallow the separator
// and no escaping of it exists. (The escapes above never end in `\`.)
func fixTrailingBackslash(s string) string {
	return strings.TrimRight(s, `\`)
}
