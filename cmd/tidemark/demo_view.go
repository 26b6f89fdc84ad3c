package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidemark/tidemark/host/analyze"
)

// demoStatus is what the live status line shows.
type demoStatus struct {
	Records, Windows, Late uint64
	Alerts                 int
	Sim                    time.Time // simulated time being generated (zero: sample source)
	Active                 []string  // anomalies active at Sim
	Wall                   time.Duration
}

// demoView is the live terminal view: a status line (redrawn in place on a
// terminal, printed every 10 s otherwise) and one line per alert as it
// fires or resolves, coloured on a terminal.
type demoView struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	line string // the status line currently drawn (tty)
}

func newDemoView(w io.Writer, tty bool) *demoView { return &demoView{w: w, tty: tty} }

const (
	ansiReset   = "\033[0m"
	ansiBold    = "\033[1m"
	ansiRed     = "\033[1;31m"
	ansiYellow  = "\033[33m"
	ansiGreen   = "\033[32m"
	ansiCyan    = "\033[36m"
	ansiMagenta = "\033[35m"
	ansiDim     = "\033[2m"
)

func (v *demoView) paint(colour, s string) string {
	if !v.tty || colour == "" {
		return s
	}
	return colour + s + ansiReset
}

// alert prints one alert line (above the status line on a terminal).
func (v *demoView) alert(a analyze.Alert) {
	colour, state := "", "ALERT"
	switch {
	case a.State == "resolved":
		colour, state = ansiGreen, "RESOLVED"
	case a.Severity == "crit":
		colour = ansiRed
	case a.Severity == "warn":
		colour = ansiYellow
	default:
		colour = ansiCyan
	}
	line := fmt.Sprintf("%s %-4s %s %s %s window %s", v.paint(colour, fmt.Sprintf("%-8s", state)), a.Severity,
		v.paint(ansiBold, a.Instance), seriesText(a.Series), a.Kind, a.WindowStart.UTC().Format("15:04:05"))
	if a.State != "resolved" {
		if a.Observed != nil {
			line += fmt.Sprintf("  %s %s", a.Field, human(*a.Observed))
			if a.Expected != nil {
				line += fmt.Sprintf(" (expected %s)", human(*a.Expected))
			}
		}
		if a.Message != "" {
			line += v.paint(ansiDim, "  "+a.Message)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tty {
		fmt.Fprintf(v.w, "\r\033[K%s\n%s", line, v.line)
		return
	}
	fmt.Fprintln(v.w, line)
}

// run redraws the status line until ctx ends.
func (v *demoView) run(ctx context.Context, status func() demoStatus) {
	every := 10 * time.Second
	if v.tty {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var last demoStatus
	lastAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			v.mu.Lock()
			if v.tty && v.line != "" {
				fmt.Fprintln(v.w)
			}
			v.line = ""
			v.mu.Unlock()
			return
		case now := <-t.C:
			st := status()
			rate := float64(st.Records-last.Records) / math.Max(now.Sub(lastAt).Seconds(), 1e-3)
			last, lastAt = st, now
			line := v.statusLine(st, rate)
			v.mu.Lock()
			if v.tty {
				v.line = line
				fmt.Fprintf(v.w, "\r\033[K%s", line)
			} else {
				fmt.Fprintln(v.w, line)
			}
			v.mu.Unlock()
		}
	}
}

func (v *demoView) statusLine(st demoStatus, rate float64) string {
	var b strings.Builder
	if !st.Sim.IsZero() {
		fmt.Fprintf(&b, "sim %s ", st.Sim.Format("15:04:05"))
		if len(st.Active) > 0 {
			b.WriteString(v.paint(ansiMagenta, "["+strings.Join(st.Active, " ")+"]") + " ")
		}
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "records %s (%s/s)  windows %d  late %d  ", human(float64(st.Records)), human(rate), st.Windows, st.Late)
	alerts := fmt.Sprintf("alerts %d", st.Alerts)
	if st.Alerts > 0 {
		alerts = v.paint(ansiBold, alerts)
	}
	b.WriteString(alerts)
	fmt.Fprintf(&b, "  [%s]", st.Wall.Round(time.Second))
	return b.String()
}

// seriesText is a series' tags as k=v, sorted.
func seriesText(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	if len(parts) == 0 {
		return "(all)"
	}
	return strings.Join(parts, ",")
}
