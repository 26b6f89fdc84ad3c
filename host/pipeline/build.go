package pipeline

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/decode"
	"github.com/tidemark/tidemark/host/record"
	"github.com/tidemark/tidemark/host/transform"
	"github.com/tidemark/tidemark/host/window"
)

// Plan is a compiled config: the decoder and, per pipeline, its program
// and window settings. Building it touches no network, so `tidemark check`
// and `tidemark run` share it.
type Plan struct {
	Decoder decode.Decoder
	Pipes   []PipeSpec
}

// PipeSpec is one compiled [[pipeline]].
type PipeSpec struct {
	Name    string
	Records string // sflowtool: flow, counter or all
	Schema  *record.Schema
	Program *transform.Program
	Window  window.Config
	// LateDeadLetter routes late records to the dead-letter topic.
	LateDeadLetter bool
}

// Compile builds the plan. geo may be nil; enrichment functions then fail
// with an error naming the function and the geoip key to set. All errors
// are returned together as config.Errors, located by key path.
func Compile(cfg *config.Config, geo transform.GeoIP) (*Plan, error) {
	var errs config.Errors
	add := func(path string, err error) {
		errs = append(errs, cfg.Errorf(path, "%s", err.Error()))
	}
	dcfg := decode.Config{
		Format:     cfg.Input.Format,
		TimeField:  cfg.Input.TimeField,
		TimeFormat: cfg.Input.TimeFormat,
	}
	if cfg.Input.Delimiter != "" {
		dcfg.Delimiter = cfg.Input.Delimiter[0]
	}
	for _, c := range cfg.Input.Columns {
		name, typ, err := config.ParseColumn(c)
		if err != nil {
			continue // reported by config validation
		}
		dcfg.Columns = append(dcfg.Columns, decode.Column{Name: name, Type: typ})
	}
	dec, err := decode.New(dcfg)
	if err != nil {
		add("input", err)
		return nil, cfg.Finish(errs)
	}
	plan := &Plan{Decoder: dec}
	env := transform.Env{}
	if geo != nil {
		env.GeoIP = geo
	}
	for i, p := range cfg.Pipeline {
		at := func(k string) string { return fmt.Sprintf("pipeline[%d].%s", i, k) }
		schema := dec.Schema().Clone()
		prog, err := transform.Compile(schema, p.Where, p.Fields, env)
		if err != nil {
			for _, ce := range compileErrors(err) {
				path := at("where")
				if ce.Expr >= 0 {
					path = fmt.Sprintf("pipeline[%d].fields[%d]", i, ce.Expr)
				}
				errs = append(errs, cfg.Errorf(path, "offset %d: %s", ce.Pos, ce.Msg))
			}
			continue
		}
		lim := cfg.Limits(i)
		wc := window.Config{
			Size:          lim.Window,
			Lateness:      lim.Lateness,
			MaxKeys:       p.MaxKeys,
			DistinctExact: p.DistinctExact,
		}
		for j, g := range p.GroupBy {
			slot, kind, ok := schema.Lookup(g)
			if !ok {
				msg := fmt.Sprintf("unknown field %q", g)
				if s := config.Suggest(g, schema.Names()); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				errs = append(errs, cfg.Errorf(fmt.Sprintf("pipeline[%d].group_by[%d]", i, j), "%s", msg))
				continue
			}
			wc.GroupBy = append(wc.GroupBy, slot)
			wc.GroupKinds = append(wc.GroupKinds, kind)
			wc.GroupNames = append(wc.GroupNames, g)
		}
		seen := map[string]int{}
		for j, a := range p.Aggregate {
			path := fmt.Sprintf("pipeline[%d].aggregate[%d]", i, j)
			spec, err := parseAggregate(a, schema)
			if err != nil {
				errs = append(errs, cfg.Errorf(path, "%s", err.Error()))
				continue
			}
			if k, dup := seen[spec.Name]; dup {
				errs = append(errs, cfg.Errorf(path, "output field %q is also produced by aggregate[%d]; rename one with `as`", spec.Name, k))
				continue
			}
			for _, g := range wc.GroupNames {
				if g == spec.Name {
					errs = append(errs, cfg.Errorf(path, "output field %q is also a group_by tag; rename it with `as`", spec.Name))
				}
			}
			seen[spec.Name] = j
			wc.Aggs = append(wc.Aggs, spec)
		}
		plan.Pipes = append(plan.Pipes, PipeSpec{
			Name:           p.Name,
			Records:        p.Records,
			Schema:         schema,
			Program:        prog,
			Window:         wc,
			LateDeadLetter: p.Late == "dead_letter",
		})
	}
	if len(errs) > 0 {
		return nil, cfg.Finish(errs)
	}
	return plan, nil
}

func compileErrors(err error) []*transform.CompileError {
	var out []*transform.CompileError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ce *transform.CompileError
		if errors.As(e, &ce) {
			out = append(out, ce)
			return
		}
		out = append(out, &transform.CompileError{Expr: -1, Msg: e.Error()})
	}
	walk(err)
	return out
}

var aggRe = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*([^,)]*?)\s*(?:,\s*([^)]*?)\s*)?\)\s*(?:as\s+([A-Za-z_][A-Za-z0-9_]*))?\s*$`)

// parseAggregate reads "sum(bytes)", "count()", "percentile(x, 0.95)",
// "count_distinct(src_ip) as sources".
func parseAggregate(s string, schema *record.Schema) (window.AggSpec, error) {
	m := aggRe.FindStringSubmatch(s)
	if m == nil {
		return window.AggSpec{}, fmt.Errorf("want fn(field) [as name], e.g. \"sum(bytes)\", got %q", s)
	}
	fn, field, arg, as := m[1], m[2], m[3], m[4]
	if err := window.ValidateAgg(fn); err != nil {
		return window.AggSpec{}, err
	}
	spec := window.AggSpec{Func: fn, Field: -1}
	switch fn {
	case "count":
		if field != "" {
			return spec, fmt.Errorf("count() takes no field (it counts records), got %q", field)
		}
	default:
		if field == "" {
			return spec, fmt.Errorf("%s() needs a field", fn)
		}
		slot, kind, ok := schema.Lookup(field)
		if !ok {
			msg := fmt.Sprintf("%s(): unknown field %q", fn, field)
			if sg := config.Suggest(field, schema.Names()); sg != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sg)
			}
			return spec, errors.New(msg)
		}
		if kind != record.Number && fn != "count_distinct" {
			return spec, fmt.Errorf("%s(%s): %s is a %s; %s needs a number (count_distinct works on strings)", fn, field, field, kind, fn)
		}
		spec.Field, spec.Kind = slot, kind
	}
	switch {
	case fn == "percentile":
		q, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
		if arg == "" || err != nil || q <= 0 || q > 1 {
			return spec, fmt.Errorf("percentile(%s, q): q must be a number in (0, 1], like 0.95, got %q", field, arg)
		}
		spec.Q = q
	case arg != "":
		return spec, fmt.Errorf("%s() takes one argument, got %q", fn, s)
	}
	spec.Name = as
	if spec.Name == "" {
		spec.Name = window.DefaultName(fn, field, spec.Q)
	}
	return spec, nil
}
