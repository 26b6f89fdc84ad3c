package transform

// Two evaluation strategies that were measured against the closures (see
// BenchmarkNumeric), kept in the tests so the comparison can be re-run.
// They cover numbers and booleans only and reuse the parser.

import (
	"errors"
	"fmt"
	"math"

	"github.com/tidemark/tidemark/host/record"
)

var errDivZero = errors.New("div_zero")

// ---- stack VM: one flat instruction slice, a switch per instruction ----

type vmOp uint8

const (
	opConst vmOp = iota
	opField
	opAdd
	opSub
	opMul
	opDiv
	opMod
	opNeg
	opNot
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opJz  // jump if top == 0, keeping it
	opJnz // jump if top != 0, keeping it
	opJzPop
	opJmp
	opPop
	opStore
)

type vmInstr struct {
	op vmOp
	a  int32
	k  float64
}

type vmProgram struct {
	where  []vmInstr
	fields []vmInstr
}

func buildVM(s *record.Schema, where string, fields []string) (*vmProgram, error) {
	p := &vmProgram{}
	n, perr := parseExpr(where)
	if perr != nil {
		return nil, perr
	}
	code, err := vmCompile(s, n, nil)
	if err != nil {
		return nil, err
	}
	p.where = code
	for _, f := range fields {
		name, _, n, perr := parseField(f)
		if perr != nil {
			return nil, perr
		}
		if p.fields, err = vmCompile(s, n, p.fields); err != nil {
			return nil, err
		}
		slot, err := s.Add(name, record.Number)
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, vmInstr{op: opStore, a: int32(slot)})
	}
	return p, nil
}

func vmCompile(s *record.Schema, n node, code []vmInstr) ([]vmInstr, error) {
	var err error
	switch n := n.(type) {
	case *numLit:
		return append(code, vmInstr{op: opConst, k: n.v}), nil
	case *boolLit:
		k := 0.0
		if n.v {
			k = 1
		}
		return append(code, vmInstr{op: opConst, k: k}), nil
	case *ident:
		slot, kind, ok := s.Lookup(n.name)
		if !ok || kind != record.Number {
			return nil, fmt.Errorf("vm: field %q", n.name)
		}
		return append(code, vmInstr{op: opField, a: int32(slot)}), nil
	case *unary:
		if code, err = vmCompile(s, n.x, code); err != nil {
			return nil, err
		}
		if n.op == tMinus {
			return append(code, vmInstr{op: opNeg}), nil
		}
		return append(code, vmInstr{op: opNot}), nil
	case *call:
		if n.name != "if" || len(n.args) != 3 {
			return nil, fmt.Errorf("vm: function %s", n.name)
		}
		if code, err = vmCompile(s, n.args[0], code); err != nil {
			return nil, err
		}
		jz := len(code)
		code = append(code, vmInstr{op: opJzPop})
		if code, err = vmCompile(s, n.args[1], code); err != nil {
			return nil, err
		}
		jmp := len(code)
		code = append(code, vmInstr{op: opJmp})
		code[jz].a = int32(len(code))
		if code, err = vmCompile(s, n.args[2], code); err != nil {
			return nil, err
		}
		code[jmp].a = int32(len(code))
		return code, nil
	case *binary:
		if code, err = vmCompile(s, n.l, code); err != nil {
			return nil, err
		}
		if n.op == tAnd || n.op == tOr {
			j := len(code)
			op := opJz
			if n.op == tOr {
				op = opJnz
			}
			code = append(code, vmInstr{op: op}, vmInstr{op: opPop})
			if code, err = vmCompile(s, n.r, code); err != nil {
				return nil, err
			}
			code[j].a = int32(len(code))
			return code, nil
		}
		if code, err = vmCompile(s, n.r, code); err != nil {
			return nil, err
		}
		ops := map[tokKind]vmOp{tPlus: opAdd, tMinus: opSub, tStar: opMul, tSlash: opDiv, tPercent: opMod,
			tEq: opEq, tNe: opNe, tLt: opLt, tLe: opLe, tGt: opGt, tGe: opGe}
		return append(code, vmInstr{op: ops[n.op]}), nil
	}
	return nil, fmt.Errorf("vm: node %T", n)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func vmExec(code []vmInstr, r *record.Row) (float64, error) {
	var stack [32]float64
	sp := 0
	for pc := 0; pc < len(code); pc++ {
		in := &code[pc]
		switch in.op {
		case opConst:
			stack[sp] = in.k
			sp++
		case opField:
			stack[sp] = r.Num[in.a]
			sp++
		case opAdd:
			sp--
			stack[sp-1] += stack[sp]
		case opSub:
			sp--
			stack[sp-1] -= stack[sp]
		case opMul:
			sp--
			stack[sp-1] *= stack[sp]
		case opDiv:
			sp--
			if stack[sp] == 0 {
				return 0, errDivZero
			}
			stack[sp-1] /= stack[sp]
		case opMod:
			sp--
			if stack[sp] == 0 {
				return 0, errDivZero
			}
			stack[sp-1] = math.Mod(stack[sp-1], stack[sp])
		case opNeg:
			stack[sp-1] = -stack[sp-1]
		case opNot:
			stack[sp-1] = b2f(stack[sp-1] == 0)
		case opEq:
			sp--
			stack[sp-1] = b2f(stack[sp-1] == stack[sp])
		case opNe:
			sp--
			stack[sp-1] = b2f(stack[sp-1] != stack[sp])
		case opLt:
			sp--
			stack[sp-1] = b2f(stack[sp-1] < stack[sp])
		case opLe:
			sp--
			stack[sp-1] = b2f(stack[sp-1] <= stack[sp])
		case opGt:
			sp--
			stack[sp-1] = b2f(stack[sp-1] > stack[sp])
		case opGe:
			sp--
			stack[sp-1] = b2f(stack[sp-1] >= stack[sp])
		case opJz:
			if stack[sp-1] == 0 {
				pc = int(in.a) - 1
			}
		case opJnz:
			if stack[sp-1] != 0 {
				pc = int(in.a) - 1
			}
		case opJzPop:
			sp--
			if stack[sp] == 0 {
				pc = int(in.a) - 1
			}
		case opJmp:
			pc = int(in.a) - 1
		case opPop:
			sp--
		case opStore:
			sp--
			r.Num[in.a] = stack[sp]
		}
	}
	if sp > 0 {
		return stack[sp-1], nil
	}
	return 0, nil
}

func (p *vmProgram) run(r *record.Row) (bool, error) {
	keep, err := vmExec(p.where, r)
	if err != nil || keep == 0 {
		return false, err
	}
	_, err = vmExec(p.fields, r)
	return err == nil, err
}

// ---- tree of interface nodes, interpreted per record ----

type treeNode interface {
	eval(r *record.Row) (float64, error)
}

type (
	treeConst struct{ v float64 }
	treeField struct{ slot int }
	treeUnary struct {
		op tokKind
		x  treeNode
	}
	treeBinary struct {
		op   tokKind
		l, r treeNode
	}
	treeIf struct{ c, a, b treeNode }
)

func (n treeConst) eval(*record.Row) (float64, error)   { return n.v, nil }
func (n treeField) eval(r *record.Row) (float64, error) { return r.Num[n.slot], nil }

func (n treeUnary) eval(r *record.Row) (float64, error) {
	x, err := n.x.eval(r)
	if n.op == tMinus {
		return -x, err
	}
	return b2f(x == 0), err
}

func (n treeIf) eval(r *record.Row) (float64, error) {
	c, err := n.c.eval(r)
	if err != nil {
		return 0, err
	}
	if c != 0 {
		return n.a.eval(r)
	}
	return n.b.eval(r)
}

func (n treeBinary) eval(r *record.Row) (float64, error) {
	x, err := n.l.eval(r)
	if err != nil {
		return 0, err
	}
	switch n.op {
	case tAnd:
		if x == 0 {
			return 0, nil
		}
		return n.r.eval(r)
	case tOr:
		if x != 0 {
			return 1, nil
		}
		return n.r.eval(r)
	}
	y, err := n.r.eval(r)
	if err != nil {
		return 0, err
	}
	switch n.op {
	case tPlus:
		return x + y, nil
	case tMinus:
		return x - y, nil
	case tStar:
		return x * y, nil
	case tSlash, tPercent:
		if y == 0 {
			return 0, errDivZero
		}
		if n.op == tSlash {
			return x / y, nil
		}
		return math.Mod(x, y), nil
	case tEq:
		return b2f(x == y), nil
	case tNe:
		return b2f(x != y), nil
	case tLt:
		return b2f(x < y), nil
	case tLe:
		return b2f(x <= y), nil
	case tGt:
		return b2f(x > y), nil
	}
	return b2f(x >= y), nil
}

func treeBuild(s *record.Schema, n node) (treeNode, error) {
	switch n := n.(type) {
	case *numLit:
		return treeConst{n.v}, nil
	case *boolLit:
		return treeConst{b2f(n.v)}, nil
	case *ident:
		slot, _, ok := s.Lookup(n.name)
		if !ok {
			return nil, fmt.Errorf("tree: field %q", n.name)
		}
		return treeField{slot}, nil
	case *unary:
		x, err := treeBuild(s, n.x)
		return treeUnary{n.op, x}, err
	case *binary:
		l, err := treeBuild(s, n.l)
		if err != nil {
			return nil, err
		}
		r, err := treeBuild(s, n.r)
		return treeBinary{n.op, l, r}, err
	case *call:
		if n.name != "if" || len(n.args) != 3 {
			return nil, fmt.Errorf("tree: function %s", n.name)
		}
		var kids [3]treeNode
		for i, a := range n.args {
			k, err := treeBuild(s, a)
			if err != nil {
				return nil, err
			}
			kids[i] = k
		}
		return treeIf{kids[0], kids[1], kids[2]}, nil
	}
	return nil, fmt.Errorf("tree: node %T", n)
}

type treeProgram struct {
	where  treeNode
	fields []treeNode
	slots  []int
}

func buildTree(s *record.Schema, where string, fields []string) (*treeProgram, error) {
	n, perr := parseExpr(where)
	if perr != nil {
		return nil, perr
	}
	w, err := treeBuild(s, n)
	if err != nil {
		return nil, err
	}
	p := &treeProgram{where: w}
	for _, f := range fields {
		name, _, n, perr := parseField(f)
		if perr != nil {
			return nil, perr
		}
		t, err := treeBuild(s, n)
		if err != nil {
			return nil, err
		}
		slot, err := s.Add(name, record.Number)
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, t)
		p.slots = append(p.slots, slot)
	}
	return p, nil
}

func (p *treeProgram) run(r *record.Row) (bool, error) {
	keep, err := p.where.eval(r)
	if err != nil || keep == 0 {
		return false, err
	}
	for i, f := range p.fields {
		v, err := f.eval(r)
		if err != nil {
			return false, err
		}
		r.Num[p.slots[i]] = v
	}
	return true, nil
}
