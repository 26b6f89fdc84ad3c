package transform

import (
	"fmt"
	"strings"
	"testing"
)

// dump prints an AST fully parenthesised, to assert precedence.
func dump(n node) string {
	switch n := n.(type) {
	case *numLit:
		return fmt.Sprint(n.v)
	case *strLit:
		return fmt.Sprintf("%q", n.v)
	case *boolLit:
		return fmt.Sprint(n.v)
	case *ident:
		return n.name
	case *unary:
		return "(" + opText(n.op) + " " + dump(n.x) + ")"
	case *binary:
		return "(" + dump(n.l) + " " + opText(n.op) + " " + dump(n.r) + ")"
	case *call:
		args := make([]string, len(n.args))
		for i, a := range n.args {
			args[i] = dump(a)
		}
		return n.name + "(" + strings.Join(args, ", ") + ")"
	case *inList:
		items := make([]string, len(n.items))
		for i, a := range n.items {
			items[i] = dump(a)
		}
		op := "in"
		if n.negate {
			op = "not in"
		}
		return "(" + dump(n.x) + " " + op + " [" + strings.Join(items, ", ") + "])"
	}
	return "?"
}

func TestParsePrecedence(t *testing.T) {
	tests := []struct{ src, want string }{
		{"1 + 2 * 3", "(1 + (2 * 3))"},
		{"(1 + 2) * 3", "((1 + 2) * 3)"},
		{"a - b - c", "((a - b) - c)"},
		{"a / b * c % d", "(((a / b) * c) % d)"},
		{"(a + b) * c / 8", "(((a + b) * c) / 8)"},
		{"-a * b", "((- a) * b)"},
		{"- -a", "(- (- a))"},
		{"a + b == c * d", "((a + b) == (c * d))"},
		{"a < b and c >= d or e != f", "(((a < b) and (c >= d)) or (e != f))"},
		{"a or b and c", "(a or (b and c))"},
		{"a || b && c", "(a or (b and c))"},
		{"not a == b", "(not (a == b))"},
		{"!a == b", "(not (a == b))"},
		{"not a and b", "((not a) and b)"},
		{"not not a", "(not (not a))"},
		{"x in [1, 2, 3]", "(x in [1, 2, 3])"},
		{"proto not in ['tcp', \"udp\"] and x", `((proto not in ["tcp", "udp"]) and x)`},
		{"a + 1 in [2]", "((a + 1) in [2])"},
		{"sum(a, b) * 2", "(sum(a, b) * 2)"},
		{"if(a > 1, lower(b), 'x')", `if((a > 1), lower(b), "x")`},
		{"f()", "f()"},
		{"dev.temp >= 1e3", "(dev.temp >= 1000)"},
		{"1.5e-3 + .5 + 7.", "((0.0015 + 0.5) + 7)"},
		{`"a\"b" == 'c\'d\n'`, `("a\"b" == "c'd\n")`},
		{"true != false", "(true != false)"},
		{"a<=b", "(a <= b)"},
	}
	for _, tt := range tests {
		n, err := parseExpr(tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := dump(n); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestParseField(t *testing.T) {
	name, pos, n, err := parseField("  src = src_ip")
	if err != nil || name != "src" || pos != 2 || dump(n) != "src_ip" {
		t.Fatalf("got %q %d %v %v", name, pos, n, err)
	}
	name, _, n, err = parseField("bps=bytes*8")
	if err != nil || name != "bps" || dump(n) != "(bytes * 8)" {
		t.Fatalf("got %q %v %v", name, n, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		pos  int
		want string
	}{
		{"bytes >", 7, `expected a value (number, string, field, function call or "("), found end of expression`},
		{"(bytes", 6, `expected ")", found end of expression`},
		{"a b", 2, `expected an operator or end of expression, found "b"`},
		{"1 < 2 < 3", 6, "comparisons cannot be chained, use and: a < b and b < c"},
		{"x in 1", 5, `expected "[" after in (x in [a, b]), found "1"`},
		{"x in []", 2, "empty list after in"},
		{"f(1,", 4, `expected a value (number, string, field, function call or "("), found end of expression`},
		{"f(1 2)", 4, `expected "," or ")", found "2"`},
		{"'abc", 0, "unterminated string"},
		{`"a\q"`, 0, `unknown escape \q in string`},
		{"a # b", 2, `unexpected character '#'`},
		{"12abc", 0, `malformed number "12a"`},
		{"1e999", 0, "number 1e999 is out of range"},
		{"", 0, "empty expression"},
		{"a = 1", 2, `"=" assigns a field; use == to compare`},
		{strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), 200, "expression nested more than 200 levels deep"},
	}
	for _, tt := range tests {
		_, err := parseExpr(tt.src)
		if err == nil {
			t.Errorf("%q: no error", tt.src)
			continue
		}
		if err.Msg != tt.want || err.Pos != tt.pos {
			t.Errorf("%q: got pos %d %q, want pos %d %q", tt.src, err.Pos, err.Msg, tt.pos, tt.want)
		}
	}
}
