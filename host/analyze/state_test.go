package analyze

import (
	"testing"
	"time"
)

func TestTrackerStateChanges(t *testing.T) {
	tr := NewTracker(0)
	k := conditionKey{Series: "dst=a", Field: "sum_bytes", Kind: "anomaly"}
	now := time.Unix(0, 0)
	steps := []struct {
		window   int64
		severity uint8 // 255 = not reported (absent)
		want     Transition
	}{
		{1, 0, Quiet},     // OK
		{2, 2, Fire},      // OK → WARN
		{3, 2, Quiet},     // lasting
		{4, 3, Fire},      // WARN → CRIT
		{5, 2, Quiet},     // CRIT → WARN: still on
		{6, 255, Resolve}, // not reported: back to OK
		{7, 255, Quiet},
		{8, 3, Fire},
		{9, 0, Resolve}, // reported OK
	}
	for _, s := range steps {
		if !tr.BeginWindow(s.window) {
			t.Fatalf("window %d refused", s.window)
		}
		var got Transition
		if s.severity == 255 {
			got = Quiet
			for _, sk := range tr.Sweep(map[conditionKey]bool{}) {
				if sk == k {
					got, _ = tr.Report(k, 0, s.window, now)
				}
			}
		} else {
			got, _ = tr.Report(k, s.severity, s.window, now)
		}
		if got != s.want {
			t.Errorf("window %d severity %d: got %v, want %v", s.window, s.severity, got, s.want)
		}
	}
}

func TestTrackerIgnoresReplayedWindows(t *testing.T) {
	tr := NewTracker(0)
	if !tr.BeginWindow(10) || tr.BeginWindow(10) || tr.BeginWindow(5) {
		t.Fatal("a window not newer than the last must be refused")
	}
}

func TestTrackerRenotify(t *testing.T) {
	tr := NewTracker(time.Minute)
	k := conditionKey{Series: "x"}
	t0 := time.Unix(1000, 0)
	tr.BeginWindow(1)
	if got, _ := tr.Report(k, 2, 1, t0); got != Fire {
		t.Fatalf("got %v", got)
	}
	tr.BeginWindow(2)
	if got, _ := tr.Report(k, 2, 2, t0.Add(30*time.Second)); got != Quiet {
		t.Fatalf("got %v before the interval", got)
	}
	tr.BeginWindow(3)
	if got, _ := tr.Report(k, 2, 3, t0.Add(61*time.Second)); got != Renotify {
		t.Fatalf("got %v after the interval", got)
	}
}

func TestTrackerSnapshotRoundTrip(t *testing.T) {
	tr := NewTracker(0)
	k := conditionKey{Series: "s", Field: "f", Kind: "anomaly"}
	tr.BeginWindow(100)
	tr.Report(k, 3, 100, time.Unix(1, 0))
	st := newStore()
	if err := st.set("ewma", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := saveSnapshot(dir, "inst", st, tr); err != nil {
		t.Fatal(err)
	}
	tr2, st2 := NewTracker(0), newStore()
	if err := loadSnapshot(dir, "inst", st2, tr2); err != nil {
		t.Fatal(err)
	}
	if v, ok := st2.get("ewma"); !ok || len(v) != 3 {
		t.Errorf("state not restored: %v %v", v, ok)
	}
	if tr2.BeginWindow(100) {
		t.Error("last window not restored: a replay of window 100 would be analysed again")
	}
	if got, _ := tr2.Report(k, 3, 200, time.Unix(2, 0)); got != Quiet {
		t.Errorf("condition not restored: got %v, want Quiet", got)
	}
}

func TestStoreBound(t *testing.T) {
	st := newStore()
	if err := st.set("a", make([]byte, MaxStateBytes)); err == nil {
		t.Fatal("state past the limit accepted")
	}
	if err := st.set("a", make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := st.set("a", nil); err != nil || st.bytes != 0 {
		t.Fatalf("delete: %v, bytes %d", err, st.bytes)
	}
}

func TestAlertIDDeterministic(t *testing.T) {
	a := AlertID("i", "dst=a", "f", 10, "anomaly", "firing")
	if a != AlertID("i", "dst=a", "f", 10, "anomaly", "firing") {
		t.Fatal("not deterministic")
	}
	for _, b := range []string{
		AlertID("j", "dst=a", "f", 10, "anomaly", "firing"),
		AlertID("i", "dst=b", "f", 10, "anomaly", "firing"),
		AlertID("i", "dst=a", "f", 20, "anomaly", "firing"),
		AlertID("i", "dst=a", "f", 10, "prediction", "firing"),
		AlertID("i", "dst=a", "f", 10, "anomaly", "resolved"),
	} {
		if a == b {
			t.Error("different alerts share an id")
		}
	}
}
