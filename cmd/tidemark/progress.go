package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tidemark/tidemark/host/pipeline"
)

// isTTY reports whether f is a terminal (then the progress line redraws in
// place and may use colour).
func isTTY(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress prints a live line (records/s, windows written, late,
// malformed) every second on a terminal, every 10 s otherwise.
func progress(ctx context.Context, w io.Writer, tty bool, r *pipeline.Runner, extra func() string) {
	every := 10 * time.Second
	if tty {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var lastLines uint64
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return
		case now := <-t.C:
			lines := r.Engine().Lines.Load()
			rate := float64(lines-lastLines) / now.Sub(last).Seconds()
			lastLines, last = lines, now
			line := statusLine(r, rate)
			if extra != nil {
				line += extra()
			}
			if tty {
				fmt.Fprintf(w, "\r\033[K%s", line)
			} else {
				fmt.Fprintln(w, line)
			}
		}
	}
}

func statusLine(r *pipeline.Runner, rate float64) string {
	e := r.Engine()
	var windows, points, late uint64
	for _, p := range e.Pipes() {
		windows += p.WindowsWritten.Load()
		points += p.PointsWritten.Load()
		late += p.Late.Load()
	}
	return fmt.Sprintf("records %d (%s/s)  windows %d  points %d  late %d  malformed %d  dead-lettered %d",
		e.Lines.Load(), human(rate), windows, points, late, e.Malformed.Total(), r.DeadLettered.Load())
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
