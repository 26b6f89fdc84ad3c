package window

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/record"
)

// TestScripts runs testdata/*.test; the language is described at the top
// of testdata/basics.test.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f) })
	}
}

type scriptInstance struct {
	tw      *Tumbling
	late    int
	pending []pendingPoint
}

type pendingPoint struct {
	start int64
	p     Point
}

// reporter is the part of testing.T the runner uses, so that the runner's
// own test can check that it fails when it should.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

type script struct {
	t      reporter
	where  string // file:line of the directive being run
	schema *record.Schema
	cfg    Config
	inst   map[string]*scriptInstance
	cur    string
	row    *record.Row
}

func runScript(t reporter, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer f.Close()
	s := &script{t: t, inst: map[string]*scriptInstance{}, cur: "a"}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		s.where = fmt.Sprintf("%s:%d", path, n)
		s.run(words)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%v", err)
	}
	s.where = path + ": end"
	for name := range s.inst {
		s.checkNoPending(name)
	}
}

func (s *script) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s: %s", s.where, fmt.Sprintf(format, args...))
}

func (s *script) errorf(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf("%s: %s", s.where, fmt.Sprintf(format, args...))
}

func (s *script) run(w []string) {
	switch w[0] {
	case "schema":
		var fields []record.Field
		for _, def := range w[1:] {
			name, kind, _ := strings.Cut(def, ":")
			switch kind {
			case "str":
				fields = append(fields, record.Field{Name: name, Kind: record.String})
			case "num":
				fields = append(fields, record.Field{Name: name, Kind: record.Number})
			default:
				s.fatalf("schema %s: kind must be str or num", def)
			}
		}
		var err error
		if s.schema, err = record.NewSchema(fields...); err != nil {
			s.fatalf("%v", err)
		}
		s.row = record.NewRow(s.schema)
	case "window":
		s.window(w[1:])
	case "use":
		s.checkNoPending(s.cur)
		s.cur = w[1]
	case "add":
		s.checkNoPending(s.cur)
		s.add(w[1:])
	case "repeat":
		s.checkNoPending(s.cur)
		n, err := strconv.Atoi(w[1])
		if err != nil || len(w) < 3 || w[2] != "add" {
			s.fatalf("usage: repeat N add ...")
		}
		for i := range n {
			args := make([]string, len(w)-3)
			for j, a := range w[3:] {
				args[j] = strings.ReplaceAll(a, "{i}", strconv.Itoa(i))
			}
			s.add(args)
		}
	case "advance":
		s.checkNoPending(s.cur)
		s.instance(s.cur).tw.AdvanceTo(s.duration(w[1]))
	case "merge":
		s.merge(w[1])
	case "expect":
		s.expect(w[1:])
	default:
		s.fatalf("unknown directive %q", w[0])
	}
}

func (s *script) window(args []string) {
	if s.schema == nil {
		s.fatalf("window before schema")
	}
	cfg := Config{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "size":
			cfg.Size = time.Duration(s.duration(v))
		case "lateness":
			cfg.Lateness = time.Duration(s.duration(v))
		case "max_keys":
			cfg.MaxKeys = s.int(v)
		case "distinct_exact":
			cfg.DistinctExact = s.int(v)
		case "group_by":
			for _, name := range strings.Split(v, ",") {
				slot, kind, ok := s.schema.Lookup(name)
				if !ok {
					s.fatalf("group_by: no field %q", name)
				}
				cfg.GroupBy = append(cfg.GroupBy, slot)
				cfg.GroupNames = append(cfg.GroupNames, name)
				cfg.GroupKinds = append(cfg.GroupKinds, kind)
			}
		case "aggs":
			for _, call := range splitTop(v) {
				cfg.Aggs = append(cfg.Aggs, s.agg(call))
			}
		default:
			s.fatalf("window: unknown setting %q", k)
		}
	}
	s.cfg = cfg
	s.inst = map[string]*scriptInstance{}
	s.cur = "a"
	s.instance("a")
}

// splitTop splits at commas outside parentheses.
func splitTop(v string) []string {
	var out []string
	depth, from := 0, 0
	for i, c := range v {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, v[from:i])
				from = i + 1
			}
		}
	}
	return append(out, v[from:])
}

func (s *script) agg(call string) AggSpec {
	fn, rest, ok := strings.Cut(call, "(")
	if !ok || !strings.HasSuffix(rest, ")") {
		s.fatalf("aggregate %q: want fn(args)", call)
	}
	args := strings.Split(strings.TrimSuffix(rest, ")"), ",")
	spec := AggSpec{Func: fn, Field: -1}
	field := ""
	if args[0] != "" {
		field = args[0]
		slot, kind, ok := s.schema.Lookup(field)
		if !ok {
			s.fatalf("aggregate %q: no field %q", call, field)
		}
		spec.Field, spec.Kind = slot, kind
	}
	if fn == "percentile" {
		if len(args) != 2 {
			s.fatalf("percentile(field,q)")
		}
		q, err := strconv.ParseFloat(args[1], 64)
		if err != nil {
			s.fatalf("percentile quantile: %v", err)
		}
		spec.Q = q
	}
	spec.Name = DefaultName(fn, field, spec.Q)
	return spec
}

func (s *script) instance(name string) *scriptInstance {
	in, ok := s.inst[name]
	if !ok {
		tw, err := NewTumbling(s.cfg)
		if err != nil {
			s.fatalf("NewTumbling: %v", err)
		}
		in = &scriptInstance{tw: tw}
		s.inst[name] = in
	}
	return in
}

func (s *script) add(args []string) {
	in := s.instance(s.cur)
	s.row.Reset()
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			s.fatalf("add: want name=value, got %q", a)
		}
		if k == "t" {
			s.row.Time = s.duration(v)
			continue
		}
		slot, kind, ok := s.schema.Lookup(k)
		if !ok {
			s.fatalf("add: no field %q", k)
		}
		if kind == record.String {
			s.row.Str[slot] = []byte(v)
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			s.fatalf("add %s: %v", k, err)
		}
		s.row.Num[slot] = f
	}
	if _, late := in.tw.Add(s.row); late {
		in.late++
	}
}

func (s *script) merge(other string) {
	a, b := s.instance(s.cur), s.instance(other)
	s.checkNoPending(other)
	ra, rb := a.tw.Ready(), b.tw.Ready()
	for _, r := range rb {
		i := slices.IndexFunc(ra, func(x *Result) bool { return x.Start == r.Start })
		if i < 0 {
			ra = append(ra, r)
			continue
		}
		if err := ra[i].Merge(r); err != nil {
			s.fatalf("merge: %v", err)
		}
	}
	for _, r := range ra {
		for _, p := range r.Points {
			a.pending = append(a.pending, pendingPoint{r.Start, p})
		}
	}
}

func (s *script) collect(in *scriptInstance) {
	for _, r := range in.tw.Ready() {
		if len(r.Points) == 0 {
			s.errorf("window %v has no points", time.Duration(r.Start))
		}
		if r.End-r.Start != int64(s.cfg.Size) {
			s.errorf("window %v: end-start = %v", time.Duration(r.Start), time.Duration(r.End-r.Start))
		}
		for _, p := range r.Points {
			in.pending = append(in.pending, pendingPoint{r.Start, p})
		}
	}
}

func (s *script) checkNoPending(name string) {
	in, ok := s.inst[name]
	if !ok {
		return
	}
	for _, pp := range in.pending {
		s.errorf("instance %s: unexpected point in window %v: %s", name, time.Duration(pp.start), s.format(pp.p))
	}
	in.pending = nil
}

func (s *script) format(p Point) string {
	var b strings.Builder
	for i, tag := range p.Tags {
		fmt.Fprintf(&b, "%s=%s ", s.cfg.GroupNames[i], tag)
	}
	for i, a := range s.cfg.Aggs {
		if p.Present[i] {
			fmt.Fprintf(&b, "%s=%v ", a.Name, p.Values[i])
		} else {
			fmt.Fprintf(&b, "%s=- ", a.Name)
		}
	}
	return strings.TrimSpace(b.String())
}

func (s *script) expect(w []string) {
	in := s.instance(s.cur)
	if len(w) == 0 {
		s.fatalf("expect what?")
	}
	switch w[0] {
	case "none":
		s.collect(in)
		s.checkNoPending(s.cur)
	case "window":
		s.collect(in)
		s.expectWindow(in, s.duration(w[1]), w[2:])
	case "late":
		if got := in.late; got != s.int(w[1]) {
			s.errorf("late = %d, want %s", got, w[1])
		}
	case "open":
		if got := in.tw.Open(); got != s.int(w[1]) {
			s.errorf("open = %d, want %s", got, w[1])
		}
	case "overflowed":
		if got := in.tw.Overflowed(); got != uint64(s.int(w[1])) {
			s.errorf("overflowed = %d, want %s", got, w[1])
		}
	case "watermark":
		if got := in.tw.Watermark(); got != s.duration(w[1]) {
			s.errorf("watermark = %v, want %s", time.Duration(got), w[1])
		}
	default:
		s.fatalf("unknown expectation %q", w[0])
	}
}

func (s *script) expectWindow(in *scriptInstance, start int64, args []string) {
	tags := make([]string, len(s.cfg.GroupNames))
	given := make([]bool, len(tags))
	type check struct{ agg, want string }
	var checks []check
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			s.fatalf("expect window: want name=value, got %q", a)
		}
		if i := slices.Index(s.cfg.GroupNames, k); i >= 0 {
			tags[i], given[i] = v, true
			continue
		}
		checks = append(checks, check{k, v})
	}
	for i, g := range given {
		if !g {
			s.fatalf("expect window: tag %s missing", s.cfg.GroupNames[i])
		}
	}
	i := slices.IndexFunc(in.pending, func(pp pendingPoint) bool {
		return pp.start == start && slices.Equal(pp.p.Tags, tags)
	})
	if i < 0 {
		var have []string
		for _, pp := range in.pending {
			have = append(have, fmt.Sprintf("[%v %s]", time.Duration(pp.start), s.format(pp.p)))
		}
		s.errorf("no point in window %v with tags %v; pending: %s", time.Duration(start), tags, strings.Join(have, " "))
		return
	}
	p := in.pending[i].p
	in.pending = slices.Delete(in.pending, i, i+1)
	for _, c := range checks {
		j := slices.IndexFunc(s.cfg.Aggs, func(a AggSpec) bool { return a.Name == c.agg })
		if j < 0 {
			s.fatalf("expect window: no aggregate %q", c.agg)
		}
		if msg := s.compare(p.Values[j], p.Present[j], c.want); msg != "" {
			s.errorf("window %v %v: %s = %s", time.Duration(start), tags, c.agg, msg)
		}
	}
}

// compare checks a value against "-" (absent), "N", "N~P%" (relative
// tolerance) or "N~D" (absolute tolerance); it returns "" when it matches.
func (s *script) compare(got float64, present bool, want string) string {
	if want == "-" {
		if present {
			return fmt.Sprintf("%v, want absent", got)
		}
		return ""
	}
	if !present {
		return "absent, want " + want
	}
	num, tol, hasTol := strings.Cut(want, "~")
	w, err := strconv.ParseFloat(num, 64)
	if err != nil {
		s.fatalf("bad value %q", want)
	}
	if !hasTol {
		if got == w || (math.IsNaN(got) && math.IsNaN(w)) {
			return ""
		}
		return fmt.Sprintf("%v, want %v", got, w)
	}
	bound := 0.0
	if p, ok := strings.CutSuffix(tol, "%"); ok {
		bound = s.float(p) / 100 * math.Abs(w)
	} else {
		bound = s.float(tol)
	}
	if math.Abs(got-w) > bound {
		return fmt.Sprintf("%v, want %v ± %v", got, w, bound)
	}
	return ""
}

func (s *script) duration(v string) int64 {
	d, err := time.ParseDuration(v)
	if err != nil {
		s.fatalf("bad duration %q: %v", v, err)
	}
	return int64(d)
}

func (s *script) int(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		s.fatalf("bad integer %q", v)
	}
	return n
}

func (s *script) float(v string) float64 {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		s.fatalf("bad number %q", v)
	}
	return f
}
