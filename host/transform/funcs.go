package transform

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/tidemark/tidemark/host/record"
)

type builtin struct {
	minArgs, maxArgs int  // maxArgs < 0: no upper bound
	impure           bool // never folded (enrichment: counts misses, data may reload)
	build            func(c *compiler, n *call, args []value) (value, *CompileError)
}

var builtins map[string]builtin

// builtinNames is the sorted list, for "did you mean" hints.
var builtinNames []string

// maxConcatArgs bounds concat so its argument buffer lives on the stack.
const maxConcatArgs = 16

func init() {
	builtins = map[string]builtin{
		"sum":       {2, -1, false, foldArith(tPlus)},
		"minus":     {2, 2, false, foldArith(tMinus)},
		"mult":      {2, -1, false, foldArith(tStar)},
		"div":       {2, 2, false, foldArith(tSlash)},
		"min":       {2, -1, false, buildMinMax(false)},
		"max":       {2, -1, false, buildMinMax(true)},
		"round":     {1, 1, false, buildMath},
		"floor":     {1, 1, false, buildMath},
		"ceil":      {1, 1, false, buildMath},
		"abs":       {1, 1, false, buildMath},
		"if":        {3, 3, false, buildIf},
		"lower":     {1, 1, false, buildCase},
		"upper":     {1, 1, false, buildCase},
		"concat":    {1, maxConcatArgs, false, buildConcat},
		"str":       {1, 1, false, buildStr},
		"num":       {1, 1, false, buildNum},
		"subnet":    {2, 3, false, buildSubnet},
		"port_name": {1, 1, false, buildPortName},
		"country":   {1, 1, true, buildGeo},
		"city":      {1, 1, true, buildGeo},
		"asn":       {1, 1, true, buildGeo},
		"as_org":    {1, 1, true, buildGeo},
	}
	for name := range builtins {
		builtinNames = append(builtinNames, name)
	}
	slices.Sort(builtinNames)
}

func (c *compiler) call(n *call) (value, *CompileError) {
	b, ok := builtins[n.name]
	if !ok {
		return value{}, c.errf(n.pos, "unknown function %q%s", n.name, didYouMean(n.name, builtinNames))
	}
	got := len(n.args)
	if got < b.minArgs || (b.maxArgs >= 0 && got > b.maxArgs) {
		var want string
		switch {
		case b.minArgs == b.maxArgs:
			want = plural(b.minArgs, "argument")
		case b.maxArgs < 0:
			want = "at least " + plural(b.minArgs, "argument")
		default:
			want = fmt.Sprintf("%d to %d arguments", b.minArgs, b.maxArgs)
		}
		return value{}, c.errf(n.pos, "%s() takes %s, got %d", n.name, want, got)
	}
	args := make([]value, got)
	for i, a := range n.args {
		v, err := c.compile(a)
		if err != nil {
			return v, err
		}
		args[i] = v
	}
	c.used[n.name] = true
	v, err := b.build(c, n, args)
	if err != nil || b.impure {
		return v, err
	}
	return c.fold(v, n.pos, args...)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// want checks the kind of argument i.
func (c *compiler) want(n *call, args []value, i int, kind record.Kind, hint string) *CompileError {
	if args[i].kind == kind {
		return nil
	}
	return c.errf(n.args[i].position(), "%s() argument %d must be a %s, got %s%s", n.name, i+1, kind, args[i].kind, hint)
}

func (c *compiler) wantAll(n *call, args []value, kind record.Kind, hint string) *CompileError {
	for i := range args {
		if err := c.want(n, args, i, kind, hint); err != nil {
			return err
		}
	}
	return nil
}

// sliceOut returns the bytes appended to r.Scratch since start, capped so
// that appending to the result can never overwrite later scratch data.
func sliceOut(r *record.Row, start int) []byte {
	return r.Scratch[start:len(r.Scratch):len(r.Scratch)]
}

func foldArith(op tokKind) func(c *compiler, n *call, args []value) (value, *CompileError) {
	return func(c *compiler, n *call, args []value) (value, *CompileError) {
		if err := c.wantAll(n, args, record.Number, ""); err != nil {
			return value{}, err
		}
		acc := args[0]
		for _, a := range args[1:] {
			v, err := c.arith(op, n.pos, acc, a)
			if err != nil {
				return v, err
			}
			if acc, err = c.fold(v, n.pos, acc, a); err != nil {
				return acc, err
			}
		}
		return acc, nil
	}
}

func buildMinMax(isMax bool) func(c *compiler, n *call, args []value) (value, *CompileError) {
	return func(c *compiler, n *call, args []value) (value, *CompileError) {
		if err := c.wantAll(n, args, record.Number, ""); err != nil {
			return value{}, err
		}
		acc := args[0]
		for _, a := range args[1:] {
			lf, rf := acc.num, a.num
			f := func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				if err != nil {
					return 0, err
				}
				y, err := rf(r)
				if (y > x) == isMax && y != x {
					x = y
				}
				return x, err
			}
			next, err := c.fold(numValue(f), n.pos, acc, a)
			if err != nil {
				return next, err
			}
			acc = next
		}
		return acc, nil
	}
}

func buildMath(c *compiler, n *call, args []value) (value, *CompileError) {
	if err := c.want(n, args, 0, record.Number, ""); err != nil {
		return value{}, err
	}
	g := args[0].num
	var f numFn
	switch n.name {
	case "round":
		f = func(r *record.Row) (float64, *record.Error) {
			x, err := g(r)
			return math.Round(x), err
		}
	case "floor":
		f = func(r *record.Row) (float64, *record.Error) {
			x, err := g(r)
			return math.Floor(x), err
		}
	case "ceil":
		f = func(r *record.Row) (float64, *record.Error) {
			x, err := g(r)
			return math.Ceil(x), err
		}
	default: // abs
		f = func(r *record.Row) (float64, *record.Error) {
			x, err := g(r)
			return math.Abs(x), err
		}
	}
	return numValue(f), nil
}

func buildIf(c *compiler, n *call, args []value) (value, *CompileError) {
	if err := c.want(n, args, 0, record.Bool, ""); err != nil {
		return value{}, err
	}
	a, b := args[1], args[2]
	if a.kind != b.kind {
		return value{}, c.errf(n.args[2].position(), "if() branches must have the same type, got %s and %s", a.kind, b.kind)
	}
	cond := args[0]
	if cond.konst {
		if cond.cbool {
			return a, nil
		}
		return b, nil
	}
	cf := cond.bln
	switch a.kind {
	case record.Number:
		af, bf := a.num, b.num
		return numValue(func(r *record.Row) (float64, *record.Error) {
			ok, err := cf(r)
			if err != nil {
				return 0, err
			}
			if ok {
				return af(r)
			}
			return bf(r)
		}), nil
	case record.String:
		af, bf := a.str, b.str
		return strValue(func(r *record.Row) ([]byte, *record.Error) {
			ok, err := cf(r)
			if err != nil {
				return nil, err
			}
			if ok {
				return af(r)
			}
			return bf(r)
		}), nil
	default:
		af, bf := a.bln, b.bln
		return boolValue(func(r *record.Row) (bool, *record.Error) {
			ok, err := cf(r)
			if err != nil {
				return false, err
			}
			if ok {
				return af(r)
			}
			return bf(r)
		}), nil
	}
}

func buildCase(c *compiler, n *call, args []value) (value, *CompileError) {
	if err := c.want(n, args, 0, record.String, ""); err != nil {
		return value{}, err
	}
	g, upper := args[0].str, n.name == "upper"
	return strValue(func(r *record.Row) ([]byte, *record.Error) {
		s, err := g(r)
		if err != nil {
			return nil, err
		}
		return changeCase(r, s, upper), nil
	}), nil
}

// changeCase returns s itself when nothing changes, else a converted copy
// in r.Scratch. Invalid UTF-8 bytes are kept as they are.
func changeCase(r *record.Row, s []byte, upper bool) []byte {
	lo, hi := byte('A'), byte('Z')
	if upper {
		lo, hi = 'a', 'z'
	}
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && (s[i] < lo || s[i] > hi) {
		i++
	}
	if i == len(s) {
		return s
	}
	start := len(r.Scratch)
	r.Scratch = append(r.Scratch, s[:i]...)
	for i < len(s) {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= lo && b <= hi {
				b ^= 0x20
			}
			r.Scratch = append(r.Scratch, b)
			i++
			continue
		}
		ru, size := utf8.DecodeRune(s[i:])
		if ru == utf8.RuneError && size == 1 {
			r.Scratch = append(r.Scratch, b)
			i++
			continue
		}
		if upper {
			ru = unicode.ToUpper(ru)
		} else {
			ru = unicode.ToLower(ru)
		}
		r.Scratch = utf8.AppendRune(r.Scratch, ru)
		i += size
	}
	return sliceOut(r, start)
}

func buildConcat(c *compiler, n *call, args []value) (value, *CompileError) {
	if err := c.wantAll(n, args, record.String, " (use str() to convert a number)"); err != nil {
		return value{}, err
	}
	if len(args) == 1 {
		return args[0], nil
	}
	fs := make([]strFn, len(args))
	for i, a := range args {
		fs[i] = a.str
	}
	if len(fs) == 2 {
		af, bf := fs[0], fs[1]
		return strValue(func(r *record.Row) ([]byte, *record.Error) {
			a, err := af(r)
			if err != nil {
				return nil, err
			}
			b, err := bf(r)
			if err != nil {
				return nil, err
			}
			start := len(r.Scratch)
			r.Scratch = append(append(r.Scratch, a...), b...)
			return sliceOut(r, start), nil
		}), nil
	}
	return strValue(func(r *record.Row) ([]byte, *record.Error) {
		// Evaluate every part first: a part may itself append to Scratch,
		// and the result must be contiguous.
		var parts [maxConcatArgs][]byte
		for i, f := range fs {
			p, err := f(r)
			if err != nil {
				return nil, err
			}
			parts[i] = p
		}
		start := len(r.Scratch)
		for _, p := range parts[:len(fs)] {
			r.Scratch = append(r.Scratch, p...)
		}
		return sliceOut(r, start), nil
	}), nil
}

// appendNum formats integral values without a fraction or exponent (port
// 443 → "443"), others in the shortest form that reads back exactly.
func appendNum(b []byte, x float64) []byte {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.AppendInt(b, int64(x), 10)
	}
	return strconv.AppendFloat(b, x, 'g', -1, 64)
}

func buildStr(c *compiler, n *call, args []value) (value, *CompileError) {
	a := args[0]
	switch a.kind {
	case record.String:
		return a, nil
	case record.Bool:
		g := a.bln
		t, f := []byte("true"), []byte("false")
		return strValue(func(r *record.Row) ([]byte, *record.Error) {
			ok, err := g(r)
			if ok {
				return t, err
			}
			return f, err
		}), nil
	}
	g := a.num
	return strValue(func(r *record.Row) ([]byte, *record.Error) {
		x, err := g(r)
		if err != nil {
			return nil, err
		}
		start := len(r.Scratch)
		r.Scratch = appendNum(r.Scratch, x)
		return sliceOut(r, start), nil
	}), nil
}

// unsafeString views b as a string without copying. Safe here because the
// callers (strconv.ParseFloat, netip.ParseAddr) do not keep the string on
// success, their errors are dropped (strconv clones into its errors anyway,
// netip interns zones through unique.Make, which clones), and b is not
// modified while the view is in use.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func buildNum(c *compiler, n *call, args []value) (value, *CompileError) {
	a := args[0]
	switch a.kind {
	case record.Number:
		return a, nil
	case record.Bool:
		return boolToNum(a), nil
	}
	g, ctx, pos := a.str, c.ctx, n.pos
	return numValue(func(r *record.Row) (float64, *record.Error) {
		s, err := g(r)
		if err != nil {
			return 0, err
		}
		x, perr := strconv.ParseFloat(unsafeString(bytes.TrimSpace(s)), 64)
		if perr != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, record.Errorf("type", "%s: num() at offset %d: %q is not a finite number", ctx, pos, s)
		}
		return x, nil
	}), nil
}

// parseIP parses an address from bytes without allocating.
func parseIP(b []byte) (netip.Addr, bool) {
	a, err := netip.ParseAddr(unsafeString(b))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func (c *compiler) constPrefix(n *call, args []value, i, max int) (int, *CompileError) {
	if err := c.want(n, args, i, record.Number, ""); err != nil {
		return 0, err
	}
	a := args[i]
	if !a.konst {
		return 0, c.errf(n.args[i].position(), "subnet() prefix length must be a constant")
	}
	if a.cnum != math.Trunc(a.cnum) || a.cnum < 0 || a.cnum > float64(max) {
		return 0, c.errf(n.args[i].position(), "subnet() prefix length %s is out of range 0..%d", appendNum(nil, a.cnum), max)
	}
	return int(a.cnum), nil
}

// buildSubnet: subnet(ip, bits) masks either family with bits (a longer
// prefix than 32 on an IPv4 address is a per-record error); subnet(ip, v4,
// v6) takes one length per family, for mixed traffic.
func buildSubnet(c *compiler, n *call, args []value) (value, *CompileError) {
	if err := c.want(n, args, 0, record.String, ""); err != nil {
		return value{}, err
	}
	var v4, v6 int
	var err *CompileError
	if len(args) == 2 {
		if v6, err = c.constPrefix(n, args, 1, 128); err != nil {
			return value{}, err
		}
		v4 = v6
	} else {
		if v4, err = c.constPrefix(n, args, 1, 32); err != nil {
			return value{}, err
		}
		if v6, err = c.constPrefix(n, args, 2, 128); err != nil {
			return value{}, err
		}
	}
	g, ctx, pos := args[0].str, c.ctx, n.pos
	return strValue(func(r *record.Row) ([]byte, *record.Error) {
		s, err := g(r)
		if err != nil {
			return nil, err
		}
		addr, ok := parseIP(s)
		if !ok {
			return nil, record.Errorf("ip", "%s: subnet() at offset %d: %q is not an IP address", ctx, pos, s)
		}
		bits := v6
		if addr.Is4() {
			bits = v4
		}
		p, perr := addr.Prefix(bits)
		if perr != nil {
			return nil, record.Errorf("ip", "%s: subnet() at offset %d: %v", ctx, pos, perr)
		}
		start := len(r.Scratch)
		r.Scratch = p.AppendTo(r.Scratch)
		return sliceOut(r, start), nil
	}), nil
}

func buildPortName(c *compiler, n *call, args []value) (value, *CompileError) {
	if err := c.want(n, args, 0, record.Number, ""); err != nil {
		return value{}, err
	}
	g := args[0].num
	return strValue(func(r *record.Row) ([]byte, *record.Error) {
		x, err := g(r)
		if err != nil {
			return nil, err
		}
		if x >= 0 && x <= 65535 && x == math.Trunc(x) {
			if name, ok := portName(uint16(x)); ok {
				return name, nil
			}
		}
		start := len(r.Scratch)
		r.Scratch = appendNum(r.Scratch, x)
		return sliceOut(r, start), nil
	}), nil
}

var geoHints = map[string]string{
	"country": "set geoip.country or geoip.city",
	"city":    "set geoip.city",
	"asn":     "set geoip.asn",
	"as_org":  "set geoip.asn",
}

// buildGeo: an unknown or unparseable IP yields "" (or 0) and counts a miss
// rather than failing the record: enrichment is best effort.
func buildGeo(c *compiler, n *call, args []value) (value, *CompileError) {
	geo := c.env.GeoIP
	if geo == nil || !geo.Has(n.name) {
		return value{}, c.errf(n.pos, "%s(): no geoip database configured for %s (%s)", n.name, n.name, geoHints[n.name])
	}
	if err := c.want(n, args, 0, record.String, ""); err != nil {
		return value{}, err
	}
	g, misses := args[0].str, &c.prog.misses
	if n.name == "asn" {
		return numValue(func(r *record.Row) (float64, *record.Error) {
			s, err := g(r)
			if err != nil {
				return 0, err
			}
			if addr, ok := parseIP(s); ok {
				if asn, ok := geo.ASN(addr); ok && asn != 0 {
					return float64(asn), nil
				}
			}
			misses.Add(1)
			return 0, nil
		}), nil
	}
	var lookup func(netip.Addr) (string, bool)
	switch n.name {
	case "country":
		lookup = geo.Country
	case "city":
		lookup = geo.City
	default:
		lookup = geo.ASOrg
	}
	return strValue(func(r *record.Row) ([]byte, *record.Error) {
		s, err := g(r)
		if err != nil {
			return nil, err
		}
		if addr, ok := parseIP(s); ok {
			if name, ok := lookup(addr); ok && name != "" {
				// Copied so rows never alias the GeoIP reader's memory,
				// which a database reload may unmap.
				start := len(r.Scratch)
				r.Scratch = append(r.Scratch, name...)
				return sliceOut(r, start), nil
			}
		}
		misses.Add(1)
		return nil, nil
	}), nil
}
