package config

import (
	"fmt"
	"strings"
)

// locateKeys maps key paths to 1-based lines by scanning the TOML text.
// The TOML parser behind koanf keeps no positions, and messages that say
// where a problem is are worth a small scanner: tables, arrays of tables,
// keys, and the elements of multi-line arrays of strings.
func locateKeys(src []byte) map[string]int {
	out := map[string]int{}
	counts := map[string]int{}
	prefix := ""
	arrayKey, arrayIdx := "", 0
	for i, line := range strings.Split(string(src), "\n") {
		n := i + 1
		t := strings.TrimSpace(stripComment(line))
		if t == "" {
			continue
		}
		if arrayKey != "" {
			if strings.HasPrefix(t, "]") {
				arrayKey = ""
				continue
			}
			for _, el := range splitTopLevel(strings.TrimSuffix(t, "]")) {
				if strings.TrimSpace(el) == "" {
					continue
				}
				out[fmt.Sprintf("%s[%d]", arrayKey, arrayIdx)] = n
				arrayIdx++
			}
			if strings.HasSuffix(t, "]") {
				arrayKey = ""
			}
			continue
		}
		switch {
		case strings.HasPrefix(t, "[["):
			name := strings.TrimSpace(strings.Trim(t, "[]"))
			idx := counts[name]
			counts[name]++
			prefix = fmt.Sprintf("%s[%d]", name, idx)
			out[prefix] = n
		case strings.HasPrefix(t, "["):
			prefix = strings.TrimSpace(strings.Trim(t, "[]"))
			out[prefix] = n
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				continue
			}
			key := strings.Trim(strings.TrimSpace(k), `"`)
			path := key
			if prefix != "" {
				path = prefix + "." + key
			}
			out[path] = n
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "[") {
				body := strings.TrimPrefix(v, "[")
				closed := strings.HasSuffix(body, "]")
				els := splitTopLevel(strings.TrimSuffix(body, "]"))
				idx := 0
				for _, el := range els {
					if strings.TrimSpace(el) != "" {
						out[fmt.Sprintf("%s[%d]", path, idx)] = n
						idx++
					}
				}
				if !closed {
					arrayKey, arrayIdx = path, idx
				}
			}
		}
	}
	return out
}

// stripComment drops a trailing # comment outside quotes.
func stripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

// splitTopLevel splits on commas outside quotes and brackets.
func splitTopLevel(s string) []string {
	var out []string
	var q byte
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
