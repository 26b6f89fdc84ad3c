package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

var wasmHeader = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// section is one wasm section found by walkSections.
type section struct {
	id         byte
	start, end int    // the whole section, id byte included
	name       string // custom sections only
	payload    []byte // custom section payload after the name
}

// walkSections lists a module's sections without decoding them.
func walkSections(wasm []byte) ([]section, error) {
	if !bytes.HasPrefix(wasm, wasmHeader) {
		return nil, errors.New("abi: not a wasm core module (bad magic or version)")
	}
	var out []section
	p := len(wasmHeader)
	for p < len(wasm) {
		start := p
		id := wasm[p]
		size, n, err := readU32(wasm[p+1:])
		if err != nil {
			return nil, fmt.Errorf("abi: section at %d: %w", start, err)
		}
		body := p + 1 + n
		end := body + int(size)
		if uint64(body)+uint64(size) > uint64(len(wasm)) {
			return nil, fmt.Errorf("abi: section %d at %d runs past the end of the module", id, start)
		}
		s := section{id: id, start: start, end: end}
		if id == 0 {
			nl, m, err := readU32(wasm[body:end])
			if err != nil || uint64(body+m)+uint64(nl) > uint64(end) {
				return nil, fmt.Errorf("abi: custom section at %d has a bad name", start)
			}
			s.name = string(wasm[body+m : body+m+int(nl)])
			s.payload = wasm[body+m+int(nl) : end]
		}
		out = append(out, s)
		p = end
	}
	return out, nil
}

func readU32(b []byte) (uint32, int, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("truncated LEB128")
		}
		c := b[i]
		if i == 4 && c > 0x0f {
			return 0, 0, errors.New("LEB128 u32 overflows")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("LEB128 u32 too long")
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

// ReadManifest finds and parses the manifest custom section of a module
// without compiling or instantiating it.
func ReadManifest(wasm []byte) (*Manifest, error) {
	secs, err := walkSections(wasm)
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		if s.id == 0 && s.name == ManifestSection {
			if len(s.payload) > MaxManifestBytes {
				return nil, fmt.Errorf("abi: manifest is %d bytes, over %d", len(s.payload), MaxManifestBytes)
			}
			return ParseManifest(s.payload)
		}
	}
	return nil, ErrNoManifest
}

// AppendManifest returns a copy of wasm with m as its manifest custom
// section, replacing any earlier one (Go cannot emit custom sections, so
// the build appends it afterwards).
func AppendManifest(wasm []byte, m *Manifest) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("abi: manifest: %w", err)
	}
	if len(payload) > MaxManifestBytes {
		return nil, fmt.Errorf("abi: manifest is %d bytes, over %d", len(payload), MaxManifestBytes)
	}
	secs, err := walkSections(wasm)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(wasm)+len(payload)+32)
	out = append(out, wasmHeader...)
	for _, s := range secs {
		if s.id == 0 && s.name == ManifestSection {
			continue
		}
		out = append(out, wasm[s.start:s.end]...)
	}
	var body []byte
	body = appendU32(body, uint32(len(ManifestSection)))
	body = append(body, ManifestSection...)
	body = append(body, payload...)
	out = append(out, 0)
	out = appendU32(out, uint32(len(body)))
	return append(out, body...), nil
}
