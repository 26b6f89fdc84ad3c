package analyze

import (
	"time"
)

// conditionKey identifies one condition an instance tracks.
type conditionKey struct {
	Series, Field, Kind string
}

// condition is its last known state.
type condition struct {
	Severity   uint8     `json:"severity"`
	Since      int64     `json:"since"`       // window start when it began
	LastNotify time.Time `json:"last_notify"` // wall time of the last publication
}

// Tracker applies state-change semantics: a condition fires when it goes
// from OK to WARN or CRIT (or from WARN to CRIT), resolves when it returns
// to OK, and is otherwise quiet while it lasts, unless Renotify has passed
// since it was last published. Guests report the current condition of every
// series each window and need not remember anything.
type Tracker struct {
	Renotify time.Duration
	conds    map[conditionKey]*condition
	// lastWindow is the newest window seen: an older one (a replay after a
	// crash) can never fire or resolve anything again.
	lastWindow int64
}

// NewTracker returns an empty tracker.
func NewTracker(renotify time.Duration) *Tracker {
	return &Tracker{Renotify: renotify, conds: map[conditionKey]*condition{}, lastWindow: -1 << 63}
}

// Transition says what to publish for one reported condition.
type Transition uint8

const (
	// Quiet: nothing changed (or a replayed window).
	Quiet Transition = iota
	// Fire: the condition began or got worse.
	Fire
	// Resolve: the condition cleared.
	Resolve
	// Renotify: still on, and Renotify has passed.
	Renotify
)

// BeginWindow must be called before the reports of a window. It returns
// false for a window not newer than the last one (a replay), whose reports
// must then be ignored.
func (t *Tracker) BeginWindow(start int64) bool {
	if start <= t.lastWindow {
		return false
	}
	t.lastWindow = start
	return true
}

// Report folds in one condition and says what to publish.
func (t *Tracker) Report(k conditionKey, severity uint8, window int64, now time.Time) (Transition, uint8) {
	c := t.conds[k]
	prev := uint8(0)
	if c != nil {
		prev = c.Severity
	}
	switch {
	case severity <= 1 && prev <= 1:
		// OK or info stays quiet (info alerts are published by the caller
		// without state).
		return Quiet, prev
	case severity <= 1:
		delete(t.conds, k)
		return Resolve, prev
	case severity > prev:
		t.conds[k] = &condition{Severity: severity, Since: window, LastNotify: now}
		return Fire, prev
	default:
		if severity < prev {
			// CRIT → WARN: still on, remember the lower level quietly.
			c.Severity = severity
		}
		if t.Renotify > 0 && now.Sub(c.LastNotify) >= t.Renotify {
			c.LastNotify = now
			return Renotify, prev
		}
		return Quiet, prev
	}
}

// Sweep resolves every active condition that was not reported in the
// current window (the series vanished or the guest stopped reporting it).
func (t *Tracker) Sweep(reported map[conditionKey]bool) []conditionKey {
	var out []conditionKey
	for k := range t.conds {
		if !reported[k] {
			out = append(out, k)
		}
	}
	return out
}

// Active is the number of conditions currently on.
func (t *Tracker) Active() int { return len(t.conds) }

type trackerSnapshot struct {
	LastWindow int64                  `json:"last_window"`
	Conditions []conditionSnapshotRow `json:"conditions"`
}

type conditionSnapshotRow struct {
	Key conditionKey `json:"key"`
	condition
}

func (t *Tracker) snapshot() trackerSnapshot {
	s := trackerSnapshot{LastWindow: t.lastWindow}
	for k, c := range t.conds {
		s.Conditions = append(s.Conditions, conditionSnapshotRow{Key: k, condition: *c})
	}
	return s
}

func (t *Tracker) restore(s trackerSnapshot) {
	t.lastWindow = s.LastWindow
	for _, r := range s.Conditions {
		c := r.condition
		t.conds[r.Key] = &c
	}
}
