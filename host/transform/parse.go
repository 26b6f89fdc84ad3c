package transform

import (
	"fmt"
	"strings"
)

// The AST only lives at compile time; Compile turns it into closures.
type node interface{ position() int }

type (
	numLit struct {
		pos int
		v   float64
	}
	strLit struct {
		pos int
		v   string
	}
	boolLit struct {
		pos int
		v   bool
	}
	ident struct {
		pos  int
		name string
	}
	unary struct {
		pos int
		op  tokKind // tMinus, tNot
		x   node
	}
	binary struct {
		pos  int // operator position
		op   tokKind
		l, r node
	}
	call struct {
		pos  int
		name string
		args []node
	}
	inList struct {
		pos    int // position of "in"
		negate bool
		x      node
		items  []node
	}
)

func (n *numLit) position() int  { return n.pos }
func (n *strLit) position() int  { return n.pos }
func (n *boolLit) position() int { return n.pos }
func (n *ident) position() int   { return n.pos }
func (n *unary) position() int   { return n.pos }
func (n *binary) position() int  { return n.pos }
func (n *call) position() int    { return n.pos }
func (n *inList) position() int  { return n.pos }

// maxDepth bounds nesting so a hostile config cannot blow the stack.
const maxDepth = 200

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) expect(k tokKind, what string) (token, *CompileError) {
	t := p.peek()
	if t.kind != k {
		return t, p.unexpected(t, what)
	}
	return p.next(), nil
}

func (p *parser) unexpected(t token, want string) *CompileError {
	got := t.kind.String()
	if t.kind != tEOF && t.text != "" {
		got = fmt.Sprintf("%q", t.text)
	}
	msg := fmt.Sprintf("expected %s, found %s", want, got)
	if k, ok := keywords[strings.ToLower(t.text)]; ok && t.kind == tIdent {
		msg += fmt.Sprintf(" (keywords are lower case: %s)", k)
	}
	return &CompileError{Pos: t.pos, Msg: msg}
}

// parseExpr parses a whole expression (a where clause).
func parseExpr(src string) (node, *CompileError) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, &CompileError{Pos: 0, Msg: "empty expression"}
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tAssign {
			return nil, &CompileError{Pos: t.pos, Msg: `"=" assigns a field; use == to compare`}
		}
		return nil, p.unexpected(t, "an operator or end of expression")
	}
	return n, nil
}

// parseField parses `name = expr`.
func parseField(src string) (name string, namePos int, n node, cerr *CompileError) {
	toks, err := lex(src)
	if err != nil {
		return "", 0, nil, err
	}
	p := &parser{toks: toks}
	t := p.next()
	if t.kind != tIdent {
		if t.kind == tEOF {
			return "", 0, nil, &CompileError{Pos: t.pos, Msg: "empty field expression, want name = expression"}
		}
		return "", 0, nil, p.unexpected(t, "a field name (name = expression)")
	}
	if _, err := p.expect(tAssign, `"=" after the field name (name = expression)`); err != nil {
		return t.text, t.pos, nil, err
	}
	if p.peek().kind == tEOF {
		return t.text, t.pos, nil, &CompileError{Pos: p.peek().pos, Msg: "missing expression after \"=\""}
	}
	n, err = p.or()
	if err != nil {
		return t.text, t.pos, nil, err
	}
	if u := p.peek(); u.kind != tEOF {
		return t.text, t.pos, nil, p.unexpected(u, "an operator or end of expression")
	}
	return t.text, t.pos, n, nil
}

func (p *parser) enter(pos int) *CompileError {
	p.depth++
	if p.depth > maxDepth {
		return &CompileError{Pos: pos, Msg: fmt.Sprintf("expression nested more than %d levels deep", maxDepth)}
	}
	return nil
}

func (p *parser) or() (node, *CompileError) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		op := p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: op.pos, op: tOr, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (node, *CompileError) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		op := p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: op.pos, op: tAnd, l: l, r: r}
	}
	return l, nil
}

// not binds looser than comparisons, for both spellings: `not a == b` and
// `!a == b` both mean not (a == b).
func (p *parser) not() (node, *CompileError) {
	if p.peek().kind == tNot {
		op := p.next()
		if err := p.enter(op.pos); err != nil {
			return nil, err
		}
		x, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &unary{pos: op.pos, op: tNot, x: x}, nil
	}
	return p.cmp()
}

func isCmp(k tokKind) bool { return k >= tEq && k <= tGe }

func (p *parser) cmp() (node, *CompileError) {
	l, err := p.sum()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case isCmp(t.kind):
		p.next()
		r, err := p.sum()
		if err != nil {
			return nil, err
		}
		n := &binary{pos: t.pos, op: t.kind, l: l, r: r}
		if u := p.peek(); isCmp(u.kind) || u.kind == tIn {
			return nil, &CompileError{Pos: u.pos, Msg: "comparisons cannot be chained, use and: a < b and b < c"}
		}
		return n, nil
	case t.kind == tIn || (t.kind == tNot && p.toks[p.i+1].kind == tIn):
		negate := t.kind == tNot
		if negate {
			p.next()
		}
		in := p.next()
		if _, err := p.expect(tLBrack, `"[" after in (x in [a, b])`); err != nil {
			return nil, err
		}
		items, err := p.list(tRBrack, "]")
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, &CompileError{Pos: in.pos, Msg: "empty list after in"}
		}
		n := &inList{pos: in.pos, negate: negate, x: l, items: items}
		if u := p.peek(); isCmp(u.kind) || u.kind == tIn {
			return nil, &CompileError{Pos: u.pos, Msg: "comparisons cannot be chained, use and: a < b and b < c"}
		}
		return n, nil
	}
	return l, nil
}

func (p *parser) sum() (node, *CompileError) {
	l, err := p.product()
	if err != nil {
		return nil, err
	}
	for k := p.peek().kind; k == tPlus || k == tMinus; k = p.peek().kind {
		op := p.next()
		r, err := p.product()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: op.pos, op: op.kind, l: l, r: r}
	}
	return l, nil
}

func (p *parser) product() (node, *CompileError) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for k := p.peek().kind; k == tStar || k == tSlash || k == tPercent; k = p.peek().kind {
		op := p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: op.pos, op: op.kind, l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary() (node, *CompileError) {
	if p.peek().kind == tMinus {
		op := p.next()
		if err := p.enter(op.pos); err != nil {
			return nil, err
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &unary{pos: op.pos, op: tMinus, x: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, *CompileError) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &numLit{pos: t.pos, v: t.num}, nil
	case tStr:
		return &strLit{pos: t.pos, v: t.str}, nil
	case tTrue, tFalse:
		return &boolLit{pos: t.pos, v: t.kind == tTrue}, nil
	case tIdent:
		if p.peek().kind != tLParen {
			return &ident{pos: t.pos, name: t.text}, nil
		}
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		args, err := p.list(tRParen, ")")
		p.depth--
		if err != nil {
			return nil, err
		}
		return &call{pos: t.pos, name: t.text, args: args}, nil
	case tLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return x, nil
	}
	return nil, p.unexpected(t, "a value (number, string, field, function call or \"(\")")
}

// list parses comma-separated expressions up to the closing token, which it
// consumes.
func (p *parser) list(end tokKind, endText string) ([]node, *CompileError) {
	var out []node
	if p.peek().kind == end {
		p.next()
		return out, nil
	}
	for {
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
		t := p.next()
		switch t.kind {
		case tComma:
			continue
		case end:
			return out, nil
		}
		return nil, p.unexpected(t, fmt.Sprintf(`"," or %q`, endText))
	}
}
