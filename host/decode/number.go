package decode

import (
	"math"
	"strconv"
	"unsafe"
)

// unsafeString views b as a string without copying. strconv and netip take
// strings; converting with string(b) would allocate per field. The view is
// only passed to functions that do not retain it on success (ParseFloat and
// ParseAddr copy nothing; on failure ParseFloat's error copies the text, and
// that path is allowed to allocate).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseInt parses an optionally signed decimal integer of up to 18 digits,
// the common case for counters, which float64 holds exactly below 2^53.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseUint parses a decimal integer up to 20 digits (uint64 counters such as
// ifInOctets are printed with PRIu64).
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		d := uint64(c)
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseNumber parses a decimal integer or float. Integers take a fast path;
// anything else goes to strconv.ParseFloat on an unsafe view. NaN and ±Inf
// are rejected: one of them would poison every sum and average it reaches.
func parseNumber(b []byte) (float64, bool) {
	if n, ok := parseInt(b); ok {
		return float64(n), true
	}
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafeString(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseHex parses "0x1f" (the prefix is required by sflowtool's "0x%02x")
// but also accepts a plain decimal, which some forks print.
func parseHex(b []byte) (float64, bool) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
		if len(b) > 16 {
			return 0, false
		}
		var n uint64
		for _, c := range b {
			v, ok := hexVal(c)
			if !ok {
				return 0, false
			}
			n = n<<4 | uint64(v)
		}
		return float64(n), true
	}
	n, ok := parseUint(b)
	return float64(n), ok
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseMAC parses sflowtool's 12 hex digits ("00163e1a2b3c") or the
// colon/dash separated form into a 48-bit number (exact in a float64).
func parseMAC(b []byte) (float64, bool) {
	var n uint64
	switch len(b) {
	case 12:
		for _, c := range b {
			v, ok := hexVal(c)
			if !ok {
				return 0, false
			}
			n = n<<4 | uint64(v)
		}
	case 17:
		for i := 0; i < 17; i += 3 {
			if i > 0 && b[i-1] != ':' && b[i-1] != '-' {
				return 0, false
			}
			hi, ok1 := hexVal(b[i])
			lo, ok2 := hexVal(b[i+1])
			if !ok1 || !ok2 {
				return 0, false
			}
			n = n<<8 | uint64(hi)<<4 | uint64(lo)
		}
	default:
		return 0, false
	}
	return float64(n), true
}

// trimSpace trims ASCII blanks around a number; "1, 2" is common in CSV.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// trimEOL drops a trailing "\r" (CRLF input) and "\n".
func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
