// Package wasmbin reads the parts of a WebAssembly binary the host needs
// (imports, exports, custom sections) and rewrites function bodies to add
// interrupt checks. It is deliberately minimal: it decodes instructions only
// far enough to find their boundaries, and copies everything else verbatim.
package wasmbin

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Section ids used here.
const (
	secCustom = 0
	secImport = 2
	secGlobal = 6
	secExport = 7
	secCode   = 10
)

var magic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// ErrNotWasm means the bytes do not start with the wasm magic and version 1.
var ErrNotWasm = errors.New("not a WebAssembly binary (bad magic or version)")

// ErrTruncated means a section or item runs past the end of the file.
var ErrTruncated = errors.New("truncated WebAssembly binary")

// Import is one entry of the import section.
type Import struct {
	Module, Name string
	Kind         byte // 0 func, 1 table, 2 memory, 3 global, 4 tag
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  byte
	Index uint32
}

// Section is one raw section.
type Section struct {
	ID      byte
	Name    string // custom sections only
	Payload []byte // for custom sections: after the name
	raw     []byte // whole payload including a custom section's name
}

// Module is the decoded outline of a binary.
type Module struct {
	Sections []Section
	Imports  []Import
	Exports  []Export
}

// Custom returns the payload of the first custom section with that name.
func (m *Module) Custom(name string) ([]byte, bool) {
	for _, s := range m.Sections {
		if s.ID == secCustom && s.Name == name {
			return s.Payload, true
		}
	}
	return nil, false
}

// Parse decodes the outline of a binary: sections, imports, exports.
func Parse(b []byte) (*Module, error) {
	if len(b) < 8 {
		if len(b) >= 4 && string(b[:4]) == string(magic[:4]) {
			return nil, ErrTruncated
		}
		return nil, ErrNotWasm
	}
	if string(b[:8]) != string(magic) {
		return nil, ErrNotWasm
	}
	m := &Module{}
	r := reader{b: b, p: 8}
	for r.p < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		payload, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		s := Section{ID: id, Payload: payload, raw: payload}
		switch id {
		case secCustom:
			pr := reader{b: payload}
			name, err := pr.name()
			if err != nil {
				return nil, fmt.Errorf("custom section: %w", err)
			}
			s.Name, s.Payload = name, payload[pr.p:]
		case secImport:
			if m.Imports, err = parseImports(payload); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case secExport:
			if m.Exports, err = parseExports(payload); err != nil {
				return nil, fmt.Errorf("export section: %w", err)
			}
		}
		m.Sections = append(m.Sections, s)
	}
	return m, nil
}

func parseImports(b []byte) ([]Import, error) {
	r := reader{b: b}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]Import, 0, min(n, 4096))
	for i := uint32(0); i < n; i++ {
		var im Import
		if im.Module, err = r.name(); err != nil {
			return nil, err
		}
		if im.Name, err = r.name(); err != nil {
			return nil, err
		}
		if im.Kind, err = r.byte(); err != nil {
			return nil, err
		}
		switch im.Kind {
		case 0: // func: type index
			_, err = r.u32()
		case 1: // table: reftype + limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 2: // memory
			err = r.limits()
		case 3: // global: valtype + mutability
			if _, err = r.byte(); err == nil {
				_, err = r.byte()
			}
		case 4: // tag
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return nil, fmt.Errorf("import %s.%s: unknown kind %d", im.Module, im.Name, im.Kind)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, nil
}

func parseExports(b []byte) ([]Export, error) {
	r := reader{b: b}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]Export, 0, min(n, 4096))
	for i := uint32(0); i < n; i++ {
		var e Export
		if e.Name, err = r.name(); err != nil {
			return nil, err
		}
		if e.Kind, err = r.byte(); err != nil {
			return nil, err
		}
		if e.Index, err = r.u32(); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

type reader struct {
	b []byte
	p int
}

func (r *reader) byte() (byte, error) {
	if r.p >= len(r.b) {
		return 0, ErrTruncated
	}
	c := r.b[r.p]
	r.p++
	return c, nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || r.p+n > len(r.b) {
		return nil, ErrTruncated
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s, nil
}

func (r *reader) skip(n int) error {
	_, err := r.bytes(n)
	return err
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	s, err := r.bytes(int(n))
	return string(s), err
}

// u64 reads an unsigned LEB128 of up to 10 bytes.
func (r *reader) u64() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.p:])
	if n == 0 {
		return 0, ErrTruncated
	}
	if n < 0 {
		return 0, errors.New("malformed LEB128")
	}
	r.p += n
	return v, nil
}

func (r *reader) u32() (uint32, error) {
	v, err := r.u64()
	if err != nil {
		return 0, err
	}
	if v > 0xffffffff {
		return 0, errors.New("LEB128 u32 overflow")
	}
	return uint32(v), nil
}

// sleb skips a signed LEB128 (i32, i64, s33 block types).
func (r *reader) sleb() error {
	for i := 0; i < 10; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return errors.New("malformed signed LEB128")
}

func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err = r.u64(); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.u64()
	}
	return err
}

func (r *reader) memarg() error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 { // multi-memory: memory index follows
		if _, err = r.u32(); err != nil {
			return err
		}
	}
	_, err = r.u64()
	return err
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
