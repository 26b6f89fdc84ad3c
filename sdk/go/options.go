package tidemark

import (
	"encoding/json"
	"fmt"
)

// Options are an instance's options, already checked against the manifest
// and completed with its defaults by the host. The getters return def when
// the option is absent or of another type.
type Options struct{ m map[string]any }

// ParseOptions decodes the JSON object tidemark_init receives.
func ParseOptions(b []byte) (Options, error) {
	m := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return Options{}, fmt.Errorf("tidemark: options: %w", err)
		}
	}
	return Options{m}, nil
}

// NewOptions wraps a map (for tests).
func NewOptions(m map[string]any) Options { return Options{m} }

// Has reports whether the option is set.
func (o Options) Has(name string) bool { _, ok := o.m[name]; return ok }

// Raw returns the option as decoded from JSON.
func (o Options) Raw(name string) any { return o.m[name] }

// Float returns a number option.
func (o Options) Float(name string, def float64) float64 {
	switch v := o.m[name].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return def
}

// Int returns a number option truncated to an int.
func (o Options) Int(name string, def int) int {
	f := o.Float(name, float64(def))
	return int(f)
}

// String returns a string option.
func (o Options) String(name string, def string) string {
	if v, ok := o.m[name].(string); ok {
		return v
	}
	return def
}

// Bool returns a bool option.
func (o Options) Bool(name string, def bool) bool {
	if v, ok := o.m[name].(bool); ok {
		return v
	}
	return def
}

// Strings returns a []string option.
func (o Options) Strings(name string, def []string) []string {
	switch v := o.m[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return def
			}
			out = append(out, s)
		}
		return out
	}
	return def
}
