package decode

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

type timeFormat uint8

const (
	timeAuto timeFormat = iota
	timeS
	timeMS
	timeUS
	timeNS
	timeRFC3339
)

func parseTimeFormat(s string) (timeFormat, error) {
	switch s {
	case "", "auto":
		return timeAuto, nil
	case "s":
		return timeS, nil
	case "ms":
		return timeMS, nil
	case "us", "µs":
		return timeUS, nil
	case "ns":
		return timeNS, nil
	case "rfc3339":
		return timeRFC3339, nil
	}
	return 0, fmt.Errorf("time_format: unknown format %q (want s, ms, us, ns, rfc3339 or auto)", s)
}

// unitNanos is the length of one epoch unit in nanoseconds.
var unitNanos = [...]int64{timeS: 1e9, timeMS: 1e6, timeUS: 1e3, timeNS: 1}

// parseTime returns Unix nanoseconds for b in format f.
func parseTime(b []byte, f timeFormat) (int64, bool) {
	switch f {
	case timeRFC3339:
		return parseRFC3339(b)
	case timeAuto:
		if len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) && !looksLikeDate(b) {
			return parseEpoch(b, timeAuto)
		}
		return parseRFC3339(b)
	}
	return parseEpoch(b, f)
}

// looksLikeDate is true for "2024-..." so that auto does not read the year
// as an epoch number.
func looksLikeDate(b []byte) bool {
	return len(b) >= 10 && b[4] == '-' && b[7] == '-'
}

// autoUnit picks the epoch unit from the magnitude of the integer part:
// seconds until the year 5138, then ms, µs and ns, which cover any current
// timestamp in each unit unambiguously.
func autoUnit(intPart uint64) timeFormat {
	switch {
	case intPart < 1e11:
		return timeS
	case intPart < 1e14:
		return timeMS
	case intPart < 1e17:
		return timeUS
	}
	return timeNS
}

// parseEpoch parses [-]digits[.digits] exactly (no float rounding of the
// nanoseconds); other number spellings (exponents) fall back to a float.
func parseEpoch(b []byte, f timeFormat) (int64, bool) {
	neg := false
	s := b
	if len(s) > 0 && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intDigits, rest := s[:i], s[i:]
	var frac []byte
	if len(rest) > 0 && rest[0] == '.' {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		frac, rest = rest[1:j], rest[j:]
	}
	if len(rest) != 0 || len(intDigits) == 0 {
		return parseEpochFloat(b, f)
	}
	n, ok := parseUint(intDigits)
	if !ok {
		return 0, false
	}
	if f == timeAuto {
		f = autoUnit(n)
	}
	unit := unitNanos[f]
	if n > uint64(math.MaxInt64/unit) {
		return 0, false
	}
	ns := int64(n) * unit
	// fraction: digits beyond the unit's nanosecond resolution are dropped
	scale := unit / 10
	for _, c := range frac {
		if scale == 0 {
			break
		}
		ns += int64(c-'0') * scale
		scale /= 10
	}
	if ns < 0 {
		return 0, false
	}
	if neg {
		ns = -ns
	}
	return ns, true
}

func parseEpochFloat(b []byte, f timeFormat) (int64, bool) {
	v, err := strconv.ParseFloat(unsafeString(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	if f == timeAuto {
		f = autoUnit(uint64(math.Abs(v)))
	}
	ns := v * float64(unitNanos[f])
	if ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return 0, false
	}
	return int64(ns), true
}

// parseRFC3339 parses YYYY-MM-DD[T ]HH:MM:SS[.frac](Z|±HH:MM) without
// allocating; time.Parse builds a FixedZone (an allocation) for every
// non-UTC offset.
func parseRFC3339(b []byte) (int64, bool) {
	if len(b) < 20 {
		return 0, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	// UnixNano is only defined for years 1678..2261.
	if year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		j := 1
		scale := int(1e8)
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			nsec += int(rest[j]-'0') * scale
			scale /= 10
			j++
		}
		if j == 1 {
			return 0, false
		}
		rest = rest[j:]
	}
	offset := 0
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.UnixNano() - int64(offset)*1e9, true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int((m-1)%7%2)
}
