package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ManifestSection is the name of the wasm custom section holding the manifest.
const ManifestSection = "tidemark.manifest"

// ErrNoManifest is returned by ReadManifest for a module without the section.
var ErrNoManifest = errors.New("abi: module has no " + ManifestSection + " custom section")

// Option types a manifest may declare.
const (
	TypeNumber  = "number"
	TypeString  = "string"
	TypeBool    = "bool"
	TypeStrings = "[]string"
)

// Capabilities a module may request; the host grants them per instance.
const (
	CapabilityQuery = "query"
	CapabilityClock = "clock"
)

// Manifest describes a module without instantiating it (ABI.md "Manifest").
type Manifest struct {
	Name         string                `json:"name"`
	Version      string                `json:"version"`
	ABI          string                `json:"abi"`
	Description  string                `json:"description,omitempty"`
	Options      map[string]OptionSpec `json:"options,omitempty"`
	Capabilities []string              `json:"capabilities,omitempty"`
	// History says the module reads history frames; the host warns when an
	// instance of it declares no history.
	History bool `json:"history,omitempty"`
}

// OptionSpec is the schema of one option.
type OptionSpec struct {
	Type        string   `json:"type"`
	Default     any      `json:"default,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Description string   `json:"description,omitempty"`
	Min         *float64 `json:"min,omitempty"`  // number only
	Max         *float64 `json:"max,omitempty"`  // number only
	Enum        []string `json:"enum,omitempty"` // string only
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ParseManifest decodes and validates a manifest. Unknown keys are ignored so
// a newer module's manifest stays readable.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("abi: manifest: %w", err)
	}
	for name, o := range m.Options {
		if n, ok := o.Default.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				return nil, fmt.Errorf("abi: manifest: option %q default: %w", name, err)
			}
			o.Default = f
		}
		if d, ok := o.Default.([]any); ok && o.Type == TypeStrings {
			o.Default = toStrings(d)
		}
		m.Options[name] = o
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks names, the ABI version, option schemas and capabilities.
func (m *Manifest) Validate() error {
	var errs []error
	if !namePattern.MatchString(m.Name) {
		errs = append(errs, fmt.Errorf("name %q must match %s", m.Name, namePattern))
	}
	if m.Version == "" {
		errs = append(errs, errors.New("version is empty"))
	}
	if _, _, err := ParseABIVersion(m.ABI); err != nil {
		errs = append(errs, err)
	}
	for _, name := range m.optionNames() {
		o := m.Options[name]
		if !namePattern.MatchString(name) {
			errs = append(errs, fmt.Errorf("option %q: name must match %s", name, namePattern))
		}
		switch o.Type {
		case TypeNumber, TypeString, TypeBool, TypeStrings:
		default:
			errs = append(errs, fmt.Errorf("option %q: unknown type %q (number, string, bool, []string)", name, o.Type))
			continue
		}
		if (o.Min != nil || o.Max != nil) && o.Type != TypeNumber {
			errs = append(errs, fmt.Errorf("option %q: min/max only apply to numbers", name))
		}
		if len(o.Enum) > 0 && o.Type != TypeString {
			errs = append(errs, fmt.Errorf("option %q: enum only applies to strings", name))
		}
		if o.Default != nil {
			if _, err := o.check(name, o.Default); err != nil {
				errs = append(errs, fmt.Errorf("default: %w", err))
			}
		}
	}
	for _, c := range m.Capabilities {
		if c != CapabilityQuery && c != CapabilityClock {
			errs = append(errs, fmt.Errorf("unknown capability %q (query, clock)", c))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("abi: manifest %q: %w", m.Name, err)
	}
	return nil
}

// ParseABIVersion splits "1.0" and checks the major version is one this
// host implements.
func ParseABIVersion(s string) (major, minor int, err error) {
	a, b, ok := strings.Cut(s, ".")
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return 0, 0, fmt.Errorf("abi %q is not MAJOR.MINOR", s)
	}
	if major != VersionMajor {
		return major, minor, fmt.Errorf("abi %q: this host implements ABI %d.x", s, VersionMajor)
	}
	return major, minor, nil
}

func (m *Manifest) optionNames() []string {
	names := make([]string, 0, len(m.Options))
	for n := range m.Options {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckOptions validates an instance's options (as decoded from TOML) against
// the schema. Every problem is reported, each naming its option.
func (m *Manifest) CheckOptions(opts map[string]any) error {
	_, err := m.ResolveOptions(opts)
	return err
}

// ResolveOptions checks opts and returns them with defaults filled in and
// values normalised (numbers as float64, lists as []string): the object the
// host serialises as JSON for tidemark_init.
func (m *Manifest) ResolveOptions(opts map[string]any) (map[string]any, error) {
	var errs []error
	out := make(map[string]any, len(m.Options))
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		spec, ok := m.Options[k]
		if !ok {
			errs = append(errs, fmt.Errorf("option %q is not defined by module %q (it has: %s)", k, m.Name, strings.Join(m.optionNames(), ", ")))
			continue
		}
		v, err := spec.check(k, opts[k])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[k] = v
	}
	for _, k := range m.optionNames() {
		spec := m.Options[k]
		if _, ok := opts[k]; ok {
			continue
		}
		switch {
		case spec.Required:
			errs = append(errs, fmt.Errorf("option %q is required by module %q", k, m.Name))
		case spec.Default != nil:
			out[k] = spec.Default
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// OptionsJSON is ResolveOptions encoded as the JSON tidemark_init reads.
func (m *Manifest) OptionsJSON(opts map[string]any) ([]byte, error) {
	r, err := m.ResolveOptions(opts)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("abi: options of %q: %w", m.Name, err)
	}
	if len(b) > MaxOptionsBytes {
		return nil, fmt.Errorf("abi: options of %q are %d bytes, over %d", m.Name, len(b), MaxOptionsBytes)
	}
	return b, nil
}

func (o OptionSpec) check(name string, v any) (any, error) {
	switch o.Type {
	case TypeNumber:
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("option %q: want a number, got %s", name, describe(v))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("option %q: want a finite number, got %v", name, f)
		}
		if o.Min != nil && f < *o.Min {
			return nil, fmt.Errorf("option %q: %v is below the minimum %v", name, f, *o.Min)
		}
		if o.Max != nil && f > *o.Max {
			return nil, fmt.Errorf("option %q: %v is above the maximum %v", name, f, *o.Max)
		}
		return f, nil
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("option %q: want a string, got %s", name, describe(v))
		}
		if len(o.Enum) > 0 && !slices.Contains(o.Enum, s) {
			return nil, fmt.Errorf("option %q: %q is not one of %s", name, s, strings.Join(o.Enum, ", "))
		}
		return s, nil
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("option %q: want true or false, got %s", name, describe(v))
		}
		return b, nil
	case TypeStrings:
		switch l := v.(type) {
		case []string:
			return slices.Clone(l), nil
		case []any:
			out := toStrings(l)
			if out == nil && len(l) > 0 {
				return nil, fmt.Errorf("option %q: want a list of strings, got %s", name, describe(v))
			}
			return out, nil
		}
		return nil, fmt.Errorf("option %q: want a list of strings, got %s", name, describe(v))
	}
	return nil, fmt.Errorf("option %q: unknown type %q", name, o.Type)
}

// toStrings converts a list of strings; nil if any element is not one.
func toStrings(l []any) []string {
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("bool %v", x)
	}
	if _, ok := toFloat(v); ok {
		return fmt.Sprintf("number %v", v)
	}
	return fmt.Sprintf("%T %v", v, v)
}
