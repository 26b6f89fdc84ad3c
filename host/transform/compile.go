package transform

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/tidemark/tidemark/host/record"
)

type compiler struct {
	schema   *record.Schema
	env      Env
	prog     *Program
	idx      int    // -1 where, i fields[i]
	ctx      string // names the expression in per-record errors
	used     map[string]bool
	poisoned map[string]bool // fields whose own expression failed
	later    map[string]int  // while compiling where: names derived by fields[i]
}

// errPoisoned marks an expression that refers to a field whose definition
// already failed: that failure is reported once, not again for each user.
var errPoisoned = &CompileError{Msg: "refers to a field whose expression failed"}

func (c *compiler) errf(pos int, format string, args ...any) *CompileError {
	return &CompileError{Expr: c.idx, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// value is a compiled, typed sub-expression. Exactly one of num, str, bln is
// set, per kind. konst values also carry their constant.
type value struct {
	kind  record.Kind
	num   numFn
	str   strFn
	bln   boolFn
	konst bool
	cnum  float64
	cstr  []byte
	cbool bool
	field int // slot of a plain field reference, else -1
}

func constNum(x float64) value {
	return value{kind: record.Number, konst: true, cnum: x, field: -1,
		num: func(*record.Row) (float64, *record.Error) { return x, nil }}
}

func constStr(s []byte) value {
	s = s[:len(s):len(s)]
	return value{kind: record.String, konst: true, cstr: s, field: -1,
		str: func(*record.Row) ([]byte, *record.Error) { return s, nil }}
}

func constBool(b bool) value {
	return value{kind: record.Bool, konst: true, cbool: b, field: -1,
		bln: func(*record.Row) (bool, *record.Error) { return b, nil }}
}

func numValue(f numFn) value   { return value{kind: record.Number, num: f, field: -1} }
func strValue(f strFn) value   { return value{kind: record.String, str: f, field: -1} }
func boolValue(f boolFn) value { return value{kind: record.Bool, bln: f, field: -1} }

func boolToNum(v value) value {
	if v.konst {
		if v.cbool {
			return constNum(1)
		}
		return constNum(0)
	}
	f := v.bln
	return numValue(func(r *record.Row) (float64, *record.Error) {
		b, err := f(r)
		if b {
			return 1, err
		}
		return 0, err
	})
}

// fold evaluates v at compile time when all its inputs are constants and
// the operation is pure. A per-record error here (1/0, num("x")) can only
// ever happen, so it becomes a compile error.
func (c *compiler) fold(v value, pos int, inputs ...value) (value, *CompileError) {
	for _, in := range inputs {
		if !in.konst {
			return v, nil
		}
	}
	row := &record.Row{}
	var rerr *record.Error
	switch v.kind {
	case record.Number:
		var x float64
		if x, rerr = v.num(row); rerr == nil {
			return constNum(x), nil
		}
	case record.String:
		var s []byte
		if s, rerr = v.str(row); rerr == nil {
			return constStr(bytes.Clone(s)), nil
		}
	case record.Bool:
		var b bool
		if b, rerr = v.bln(row); rerr == nil {
			return constBool(b), nil
		}
	}
	return value{}, c.errf(pos, "%s", strings.TrimPrefix(rerr.Msg, c.ctx+": "))
}

func (c *compiler) compile(n node) (value, *CompileError) {
	switch n := n.(type) {
	case *numLit:
		return constNum(n.v), nil
	case *strLit:
		return constStr([]byte(n.v)), nil
	case *boolLit:
		return constBool(n.v), nil
	case *ident:
		return c.fieldRef(n)
	case *unary:
		return c.unary(n)
	case *binary:
		return c.binary(n)
	case *call:
		return c.call(n)
	case *inList:
		return c.inList(n)
	}
	return value{}, c.errf(n.position(), "internal error: unknown node %T", n)
}

func (c *compiler) fieldRef(n *ident) (value, *CompileError) {
	slot, kind, ok := c.schema.Lookup(n.name)
	if !ok {
		if c.poisoned[n.name] {
			return value{}, errPoisoned
		}
		if i, ok := c.later[n.name]; ok {
			return value{}, c.errf(n.pos, "field %q is derived by fields[%d], which runs after where", n.name, i)
		}
		return value{}, c.errf(n.pos, "unknown field %q%s", n.name, didYouMean(n.name, c.schema.Names()))
	}
	switch kind {
	case record.Number:
		v := numValue(func(r *record.Row) (float64, *record.Error) { return r.Num[slot], nil })
		v.field = slot
		return v, nil
	case record.String:
		v := strValue(func(r *record.Row) ([]byte, *record.Error) { return r.Str[slot], nil })
		v.field = slot
		return v, nil
	}
	return value{}, c.errf(n.pos, "field %q has kind %s, which expressions cannot read", n.name, kind)
}

func (c *compiler) unary(n *unary) (value, *CompileError) {
	x, err := c.compile(n.x)
	if err != nil {
		return x, err
	}
	switch n.op {
	case tMinus:
		if x.kind != record.Number {
			return value{}, c.errf(n.pos, "unary - needs a number, got %s", x.kind)
		}
		if x.konst {
			return constNum(-x.cnum), nil
		}
		f := x.num
		return numValue(func(r *record.Row) (float64, *record.Error) {
			v, err := f(r)
			return -v, err
		}), nil
	default: // tNot
		if x.kind != record.Bool {
			return value{}, c.errf(n.pos, "not needs a boolean, got %s", x.kind)
		}
		if x.konst {
			return constBool(!x.cbool), nil
		}
		f := x.bln
		return boolValue(func(r *record.Row) (bool, *record.Error) {
			v, err := f(r)
			return !v, err
		}), nil
	}
}

func (c *compiler) binary(n *binary) (value, *CompileError) {
	l, err := c.compile(n.l)
	if err != nil {
		return l, err
	}
	r, err := c.compile(n.r)
	if err != nil {
		return r, err
	}
	switch n.op {
	case tPlus, tMinus, tStar, tSlash, tPercent:
		if l.kind != record.Number || r.kind != record.Number {
			hint := ""
			if n.op == tPlus && (l.kind == record.String || r.kind == record.String) {
				hint = " (use concat() to join strings)"
			}
			return value{}, c.errf(n.pos, "operator %s needs numbers, got %s and %s%s", opText(n.op), l.kind, r.kind, hint)
		}
		v, err := c.arith(n.op, n.pos, l, r)
		if err != nil {
			return v, err
		}
		return c.fold(v, n.pos, l, r)
	case tAnd, tOr:
		if l.kind != record.Bool || r.kind != record.Bool {
			return value{}, c.errf(n.pos, "operator %s needs booleans, got %s and %s", opText(n.op), l.kind, r.kind)
		}
		return logic(n.op, l, r), nil
	default:
		if l.kind != r.kind {
			hint := ""
			if l.kind != record.Bool && r.kind != record.Bool {
				hint = " (convert one side with num() or str())"
			}
			return value{}, c.errf(n.pos, "cannot compare %s with %s%s", l.kind, r.kind, hint)
		}
		var v value
		switch l.kind {
		case record.Number:
			v = cmpNum(n.op, l, r)
		case record.String:
			v = cmpStr(n.op, l, r)
		default:
			if n.op != tEq && n.op != tNe {
				return value{}, c.errf(n.pos, "operator %s cannot order booleans, only == and != compare them", opText(n.op))
			}
			v = eqBool(n.op == tNe, l, r)
		}
		return c.fold(v, n.pos, l, r)
	}
}

func opText(k tokKind) string {
	switch k {
	case tAnd:
		return "and"
	case tOr:
		return "or"
	}
	return tokNames[k][1 : len(tokNames[k])-1]
}

func (c *compiler) divZero(pos int) *record.Error {
	return &record.Error{Reason: "div_zero", Msg: fmt.Sprintf("%s: division by zero at offset %d", c.ctx, pos)}
}

// arith builds + - * / %. Field∘constant and field∘field shapes read the
// row directly: they are the common case (bytes * 8, bytes * rate).
func (c *compiler) arith(op tokKind, pos int, l, r value) (value, *CompileError) {
	if (op == tSlash || op == tPercent) && r.konst && r.cnum == 0 {
		return value{}, c.errf(pos, "division by zero")
	}
	// Commutative ops with a constant on the left: swap so the specialised
	// field∘constant shape applies.
	if (op == tPlus || op == tStar) && l.konst {
		l, r = r, l
	}
	lf, rf := l.num, r.num
	li, ri := l.field, r.field
	k := r.cnum
	fieldConst := li >= 0 && r.konst && specialize
	fieldField := li >= 0 && ri >= 0 && specialize
	anyConst := r.konst && specialize
	var divErr *record.Error
	if op == tSlash || op == tPercent {
		divErr = c.divZero(pos)
	}
	var f numFn
	switch op {
	case tPlus:
		switch {
		case fieldConst:
			f = func(r *record.Row) (float64, *record.Error) { return r.Num[li] + k, nil }
		case fieldField:
			f = func(r *record.Row) (float64, *record.Error) { return r.Num[li] + r.Num[ri], nil }
		case anyConst:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				return x + k, err
			}
		default:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				if err != nil {
					return 0, err
				}
				y, err := rf(r)
				return x + y, err
			}
		}
	case tMinus:
		switch {
		case fieldConst:
			f = func(r *record.Row) (float64, *record.Error) { return r.Num[li] - k, nil }
		case fieldField:
			f = func(r *record.Row) (float64, *record.Error) { return r.Num[li] - r.Num[ri], nil }
		case anyConst:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				return x - k, err
			}
		default:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				if err != nil {
					return 0, err
				}
				y, err := rf(r)
				return x - y, err
			}
		}
	case tStar:
		switch {
		case fieldConst:
			f = func(r *record.Row) (float64, *record.Error) { return r.Num[li] * k, nil }
		case fieldField:
			f = func(r *record.Row) (float64, *record.Error) { return r.Num[li] * r.Num[ri], nil }
		case anyConst:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				return x * k, err
			}
		default:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				if err != nil {
					return 0, err
				}
				y, err := rf(r)
				return x * y, err
			}
		}
	case tSlash:
		switch {
		case fieldConst:
			f = func(r *record.Row) (float64, *record.Error) { return r.Num[li] / k, nil }
		case anyConst:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				return x / k, err
			}
		default:
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				if err != nil {
					return 0, err
				}
				y, err := rf(r)
				if err != nil {
					return 0, err
				}
				if y == 0 {
					return 0, divErr
				}
				return x / y, nil
			}
		}
	case tPercent:
		if anyConst && k == math.Trunc(k) && math.Abs(k) < 1<<53 {
			// port % 1024: integer remainder is several times cheaper
			// than math.Mod and equal to it for integral operands.
			ik := int64(k)
			f = func(r *record.Row) (float64, *record.Error) {
				x, err := lf(r)
				if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
					return float64(int64(x) % ik), err
				}
				return math.Mod(x, k), err
			}
			break
		}
		f = func(r *record.Row) (float64, *record.Error) {
			x, err := lf(r)
			if err != nil {
				return 0, err
			}
			y, err := rf(r)
			if err != nil {
				return 0, err
			}
			if y == 0 {
				return 0, divErr
			}
			return math.Mod(x, y), nil
		}
	}
	return numValue(f), nil
}

// specialize switches the shape-specific closures off in benchmarks, to
// measure what they buy over generic per-node closures.
var specialize = true

func logic(op tokKind, l, r value) value {
	// Partial folding: a constant left side decides or vanishes.
	if l.konst {
		switch {
		case op == tAnd && !l.cbool:
			return constBool(false)
		case op == tOr && l.cbool:
			return constBool(true)
		}
		return r
	}
	if r.konst {
		switch {
		case op == tAnd && r.cbool, op == tOr && !r.cbool:
			return l
		}
		// x and false / x or true: x still runs for its errors.
	}
	lf, rf := l.bln, r.bln
	if op == tAnd {
		return boolValue(func(r *record.Row) (bool, *record.Error) {
			x, err := lf(r)
			if err != nil || !x {
				return false, err
			}
			return rf(r)
		})
	}
	return boolValue(func(r *record.Row) (bool, *record.Error) {
		x, err := lf(r)
		if err != nil || x {
			return x, err
		}
		return rf(r)
	})
}

func cmpNum(op tokKind, l, r value) value {
	// Put a constant on the right: 6 < x is x > 6.
	if l.konst && !r.konst {
		l, r = r, l
		switch op {
		case tLt:
			op = tGt
		case tLe:
			op = tGe
		case tGt:
			op = tLt
		case tGe:
			op = tLe
		}
	}
	lf, rf := l.num, r.num
	li, k := l.field, r.cnum
	if li >= 0 && r.konst && specialize {
		var f boolFn
		switch op {
		case tEq:
			f = func(r *record.Row) (bool, *record.Error) { return r.Num[li] == k, nil }
		case tNe:
			f = func(r *record.Row) (bool, *record.Error) { return r.Num[li] != k, nil }
		case tLt:
			f = func(r *record.Row) (bool, *record.Error) { return r.Num[li] < k, nil }
		case tLe:
			f = func(r *record.Row) (bool, *record.Error) { return r.Num[li] <= k, nil }
		case tGt:
			f = func(r *record.Row) (bool, *record.Error) { return r.Num[li] > k, nil }
		case tGe:
			f = func(r *record.Row) (bool, *record.Error) { return r.Num[li] >= k, nil }
		}
		return boolValue(f)
	}
	var test func(x, y float64) bool
	switch op {
	case tEq:
		test = func(x, y float64) bool { return x == y }
	case tNe:
		test = func(x, y float64) bool { return x != y }
	case tLt:
		test = func(x, y float64) bool { return x < y }
	case tLe:
		test = func(x, y float64) bool { return x <= y }
	case tGt:
		test = func(x, y float64) bool { return x > y }
	case tGe:
		test = func(x, y float64) bool { return x >= y }
	}
	return boolValue(func(r *record.Row) (bool, *record.Error) {
		x, err := lf(r)
		if err != nil {
			return false, err
		}
		y, err := rf(r)
		if err != nil {
			return false, err
		}
		return test(x, y), nil
	})
}

func cmpStr(op tokKind, l, r value) value {
	lf, rf := l.str, r.str
	if (op == tEq || op == tNe) && specialize {
		if l.konst && !r.konst {
			l, r = r, l
			lf, rf = rf, lf
		}
		if r.konst {
			k, ne := r.cstr, op == tNe
			if l.field >= 0 {
				li := l.field
				return boolValue(func(r *record.Row) (bool, *record.Error) {
					return bytes.Equal(r.Str[li], k) != ne, nil
				})
			}
			return boolValue(func(r *record.Row) (bool, *record.Error) {
				x, err := lf(r)
				return bytes.Equal(x, k) != ne, err
			})
		}
	}
	var test func(c int) bool
	switch op {
	case tEq:
		test = func(c int) bool { return c == 0 }
	case tNe:
		test = func(c int) bool { return c != 0 }
	case tLt:
		test = func(c int) bool { return c < 0 }
	case tLe:
		test = func(c int) bool { return c <= 0 }
	case tGt:
		test = func(c int) bool { return c > 0 }
	case tGe:
		test = func(c int) bool { return c >= 0 }
	}
	return boolValue(func(r *record.Row) (bool, *record.Error) {
		x, err := lf(r)
		if err != nil {
			return false, err
		}
		y, err := rf(r)
		if err != nil {
			return false, err
		}
		return test(bytes.Compare(x, y)), nil
	})
}

func eqBool(ne bool, l, r value) value {
	lf, rf := l.bln, r.bln
	return boolValue(func(r *record.Row) (bool, *record.Error) {
		x, err := lf(r)
		if err != nil {
			return false, err
		}
		y, err := rf(r)
		if err != nil {
			return false, err
		}
		return (x == y) != ne, nil
	})
}

// inList compiles `x in [..]`: the items must be constants of x's type.
// Short lists are scanned; longer ones use a set.
func (c *compiler) inList(n *inList) (value, *CompileError) {
	x, err := c.compile(n.x)
	if err != nil {
		return x, err
	}
	if x.kind == record.Bool {
		return value{}, c.errf(n.pos, "in needs a number or a string on the left, got bool")
	}
	items := make([]value, len(n.items))
	for i, it := range n.items {
		v, err := c.compile(it)
		if err != nil {
			return v, err
		}
		if !v.konst {
			return value{}, c.errf(it.position(), "list items after in must be constants")
		}
		if v.kind != x.kind {
			return value{}, c.errf(it.position(), "list item is a %s, but the left side of in is a %s", v.kind, x.kind)
		}
		items[i] = v
	}
	neg := n.negate
	var v value
	if x.kind == record.Number {
		nums := make([]float64, len(items))
		for i, it := range items {
			nums[i] = it.cnum
		}
		f := x.num
		if len(nums) <= 8 {
			v = boolValue(func(r *record.Row) (bool, *record.Error) {
				y, err := f(r)
				for _, k := range nums {
					if y == k {
						return !neg, err
					}
				}
				return neg, err
			})
		} else {
			set := make(map[float64]struct{}, len(nums))
			for _, k := range nums {
				set[k] = struct{}{}
			}
			v = boolValue(func(r *record.Row) (bool, *record.Error) {
				y, err := f(r)
				_, ok := set[y]
				return ok != neg, err
			})
		}
	} else {
		strs := make([][]byte, len(items))
		for i, it := range items {
			strs[i] = it.cstr
		}
		f := x.str
		if len(strs) <= 8 {
			v = boolValue(func(r *record.Row) (bool, *record.Error) {
				y, err := f(r)
				for _, k := range strs {
					if bytes.Equal(y, k) {
						return !neg, err
					}
				}
				return neg, err
			})
		} else {
			set := make(map[string]struct{}, len(strs))
			for _, k := range strs {
				set[string(k)] = struct{}{}
			}
			v = boolValue(func(r *record.Row) (bool, *record.Error) {
				y, err := f(r)
				_, ok := set[string(y)] // no allocation: map index by converted []byte
				return ok != neg, err
			})
		}
	}
	return c.fold(v, n.pos, x)
}
