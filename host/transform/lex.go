package transform

import (
	"fmt"
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tStr
	tIdent
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tPlus
	tMinus
	tStar
	tSlash
	tPercent
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tAssign
	tAnd
	tOr
	tNot
	tIn
	tTrue
	tFalse
)

var tokNames = [...]string{
	tEOF: "end of expression", tNum: "number", tStr: "string", tIdent: "name",
	tLParen: `"("`, tRParen: `")"`, tLBrack: `"["`, tRBrack: `"]"`, tComma: `","`,
	tPlus: `"+"`, tMinus: `"-"`, tStar: `"*"`, tSlash: `"/"`, tPercent: `"%"`,
	tEq: `"=="`, tNe: `"!="`, tLt: `"<"`, tLe: `"<="`, tGt: `">"`, tGe: `">="`,
	tAssign: `"="`, tAnd: `"and"`, tOr: `"or"`, tNot: `"not"`, tIn: `"in"`,
	tTrue: `"true"`, tFalse: `"false"`,
}

func (k tokKind) String() string { return tokNames[k] }

type token struct {
	kind tokKind
	pos  int
	text string  // source text (identifier name, operator spelling)
	num  float64 // tNum
	str  string  // tStr, unescaped
}

var keywords = map[string]tokKind{
	"and": tAnd, "or": tOr, "not": tNot, "in": tIn, "true": tTrue, "false": tFalse,
}

// lex splits src into tokens. It runs once per expression at compile time,
// so it favours clear errors over speed.
func lex(src string) ([]token, *CompileError) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			word := src[i:j]
			kind := tIdent
			if k, ok := keywords[word]; ok {
				kind = k
			}
			toks = append(toks, token{kind: kind, pos: i, text: word})
			i = j
			continue
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			if j < len(src) && src[j] == '.' {
				j++
				for j < len(src) && isDigit(src[j]) {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					j = k
				}
			}
			if j < len(src) && isIdentStart(src[j]) {
				return nil, &CompileError{Pos: i, Msg: fmt.Sprintf("malformed number %q", src[i:j+1])}
			}
			v, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil {
				return nil, &CompileError{Pos: i, Msg: fmt.Sprintf("number %s is out of range", src[i:j])}
			}
			toks = append(toks, token{kind: tNum, pos: i, text: src[i:j], num: v})
			i = j
			continue
		case c == '"' || c == '\'':
			s, n, err := unquote(src[i:])
			if err != "" {
				return nil, &CompileError{Pos: i, Msg: err}
			}
			toks = append(toks, token{kind: tStr, pos: i, text: src[i : i+n], str: s})
			i += n
			continue
		}
		two := ""
		if i+1 < len(src) {
			two = src[i : i+2]
		}
		kind, n := tEOF, 1
		switch two {
		case "==":
			kind, n = tEq, 2
		case "!=":
			kind, n = tNe, 2
		case "<=":
			kind, n = tLe, 2
		case ">=":
			kind, n = tGe, 2
		case "&&":
			kind, n = tAnd, 2
		case "||":
			kind, n = tOr, 2
		}
		if kind == tEOF {
			switch c {
			case '(':
				kind = tLParen
			case ')':
				kind = tRParen
			case '[':
				kind = tLBrack
			case ']':
				kind = tRBrack
			case ',':
				kind = tComma
			case '+':
				kind = tPlus
			case '-':
				kind = tMinus
			case '*':
				kind = tStar
			case '/':
				kind = tSlash
			case '%':
				kind = tPercent
			case '<':
				kind = tLt
			case '>':
				kind = tGt
			case '=':
				kind = tAssign
			case '!':
				kind = tNot
			default:
				return nil, &CompileError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", rune(c))}
			}
		}
		toks = append(toks, token{kind: kind, pos: i, text: src[i : i+n]})
		i += n
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// unquote reads a '...' or "..." literal at the start of s and returns its
// value and source length. Escapes: \\ \" \' \n \t \r.
func unquote(s string) (string, int, string) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, ""
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, "unterminated string"
			}
			i++
			switch s[i] {
			case '\\', '"', '\'':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				return "", 0, fmt.Sprintf(`unknown escape \%c in string`, s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, "unterminated string"
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '.' }
