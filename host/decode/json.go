package decode

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tidemark/tidemark/host/record"
)

// The JSON decoder is a small validating scanner rather than encoding/json:
// Unmarshal into a map or a struct allocates for every field, needs
// reflection for a field set only known at run time, and cannot hand back
// strings that alias the message. The scanner walks the whole object (so
// malformed JSON is still rejected), follows a trie of the configured
// dotted paths, and touches only the values it was asked for.

// maxJSONDepth bounds recursion on hostile input.
const maxJSONDepth = 128

// maxJSONColumns bounds the found-bitmap kept on the stack.
const maxJSONColumns = 256

type jsonNode struct {
	key      string
	col      int // column index, -1 when only a prefix
	children []*jsonNode
}

func (n *jsonNode) child(key string) *jsonNode {
	for _, c := range n.children {
		if c.key == key {
			return c
		}
	}
	c := &jsonNode{key: key, col: -1}
	n.children = append(n.children, c)
	return c
}

type jsonDecoder struct {
	*layout
	root  *jsonNode
	paths []string
}

func newJSON(cfg Config) (Decoder, error) {
	l, err := compileColumns(cfg, false)
	if err != nil {
		return nil, err
	}
	if len(cfg.Columns) > maxJSONColumns {
		return nil, fmt.Errorf("columns: %d fields, at most %d for json", len(cfg.Columns), maxJSONColumns)
	}
	d := &jsonDecoder{layout: l, root: &jsonNode{col: -1}, paths: make([]string, len(cfg.Columns))}
	for i, c := range cfg.Columns {
		p := c.Path
		if p == "" {
			p = c.Name
		}
		d.paths[i] = p
		n := d.root
		for _, seg := range strings.Split(p, ".") {
			if seg == "" {
				return nil, fmt.Errorf("columns[%d]: path %q has an empty segment", i, p)
			}
			n = n.child(seg)
		}
		if n.col >= 0 {
			return nil, fmt.Errorf("columns[%d]: path %q already used by columns[%d]", i, p, n.col)
		}
		n.col = i
	}
	return d, nil
}

func (d *jsonDecoder) Schema() *record.Schema { return d.schema }
func (d *jsonDecoder) HasTime() bool          { return d.timeCol >= 0 }

func (d *jsonDecoder) Decode(msg []byte, row *record.Row) *record.Error {
	line := trimEOL(msg)
	p := jsonParser{buf: line, d: d, row: row}
	p.ws()
	if p.pos == len(p.buf) {
		return record.Errorf(ReasonEmpty, "empty line")
	}
	if p.buf[p.pos] != '{' {
		return p.syntax("want an object")
	}
	if err := p.value(d.root, 0); err != nil {
		return err
	}
	p.ws()
	if p.pos != len(p.buf) {
		return p.syntax("text after the object")
	}
	for i, k := range d.kinds {
		if k != colSkip && p.found[i/64]&(1<<(i%64)) == 0 {
			return record.Errorf(ReasonMissing, "field %q (column %d): missing or null", d.paths[i], i)
		}
	}
	return nil
}

type jsonParser struct {
	buf   []byte
	pos   int
	d     *jsonDecoder
	row   *record.Row
	found [maxJSONColumns / 64]uint64
}

func (p *jsonParser) syntax(what string) *record.Error {
	near := p.buf[p.pos:]
	if len(near) > 16 {
		near = near[:16]
	}
	return record.Errorf(ReasonJSON, "offset %d: %s near %q", p.pos, what, near)
}

func (p *jsonParser) ws() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses one value; node is the trie position (nil = not wanted).
func (p *jsonParser) value(node *jsonNode, depth int) *record.Error {
	if p.pos >= len(p.buf) {
		return p.syntax("unexpected end")
	}
	start := p.pos
	switch c := p.buf[p.pos]; {
	case c == '{':
		if node != nil && node.col >= 0 {
			return p.typeErr(node.col, "an object")
		}
		return p.object(node, depth+1)
	case c == '[':
		if node != nil && node.col >= 0 {
			return p.typeErr(node.col, "an array")
		}
		return p.array(depth + 1)
	case c == '"':
		content, escaped, err := p.str()
		if err != nil {
			return err
		}
		if node != nil && node.col >= 0 {
			return p.setString(node.col, content, escaped)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if err := p.number(); err != nil {
			return err
		}
		if node != nil && node.col >= 0 {
			return p.setNumber(node.col, p.buf[start:p.pos])
		}
	case c == 't':
		if err := p.literal("true"); err != nil {
			return err
		}
		if node != nil && node.col >= 0 {
			return p.setBool(node.col, p.buf[start:p.pos], 1)
		}
	case c == 'f':
		if err := p.literal("false"); err != nil {
			return err
		}
		if node != nil && node.col >= 0 {
			return p.setBool(node.col, p.buf[start:p.pos], 0)
		}
	case c == 'n':
		// null leaves the column unset, so it is reported as missing
		return p.literal("null")
	default:
		return p.syntax("unexpected character")
	}
	return nil
}

func (p *jsonParser) literal(lit string) *record.Error {
	if !bytes.HasPrefix(p.buf[p.pos:], []byte(lit)) {
		return p.syntax("bad literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *jsonParser) object(node *jsonNode, depth int) *record.Error {
	if depth > maxJSONDepth {
		return p.syntax("nesting too deep")
	}
	p.pos++ // '{'
	p.ws()
	if p.pos < len(p.buf) && p.buf[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.ws()
		if p.pos >= len(p.buf) || p.buf[p.pos] != '"' {
			return p.syntax("want a key")
		}
		key, escaped, err := p.str()
		if err != nil {
			return err
		}
		var child *jsonNode
		if node != nil && len(node.children) > 0 {
			child = p.lookup(node, key, escaped)
		}
		p.ws()
		if p.pos >= len(p.buf) || p.buf[p.pos] != ':' {
			return p.syntax("want ':'")
		}
		p.pos++
		p.ws()
		if err := p.value(child, depth); err != nil {
			return err
		}
		p.ws()
		if p.pos >= len(p.buf) {
			return p.syntax("unterminated object")
		}
		switch p.buf[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.syntax("want ',' or '}'")
		}
	}
}

// lookup finds key among node's children. An escaped key is unescaped into
// the row's scratch arena just for the comparison.
func (p *jsonParser) lookup(node *jsonNode, key []byte, escaped bool) *jsonNode {
	start := len(p.row.Scratch)
	if escaped {
		p.row.Scratch = unescapeJSON(p.row.Scratch, key)
		key = p.row.Scratch[start:]
	}
	var found *jsonNode
	for _, c := range node.children {
		if string(key) == c.key {
			found = c
			break
		}
	}
	p.row.Scratch = p.row.Scratch[:start]
	return found
}

func (p *jsonParser) array(depth int) *record.Error {
	if depth > maxJSONDepth {
		return p.syntax("nesting too deep")
	}
	p.pos++ // '['
	p.ws()
	if p.pos < len(p.buf) && p.buf[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		p.ws()
		if err := p.value(nil, depth); err != nil {
			return err
		}
		p.ws()
		if p.pos >= len(p.buf) {
			return p.syntax("unterminated array")
		}
		switch p.buf[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.syntax("want ',' or ']'")
		}
	}
}

// str scans a string at p.pos and returns its raw content (between the
// quotes) and whether it holds escapes.
func (p *jsonParser) str() (content []byte, escaped bool, err *record.Error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		switch {
		case c == '"':
			content = p.buf[start:p.pos]
			p.pos++
			return content, escaped, nil
		case c == '\\':
			escaped = true
			if p.pos+1 >= len(p.buf) {
				return nil, false, p.syntax("unterminated string")
			}
			switch p.buf[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				if p.pos+6 > len(p.buf) {
					return nil, false, p.syntax("short \\u escape")
				}
				for _, h := range p.buf[p.pos+2 : p.pos+6] {
					if _, ok := hexVal(h); !ok {
						return nil, false, p.syntax("bad \\u escape")
					}
				}
				p.pos += 6
			default:
				return nil, false, p.syntax("bad escape")
			}
		case c < 0x20:
			return nil, false, p.syntax("control character in string")
		default:
			p.pos++
		}
	}
	return nil, false, p.syntax("unterminated string")
}

// number scans a JSON number (RFC 8259 grammar) at p.pos.
func (p *jsonParser) number() *record.Error {
	b := p.buf
	i := p.pos
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		p.pos = i
		return p.syntax("bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			p.pos = i
			return p.syntax("bad fraction")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			p.pos = i
			return p.syntax("bad exponent")
		}
	}
	p.pos = i
	return nil
}

func (p *jsonParser) mark(col int) { p.found[col/64] |= 1 << (col % 64) }

func (p *jsonParser) typeErr(col int, what string) *record.Error {
	return record.Errorf(ReasonType, "field %q (column %d): got %s", p.d.paths[col], col, what)
}

func (p *jsonParser) valueErr(reason string, col int, what string, text []byte) *record.Error {
	return record.Errorf(reason, "field %q (column %d): %s %q", p.d.paths[col], col, what, truncate(text))
}

func (p *jsonParser) setTime(col int, text []byte) *record.Error {
	t, ok := parseTime(text, p.d.timeFmt)
	if !ok {
		return p.valueErr(ReasonTime, col, "not a time", text)
	}
	p.row.Time = t
	return nil
}

func (p *jsonParser) setString(col int, content []byte, escaped bool) *record.Error {
	if escaped {
		start := len(p.row.Scratch)
		p.row.Scratch = unescapeJSON(p.row.Scratch, content)
		content = p.row.Scratch[start:len(p.row.Scratch):len(p.row.Scratch)]
	}
	if col == p.d.timeCol {
		if err := p.setTime(col, content); err != nil {
			return err
		}
	}
	switch p.d.kinds[col] {
	case colString:
		p.row.Str[p.d.slots[col]] = content
	case colNumber:
		// numbers sent as strings ("42") are common with int64 exporters
		f, ok := parseNumber(trimSpace(content))
		if !ok {
			return p.valueErr(ReasonNumber, col, "not a number", content)
		}
		p.row.Num[p.d.slots[col]] = f
	}
	p.mark(col)
	return nil
}

func (p *jsonParser) setNumber(col int, text []byte) *record.Error {
	if col == p.d.timeCol {
		if err := p.setTime(col, text); err != nil {
			return err
		}
	}
	switch p.d.kinds[col] {
	case colString:
		p.row.Str[p.d.slots[col]] = text
	case colNumber:
		f, ok := parseNumber(text)
		if !ok {
			return p.valueErr(ReasonNumber, col, "out of range", text)
		}
		p.row.Num[p.d.slots[col]] = f
	}
	p.mark(col)
	return nil
}

func (p *jsonParser) setBool(col int, text []byte, v float64) *record.Error {
	if col == p.d.timeCol {
		return p.typeErr(col, "a bool for the event time")
	}
	switch p.d.kinds[col] {
	case colString:
		p.row.Str[p.d.slots[col]] = text
	case colNumber:
		p.row.Num[p.d.slots[col]] = v
	}
	p.mark(col)
	return nil
}

// unescapeJSON appends the decoded form of a validated string body to dst.
// Invalid surrogates become U+FFFD, as encoding/json does.
func unescapeJSON(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					r2 = hex4(s[i+3 : i+7])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, s[i])
		}
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		v, _ := hexVal(c)
		r = r<<4 | rune(v)
	}
	return r
}
