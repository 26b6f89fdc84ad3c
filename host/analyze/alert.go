// Package analyze runs analyzer instances over closed windows: it builds
// each instance's input (the window plus its declared history from
// InfluxDB), calls the module, turns what it reports into alerts with
// state-change semantics and deterministic ids, and publishes them.
package analyze

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
)

// Alert is what Tidemark publishes (JSON on the alert topic, one line on
// stdout, a point in tidemark_alerts). Its id is a hash of instance,
// series, field, window, kind and state: a replay of the same window yields
// the same id, so consumers (and Tidemark itself) can drop duplicates.
type Alert struct {
	ID       string            `json:"id"`
	Instance string            `json:"instance"`
	Module   string            `json:"module"` // name@version
	Pipeline string            `json:"pipeline"`
	Kind     string            `json:"kind"`     // anomaly | prediction
	Severity string            `json:"severity"` // info | warn | crit; for state "resolved" the severity that cleared
	State    string            `json:"state"`    // firing | resolved
	Series   map[string]string `json:"series"`   // group key tags
	Field    string            `json:"field,omitempty"`
	Observed *float64          `json:"observed,omitempty"`
	Expected *float64          `json:"expected,omitempty"`
	Lower    *float64          `json:"lower,omitempty"`
	Upper    *float64          `json:"upper,omitempty"`
	// HorizonSeconds is, for predictions, how far after the window end
	// the forecast crosses its threshold.
	HorizonSeconds *float64  `json:"horizon_seconds,omitempty"`
	WindowStart    time.Time `json:"window_start"`
	WindowEnd      time.Time `json:"window_end"`
	Message        string    `json:"message"`
	At             time.Time `json:"at"` // when Tidemark raised it (not part of the id)
}

// AlertID is the deterministic id.
func AlertID(instance, seriesKey, field string, windowStart int64, kind, state string) string {
	h := sha256.New()
	for _, s := range []string{instance, seriesKey, field, strconv.FormatInt(windowStart, 10), kind, state} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// seriesKey is the canonical text of a series' tags.
func seriesKey(names, values []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(values[i])
	}
	return b.String()
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
