package abi

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Severity of an alert. Guests report the current condition of a series each
// window; the host turns conditions into fire/resolve events.
type Severity uint8

const (
	SeverityOK   Severity = 0 // condition cleared (same as not reporting it)
	SeverityInfo Severity = 1
	SeverityWarn Severity = 2
	SeverityCrit Severity = 3
)

func (s Severity) String() string {
	switch s {
	case SeverityOK:
		return "ok"
	case SeverityInfo:
		return "info"
	case SeverityWarn:
		return "warn"
	case SeverityCrit:
		return "crit"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// Kind of an alert.
type Kind uint8

const (
	KindAnomaly    Kind = 0 // the observed value is outside the expected band
	KindPrediction Kind = 1 // the forecast crosses a threshold within Horizon
)

func (k Kind) String() string {
	switch k {
	case KindAnomaly:
		return "anomaly"
	case KindPrediction:
		return "prediction"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// AlertHeaderSize is the fixed part of an encoded alert; the message follows.
const AlertHeaderSize = 56

// Alert is one condition reported by a guest (ABI.md "Alert layout").
type Alert struct {
	Severity Severity
	Kind     Kind
	Series   uint32 // index into frame 0's series, or NoIndex
	Field    uint32 // index into the field names, or NoIndex
	Observed float64
	Expected float64
	Lower    float64 // band the observed value was expected in; NaN if none
	Upper    float64
	Horizon  int64 // ns after the window end at which the forecast crosses (predictions)
	Message  string
}

// AppendEncode appends the binary alert to dst.
func (a *Alert) AppendEncode(dst []byte) []byte {
	n := AlertHeaderSize + len(a.Message)
	base := len(dst)
	dst = grow(dst, n)
	b := dst[base:]
	b[0] = byte(a.Severity)
	b[1] = byte(a.Kind)
	b[2], b[3] = 0, 0
	le.PutUint32(b[4:], a.Series)
	le.PutUint32(b[8:], a.Field)
	le.PutUint32(b[12:], uint32(len(a.Message)))
	le.PutUint64(b[16:], math.Float64bits(a.Observed))
	le.PutUint64(b[24:], math.Float64bits(a.Expected))
	le.PutUint64(b[32:], math.Float64bits(a.Lower))
	le.PutUint64(b[40:], math.Float64bits(a.Upper))
	le.PutUint64(b[48:], uint64(a.Horizon))
	copy(b[AlertHeaderSize:], a.Message)
	return dst
}

// EncodeAlert appends the binary encoding of a to dst.
func EncodeAlert(a *Alert, dst []byte) []byte { return a.AppendEncode(dst) }

// DecodeAlert parses an alert written by a guest. It checks the structure and
// the enumerations; the host checks Series and Field against the input with
// Alert.Check. A message longer than MaxAlertMessage is cut at a UTF-8
// boundary; invalid UTF-8 is replaced, so the message is always safe to log
// and to put in JSON.
func DecodeAlert(b []byte) (Alert, error) {
	var a Alert
	if len(b) < AlertHeaderSize {
		return a, fmt.Errorf("%w: alert of %d bytes is shorter than its %d byte header", ErrFormat, len(b), AlertHeaderSize)
	}
	a.Severity = Severity(b[0])
	a.Kind = Kind(b[1])
	if a.Severity > SeverityCrit {
		return a, fmt.Errorf("%w: alert severity %d", ErrFormat, b[0])
	}
	if a.Kind > KindPrediction {
		return a, fmt.Errorf("%w: alert kind %d", ErrFormat, b[1])
	}
	if b[2] != 0 || b[3] != 0 {
		return a, fmt.Errorf("%w: alert reserved bytes are not zero", ErrFormat)
	}
	a.Series = le.Uint32(b[4:])
	a.Field = le.Uint32(b[8:])
	mlen := uint64(le.Uint32(b[12:]))
	if AlertHeaderSize+mlen != uint64(len(b)) {
		return a, fmt.Errorf("%w: alert message length %d, but %d bytes follow the header", ErrFormat, mlen, len(b)-AlertHeaderSize)
	}
	a.Observed = math.Float64frombits(le.Uint64(b[16:]))
	a.Expected = math.Float64frombits(le.Uint64(b[24:]))
	a.Lower = math.Float64frombits(le.Uint64(b[32:]))
	a.Upper = math.Float64frombits(le.Uint64(b[40:]))
	a.Horizon = int64(le.Uint64(b[48:]))
	msg := b[AlertHeaderSize:]
	if len(msg) > MaxAlertMessage {
		cut := MaxAlertMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	a.Message = strings.ToValidUTF8(string(msg), "\uFFFD")
	return a, nil
}

// Check validates the alert's indices against the input it answers
// (numSeries series and numFields fields); the host answers OUT_OF_BOUNDS.
func (a *Alert) Check(numSeries, numFields int) error {
	if a.Series != NoIndex && uint64(a.Series) >= uint64(numSeries) {
		return fmt.Errorf("alert series index %d, input has %d series", a.Series, numSeries)
	}
	if a.Field != NoIndex && uint64(a.Field) >= uint64(numFields) {
		return fmt.Errorf("alert field index %d, input has %d fields", a.Field, numFields)
	}
	return nil
}
