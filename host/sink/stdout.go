package sink

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Stdout writes windows as line protocol to a writer, lines sorted so the
// output is the same whatever order the points came in. Handy for debugging
// and `tidemark run --dry-run`-style use.
type Stdout struct {
	mu sync.Mutex
	w  io.Writer
}

// NewStdout returns a sink writing to w.
func NewStdout(w io.Writer) *Stdout { return &Stdout{w: w} }

// Write writes the window's lines in sorted order.
func (s *Stdout) Write(_ context.Context, w *Window) error {
	if err := w.validate(); err != nil {
		return err
	}
	enc := newEncoder(w)
	var buf []byte
	for i := range w.Points {
		buf, _ = enc.appendPoint(buf, i)
	}
	if len(buf) == 0 {
		return nil
	}
	lines := splitLines(string(buf))
	slices.Sort(lines)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, strings.Join(lines, "\n")+"\n"); err != nil {
		return fmt.Errorf("sink: stdout: %w", err)
	}
	return nil
}

// Close does nothing; the writer belongs to the caller.
func (s *Stdout) Close() error { return nil }

var (
	_ Sink = (*Stdout)(nil)
	_ Sink = (*Influx)(nil)
)
