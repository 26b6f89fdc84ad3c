package config

import (
	"errors"
	"fmt"
	"github.com/tidemark/tidemark/internal/editdist"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment override:
// TIDEMARK_OUTPUT_INFLUXDB_TOKEN sets output.influxdb.token and
// TIDEMARK_PIPELINE_0_WINDOW sets pipeline[0].window. List values are
// comma-separated.
const EnvPrefix = "TIDEMARK_"

// Load reads path, applies environment overrides from environ (os.Environ()
// when nil), decodes strictly and validates. The returned error is an
// Errors listing every problem found.
func Load(path string, environ []string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, src, environ)
}

// Parse is Load on bytes already read; path is only used in messages.
func Parse(path string, src []byte, environ []string) (*Config, error) {
	if environ == nil {
		environ = os.Environ()
	}
	cfg := &Config{Path: path, lines: locateKeys(src)}
	k := koanf.New(".")
	if err := k.Load(rawbytes.Provider(src), toml.Parser()); err != nil {
		return nil, Errors{{Path: "", Line: tomlErrLine(err), Msg: "invalid TOML: " + err.Error(), File: path}}
	}
	// Flat keys come from koanf's env provider; names are matched against
	// the known key paths rather than split on "_", since keys contain
	// underscores themselves (dead_letter_topic).
	flat := map[string][]string{}
	lists := map[string]bool{}
	collectPaths(reflect.TypeOf(Config{}), nil, flat, lists)
	envp := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, val string) (string, any) {
			p, ok := flat[strings.ToLower(strings.TrimPrefix(name, EnvPrefix))]
			if !ok {
				// Variables that merely share the prefix (the Makefile's
				// TIDEMARK_INFLUXD) and array-of-table keys, handled below.
				return "", nil
			}
			key := strings.Join(p, ".")
			return key, envValue(val, lists[key])
		},
	})
	if err := k.Load(envp, nil); err != nil {
		return nil, fmt.Errorf("config: environment: %w", err)
	}
	raw := k.Raw()
	var errs Errors
	errs = append(errs, unknownEnv(environ, flat)...)
	errs = append(errs, applyArrayEnv(raw, environ)...)
	errs = append(errs, unknownKeys(raw, reflect.TypeOf(Config{}), "")...)
	var dec mapstructure.Metadata
	dc := &mapstructure.DecoderConfig{
		TagName:          "koanf",
		WeaklyTypedInput: true,
		Result:           cfg,
		Metadata:         &dec,
	}
	d, err := mapstructure.NewDecoder(dc)
	if err != nil {
		return nil, err
	}
	if err := d.Decode(raw); err != nil {
		errs = append(errs, decodeErrors(err)...)
	}
	cfg.applyDefaults()
	errs = append(errs, cfg.validate()...)
	if len(errs) > 0 {
		return nil, cfg.finish(errs)
	}
	return cfg, nil
}

// Error is one problem, located by key path and line.
type Error struct {
	File string
	Line int
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Errorf builds an error for a key path, with the key's line when known.
func (c *Config) Errorf(path, format string, args ...any) *Error {
	return &Error{File: c.Path, Line: c.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Line is the line of a key path in the file, or of its nearest parent
// that is there (0 when none is, e.g. a key set from the environment).
func (c *Config) Line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := c.lines[p]; ok {
			return l
		}
	}
	return 0
}

// Finish locates and orders errors built elsewhere (e.g. by the pipeline
// compiler) so that they read like the ones from Load.
func (c *Config) finish(errs Errors) Errors {
	for _, e := range errs {
		e.File = c.Path
		if e.Line == 0 {
			e.Line = c.Line(e.Path)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

// Finish is finish for callers outside the package.
func (c *Config) Finish(errs Errors) error {
	if len(errs) == 0 {
		return nil
	}
	return c.finish(errs)
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

var tomlLineRe = regexp.MustCompile(`\((\d+), ?\d+\)|line (\d+)`)

func tomlErrLine(err error) int {
	m := tomlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	for _, s := range m[1:] {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return 0
}

// unknownKeys walks the raw map against the struct's koanf tags.
func unknownKeys(raw map[string]any, t reflect.Type, prefix string) Errors {
	var errs Errors
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = f.Type
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := raw[k]
		path := joinPath(prefix, k)
		ft, ok := fields[k]
		if !ok {
			names := make([]string, 0, len(fields))
			for n := range fields {
				names = append(names, n)
			}
			msg := fmt.Sprintf("unknown key %q", k)
			if s := Suggest(k, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, &Error{Path: path, Msg: msg})
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			if m, ok := v.(map[string]any); ok {
				errs = append(errs, unknownKeys(m, ft, path)...)
			} else {
				errs = append(errs, &Error{Path: path, Msg: "must be a table"})
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			list, ok := v.([]any)
			if !ok {
				if m, isMap := v.(map[string]any); isMap {
					list = []any{m}
				} else {
					errs = append(errs, &Error{Path: path, Msg: fmt.Sprintf("must be an array of tables ([[%s]])", k)})
					continue
				}
			}
			for i, item := range list {
				if m, ok := item.(map[string]any); ok {
					errs = append(errs, unknownKeys(m, ft.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
				}
			}
		}
	}
	return errs
}

func joinPath(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

var arrayEnvRe = regexp.MustCompile(`^(pipeline|analyzer)_(\d+)_(.+)$`)

// NotConfigEnv are TIDEMARK_* variables that are not config keys: the
// Makefile's path to influxd and the browser tests' URL.
var NotConfigEnv = map[string]bool{"TIDEMARK_INFLUXD": true, "TIDEMARK_URL": true}

// unknownEnv reports TIDEMARK_* variables that set no key: a typo in a
// secret's name must not silently leave the secret unset.
func unknownEnv(environ []string, flat map[string][]string) Errors {
	var errs Errors
	names := make([]string, 0, len(flat))
	for k := range flat {
		names = append(names, EnvPrefix+strings.ToUpper(k))
	}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || NotConfigEnv[name] {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
		if _, ok := flat[key]; ok || arrayEnvRe.MatchString(key) {
			continue
		}
		msg := fmt.Sprintf("environment variable %s sets no config key", name)
		if sg := Suggest(name, names); sg != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", sg)
		}
		errs = append(errs, &Error{Msg: msg})
	}
	return errs
}

// applyArrayEnv overrides keys of [[pipeline]] and [[analyzer]] blocks
// (TIDEMARK_PIPELINE_0_WINDOW), which koanf's env provider cannot address.
func applyArrayEnv(raw map[string]any, environ []string) Errors {
	var errs Errors
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
		if m := arrayEnvRe.FindStringSubmatch(key); m != nil {
			idx, _ := strconv.Atoi(m[2])
			list, _ := raw[m[1]].([]any)
			if idx >= len(list) {
				errs = append(errs, &Error{Path: fmt.Sprintf("%s[%d]", m[1], idx), Msg: fmt.Sprintf("environment variable %s: no such %s block", name, m[1])})
				continue
			}
			item, _ := list[idx].(map[string]any)
			if item == nil {
				continue
			}
			item[m[3]] = envValue(val, arrayListKeys[m[1]+"."+m[3]])
		}
	}
	return errs
}

// envValue splits a comma-separated value for list keys only: a comma in
// a string key (geoip.asn = "a.csv,b.csv") stays part of the string.
func envValue(v string, list bool) any {
	if list {
		parts := strings.Split(v, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = strings.TrimSpace(p)
		}
		return out
	}
	return v
}

// arrayListKeys are the list-valued keys of [[pipeline]] and [[analyzer]].
var arrayListKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range []struct {
		name string
		t    reflect.Type
	}{{"pipeline", reflect.TypeOf(Pipeline{})}, {"analyzer", reflect.TypeOf(Analyzer{})}} {
		for i := 0; i < c.t.NumField(); i++ {
			f := c.t.Field(i)
			if f.Type.Kind() == reflect.Slice {
				m[c.name+"."+f.Tag.Get("koanf")] = true
			}
		}
	}
	return m
}()

func collectPaths(t reflect.Type, prefix []string, out map[string][]string, lists map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" || tag == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		p := append(append([]string(nil), prefix...), tag)
		if ft.Kind() == reflect.Struct {
			collectPaths(ft, p, out, lists)
			continue
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			continue
		}
		out[strings.Join(p, "_")] = p
		if ft.Kind() == reflect.Slice {
			lists[strings.Join(p, ".")] = true
		}
	}
}

// Suggest returns the candidate closest to s when it is close enough to be
// a likely typo, else "".
func Suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editdist.Distance(s, c); d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) > 8 {
		limit = 3
	}
	if bestD <= limit && bestD < len(s) {
		return best
	}
	return ""
}

// decodeErrors flattens mapstructure's joined errors into located ones.
func decodeErrors(err error) Errors {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out Errors
		for _, e := range j.Unwrap() {
			out = append(out, decodeErrors(e)...)
		}
		return out
	}
	var de *mapstructure.DecodeError
	if errors.As(err, &de) {
		msg := de.Error()
		if u := de.Unwrap(); u != nil {
			msg = u.Error()
		}
		return Errors{{Path: de.Name(), Msg: msg}}
	}
	return Errors{{Msg: err.Error()}}
}
