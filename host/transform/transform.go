// Package transform is Tidemark's expression language: a `where` filter and
// derived fields (`bps = bytes * 8 / 10`, `src_country = country(src_ip)`),
// type-checked and compiled once per pipeline config into a fast evaluator.
//
// # Evaluation strategy
//
// The typed AST is compiled into a tree of typed Go closures, one per node:
// func(*record.Row) (float64, *record.Error), (…) ([]byte, *record.Error) and
// (…) (bool, *record.Error). Constant sub-expressions are folded at compile
// time, and the hot shapes (field ∘ constant, field ∘ field) get dedicated
// closures that read the row directly instead of calling a child.
//
// Why closures and not a VM, measured (BenchmarkNumeric: a where clause
// with two comparisons and three arithmetic fields, ns of CPU per record):
//
//	specialised closures (this package)   18 ns
//	stack VM, switch per instruction       29 ns
//	generic closures, one per AST node     42 ns
//	tree of interface nodes (AST walk)     63 ns
//
// A VM beats naive closures because it has no call per node, but closures
// whose shape is specialised at compile time (field∘constant read the row
// directly, constants folded, x % 1024 as an integer remainder) do the
// least work per record of all, and they extend to strings and function
// calls without a value representation shared by every type. The realistic
// program in BenchmarkRun (where with an in-list, subnet, lower, country,
// a product, port_name) costs about 85 ns of CPU per record, most of it in
// IP parsing and formatting.
//
// Why the error comes back as a second result: a shared error slot in the
// Program would make Run unsafe to call from several goroutines, and a
// per-call frame passed by pointer escapes to the heap (the callees are
// indirect) and costs an allocation per record. A second result travels in
// a register, costs one predictable branch per node and allocates nothing.
// Per-record errors are rare (division by zero, a bad IP, num() on text):
// the fixed ones (div_zero) are built once at compile time; those that quote
// the offending value allocate, on the bad-record path only.
//
// Run is safe for concurrent use on different rows.
package transform

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/tidemark/tidemark/host/record"
)

// GeoIP is implemented by host/geoip; it may be nil in Env.
type GeoIP interface {
	Country(ip netip.Addr) (string, bool)
	City(ip netip.Addr) (string, bool)
	ASN(ip netip.Addr) (uint32, bool)
	ASOrg(ip netip.Addr) (string, bool)
	Has(function string) bool // "country","city","asn","as_org"
}

// Env holds what expressions may call out to.
type Env struct {
	GeoIP GeoIP
}

type (
	numFn  func(*record.Row) (float64, *record.Error)
	strFn  func(*record.Row) ([]byte, *record.Error)
	boolFn func(*record.Row) (bool, *record.Error)
)

// Program is a compiled where clause plus derived fields.
type Program struct {
	where  boolFn // nil: keep every record
	fields []compiledField
	width  int
	funcs  []string
	misses atomic.Uint64
}

type compiledField struct {
	slot int
	kind record.Kind
	num  numFn
	str  strFn
}

// Compile type-checks and compiles. It appends derived fields to schema
// (the caller passes its own clone), in order. An empty where keeps every
// record. On failure it returns an ErrorList holding every error found, at
// most one per expression.
func Compile(schema *record.Schema, where string, fields []string, env Env) (*Program, error) {
	if schema == nil {
		return nil, errors.New("transform: nil schema")
	}
	p := &Program{}
	c := &compiler{
		schema:   schema,
		env:      env,
		prog:     p,
		used:     map[string]bool{},
		poisoned: map[string]bool{},
	}
	var errs ErrorList

	if strings.TrimSpace(where) != "" {
		c.idx, c.ctx = -1, "where"
		c.later = map[string]int{}
		for i, f := range fields {
			if name, _, _, err := parseField(f); err == nil {
				if _, _, exists := schema.Lookup(name); !exists {
					if _, dup := c.later[name]; !dup {
						c.later[name] = i
					}
				}
			}
		}
		if fn, err := c.compileWhere(where); err != nil {
			errs = append(errs, err)
		} else {
			p.where = fn
		}
		c.later = nil
	}

	for i, src := range fields {
		c.idx, c.ctx = i, fmt.Sprintf("fields[%d]", i)
		f, err := c.compileField(src)
		if err != nil {
			if err != errPoisoned {
				errs = append(errs, err)
			}
			continue
		}
		p.fields = append(p.fields, f)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	p.width = schema.Len()
	for name := range c.used {
		p.funcs = append(p.funcs, name)
	}
	slices.Sort(p.funcs)
	return p, nil
}

func (c *compiler) compileWhere(src string) (boolFn, *CompileError) {
	n, err := parseExpr(src)
	if err != nil {
		err.Expr = c.idx
		return nil, err
	}
	v, err := c.compile(n)
	if err != nil {
		return nil, err
	}
	if v.kind != record.Bool {
		return nil, c.errf(n.position(), "where clause must be a boolean (a comparison such as x == 1), got %s", v.kind)
	}
	if v.konst && v.cbool {
		return nil, nil
	}
	return v.bln, nil
}

func (c *compiler) compileField(src string) (compiledField, *CompileError) {
	name, namePos, n, err := parseField(src)
	if err != nil {
		err.Expr = c.idx
		if name != "" {
			c.poisoned[name] = true
		}
		return compiledField{}, err
	}
	c.ctx = fmt.Sprintf("fields[%d] (%s)", c.idx, name)
	v, err := c.compile(n)
	if err != nil {
		c.poisoned[name] = true
		return compiledField{}, err
	}
	if v.kind == record.Bool {
		// Rows have no bool slots; a flag becomes 1/0 so it can be summed.
		v = boolToNum(v)
	}
	slot, aerr := c.schema.Add(name, v.kind)
	if aerr != nil {
		c.poisoned[name] = true
		return compiledField{}, c.errf(namePos, "%v", aerr)
	}
	delete(c.poisoned, name)
	return compiledField{slot: slot, kind: v.kind, num: v.num, str: v.str}, nil
}

// Run evaluates the where clause then the fields, in order, on row (sized
// by the caller to the schema's Len; a shorter row is grown). keep=false
// means filtered out or failed. A per-record failure returns a
// *record.Error with a fixed Reason: "div_zero", "ip", "type".
func (p *Program) Run(row *record.Row) (keep bool, err *record.Error) {
	if len(row.Num) < p.width || len(row.Str) < p.width {
		row.Grow(p.width)
	}
	if p.where != nil {
		ok, err := p.where(row)
		if err != nil || !ok {
			return false, err
		}
	}
	for i := range p.fields {
		f := &p.fields[i]
		if f.kind == record.Number {
			v, err := f.num(row)
			if err != nil {
				return false, err
			}
			row.Num[f.slot] = v
		} else {
			s, err := f.str(row)
			if err != nil {
				return false, err
			}
			row.Str[f.slot] = s
		}
	}
	return true, nil
}

// Functions returns the functions the program calls, sorted.
func (p *Program) Functions() []string { return slices.Clone(p.funcs) }

// GeoMisses counts enrichment lookups that found nothing (an unknown or
// unparseable IP gave "" or 0).
func (p *Program) GeoMisses() uint64 { return p.misses.Load() }
