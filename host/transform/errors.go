package transform

import (
	"fmt"
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
		d := levenshtein(strings.ToLower(name), strings.ToLower(c))
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

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
