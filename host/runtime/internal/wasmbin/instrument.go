package wasmbin

import (
	"fmt"
)

// InterruptExport is the name under which Instrument exports the interrupt
// flag, a mutable i32 global: non-zero makes the guest trap at the next check.
const InterruptExport = "tidemark.interrupt"

// Options choose where checks go.
type Options struct {
	// FunctionEntry adds a check at every function entry, which bounds
	// loop-free recursion too; loop headers are always checked.
	FunctionEntry bool
	// YieldEvery (a power of two) is how many checks pass between two
	// yields to the Go scheduler; 0 means DefaultYieldEvery.
	YieldEvery uint32
}

// DefaultYieldEvery balances the cost of a yield (an exit from compiled
// code to Go and back, about 100 ns) against how long the guest can keep
// the Go runtime from stopping the world for GC.
const DefaultYieldEvery = 1 << 14

// Stats counts what Instrument inserted.
type Stats struct {
	Functions, Loops, Checks int
}

// Instrument returns a copy of the module whose code, at every loop header
// (and function entry if asked), counts in a new global and, every
// YieldEvery checks, yields to the Go runtime and tests an exported flag:
//
//	global.get $count; i32.const 1; i32.add; global.set $count
//	global.get $count; i32.const YieldEvery-1; i32.and; i32.eqz
//	if
//	  i32.const 0; memory.grow 0; drop   ;; exits to Go: GC can stop us here
//	  global.get $flag; if unreachable end
//	end
//
// The yield matters: compiled wasm cannot be preempted, so without it a
// long call blocks every stop-the-world in the process, including the one
// the deadline timer may be waiting behind. The flag and counter globals are
// appended after all existing globals, so no existing index changes.
func Instrument(b []byte, opt Options) ([]byte, Stats, error) {
	var st Stats
	m, err := Parse(b)
	if err != nil {
		return nil, st, err
	}
	for _, e := range m.Exports {
		if e.Name == InterruptExport {
			return nil, st, fmt.Errorf("module already exports %q", InterruptExport)
		}
	}
	var importedGlobals uint32
	for _, im := range m.Imports {
		if im.Kind == 3 {
			importedGlobals++
		}
	}
	var definedGlobals uint32
	for _, s := range m.Sections {
		if s.ID == secGlobal {
			r := reader{b: s.raw}
			if definedGlobals, err = r.u32(); err != nil {
				return nil, st, fmt.Errorf("global section: %w", err)
			}
		}
	}
	every := opt.YieldEvery
	if every == 0 {
		every = DefaultYieldEvery
	}
	if every&(every-1) != 0 || every > 1<<30 {
		return nil, st, fmt.Errorf("YieldEvery %d is not a power of two up to 2^30", every)
	}
	flag := importedGlobals + definedGlobals
	count := flag + 1
	var check []byte
	check = appendU32(append(check, 0x23), count)
	check = append(check, 0x41, 0x01, 0x6a)
	check = appendU32(append(check, 0x24), count)
	check = appendU32(append(check, 0x23), count)
	check = appendS32(append(check, 0x41), int32(every-1))
	check = append(check, 0x71, 0x45, 0x04, 0x40)
	check = append(check, 0x41, 0x00, 0x40, 0x00, 0x1a)
	check = appendU32(append(check, 0x23), flag)
	check = append(check, 0x04, 0x40, 0x00, 0x0b, 0x0b)

	out := make([]byte, 0, len(b)+len(b)/8)
	out = append(out, magic...)
	wroteGlobal, wroteExport := false, false
	emit := func(id byte, payload []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(payload)))
		out = append(out, payload...)
	}
	newGlobal := func() []byte {
		p := appendU32(nil, definedGlobals+2)
		for _, s := range m.Sections {
			if s.ID == secGlobal {
				r := reader{b: s.raw}
				_, _ = r.u32()
				p = append(p, s.raw[r.p:]...)
			}
		}
		// flag and counter: i32, mutable, init i32.const 0
		return append(p, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b)
	}
	newExport := func() []byte {
		p := appendU32(nil, uint32(len(m.Exports)+1))
		for _, s := range m.Sections {
			if s.ID == secExport {
				r := reader{b: s.raw}
				_, _ = r.u32()
				p = append(p, s.raw[r.p:]...)
			}
		}
		p = appendU32(p, uint32(len(InterruptExport)))
		p = append(p, InterruptExport...)
		p = append(p, 0x03)
		return appendU32(p, flag)
	}
	for _, s := range m.Sections {
		if s.ID != secCustom {
			if !wroteGlobal && order(s.ID) > order(secGlobal) {
				emit(secGlobal, newGlobal())
				wroteGlobal = true
			}
			if !wroteExport && order(s.ID) > order(secExport) {
				emit(secExport, newExport())
				wroteExport = true
			}
		}
		switch s.ID {
		case secGlobal:
			emit(secGlobal, newGlobal())
			wroteGlobal = true
		case secExport:
			if !wroteGlobal {
				emit(secGlobal, newGlobal())
				wroteGlobal = true
			}
			emit(secExport, newExport())
			wroteExport = true
		case secCode:
			code, err := instrumentCode(s.raw, check, opt, &st)
			if err != nil {
				return nil, st, err
			}
			emit(secCode, code)
		default:
			emit(s.ID, s.raw)
		}
	}
	if !wroteGlobal {
		emit(secGlobal, newGlobal())
	}
	if !wroteExport {
		emit(secExport, newExport())
	}
	return out, st, nil
}

// order is a section's position in the binary: the tag (13) section sits
// before globals and datacount (12) before code.
func order(id byte) int {
	switch id {
	case 13:
		return 55
	case 12:
		return 95
	}
	return int(id) * 10
}

func instrumentCode(b, check []byte, opt Options, st *Stats) ([]byte, error) {
	r := reader{b: b}
	n, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("code section: %w", err)
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	out = appendU32(out, n)
	var body []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", i, err)
		}
		fb, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", i, err)
		}
		body, err = instrumentBody(body[:0], fb, check, opt, st)
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", i, err)
		}
		st.Functions++
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

func instrumentBody(out, b, check []byte, opt Options, st *Stats) ([]byte, error) {
	r := reader{b: b}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	for j := uint32(0); j < groups; j++ {
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		if _, err := r.byte(); err != nil {
			return nil, err
		}
	}
	out = append(out, b[:r.p]...)
	if opt.FunctionEntry {
		out = append(out, check...)
		st.Checks++
	}
	start := r.p
	for r.p < len(r.b) {
		op := r.b[r.p]
		if err := r.skipInstr(); err != nil {
			return nil, fmt.Errorf("at byte %d (opcode 0x%02x): %w", r.p, op, err)
		}
		if op == 0x03 { // loop: check at the header, every iteration
			out = append(out, b[start:r.p]...)
			out = append(out, check...)
			start = r.p
			st.Loops++
			st.Checks++
		}
	}
	return append(out, b[start:]...), nil
}

// skipInstr advances past one instruction and its immediates.
func (r *reader) skipInstr() error {
	op, err := r.byte()
	if err != nil {
		return err
	}
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if: block type
		return r.sleb()
	case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || // br, br_if, call, return_call
		(op >= 0x20 && op <= 0x26) || op == 0x3f || op == 0x40 || op == 0xd2 || op == 0x08:
		_, err = r.u32()
		return err
	case op == 0x0e: // br_table
		n, err := r.u32()
		if err != nil {
			return err
		}
		for i := uint32(0); i <= n; i++ {
			if _, err := r.u32(); err != nil {
				return err
			}
		}
		return nil
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		if _, err = r.u32(); err != nil {
			return err
		}
		_, err = r.u32()
		return err
	case op == 0x1c: // select t*
		n, err := r.u32()
		if err != nil {
			return err
		}
		return r.skip(int(n))
	case op >= 0x28 && op <= 0x3e:
		return r.memarg()
	case op == 0x41 || op == 0x42:
		return r.sleb()
	case op == 0x43:
		return r.skip(4)
	case op == 0x44:
		return r.skip(8)
	case op == 0xd0: // ref.null heaptype
		return r.sleb()
	case op == 0xfc:
		return r.skipFC()
	case op == 0xfd:
		return r.skipFD()
	case op == 0xfe:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		if sub == 0x03 { // atomic.fence
			return r.skip(1)
		}
		return r.memarg()
	case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b ||
		(op >= 0x45 && op <= 0xc4) || op == 0xd1:
		return nil
	}
	return fmt.Errorf("unsupported opcode 0x%02x", op)
}

func (r *reader) skipFC() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncations
		return nil
	case sub == 8 || sub == 10 || sub == 12 || sub == 14: // two indices
		if _, err = r.u32(); err != nil {
			return err
		}
		_, err = r.u32()
		return err
	case sub <= 17: // one index
		_, err = r.u32()
		return err
	}
	return fmt.Errorf("unsupported opcode 0xfc %d", sub)
}

func (r *reader) skipFD() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 11 || sub == 92 || sub == 93: // loads/stores
		return r.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		return r.skip(16)
	case sub >= 21 && sub <= 34: // extract/replace lane
		return r.skip(1)
	case sub >= 84 && sub <= 91: // load/store lane
		if err := r.memarg(); err != nil {
			return err
		}
		return r.skip(1)
	case sub <= 0x113:
		return nil
	}
	return fmt.Errorf("unsupported opcode 0xfd %d", sub)
}
