package transform

import (
	"fmt"
	"github.com/tidemark/tidemark/internal/editdist"
	"strings"
)

// CompileError locates an error: Expr is -1 for the where clause, i for
// fields[i]; Pos is the byte offset in that expression.
type CompileError struct {
	Expr int
	Pos  int
	Msg  string
}

func (e *CompileError) Error() string {
	if e.Expr < 0 {
		return fmt.Sprintf("where: offset %d: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("fields[%d]: offset %d: %s", e.Expr, e.Pos, e.Msg)
}

// ErrorList is what Compile returns when expressions fail: at most one
// error per expression, the where clause first, then fields in order.
type ErrorList []*CompileError

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find each *CompileError.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// suggest returns the candidate closest to name by edit distance, or "" if
// none is close enough to be a plausible typo.
func suggest(name string, candidates []string) string {
	// Allow one edit in short names, two from 5 bytes, three from 10.
	best, bestD := "", min(1+len(name)/5, 3)+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := editdist.Distance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func didYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}
