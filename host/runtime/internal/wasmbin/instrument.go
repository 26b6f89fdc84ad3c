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
	// LoopCounter counts loop iterations in a local and tests the flag only
	// on the slow path; without it every loop header tests the flag (one
	// global load) and only function entries count towards a yield.
	LoopCounter bool
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

// Instrument returns a copy of the module with deadline checks that are
// cheap on the hot path and yield to the Go runtime now and then:
//
//   - at every loop header, a counter in a new local of the function:
//     local.get $n; i32.const 1; i32.add; local.tee $n; i32.const E-1;
//     i32.and; i32.eqz; if <slow> end — a few register operations;
//   - at every function entry, the same with a new global counter (so that
//     many calls of a function with short loops also reach the slow path);
//   - the slow path, once every E = YieldEvery counts:
//     i32.const 0; memory.grow 0; drop     ;; exits to Go: GC may stop us
//     global.get $flag; if unreachable end ;; the deadline timer's flag
//
// The yield matters: compiled wasm cannot be preempted, so without it a
// long call blocks every stop-the-world in the process, including the one
// the deadline timer may be waiting behind. The new globals are appended
// after the existing ones and the new local after the existing locals, so
// no existing index changes.
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
	var slow []byte
	slow = append(slow, 0x41, 0x00, 0x40, 0x00, 0x1a)
	slow = appendU32(append(slow, 0x23), flag)
	slow = append(slow, 0x04, 0x40, 0x00, 0x0b)
	mask := appendS32([]byte{0x41}, int32(every-1))
	var entry []byte
	entry = appendU32(append(entry, 0x23), count)
	entry = append(entry, 0x41, 0x01, 0x6a)
	entry = appendU32(append(entry, 0x24), count)
	entry = appendU32(append(entry, 0x23), count)
	entry = append(entry, mask...)
	entry = append(entry, 0x71, 0x45, 0x04, 0x40)
	entry = append(entry, slow...)
	entry = append(entry, 0x0b)
	fn := &funcChecks{entry: entry, mask: mask, slow: slow, opt: opt, flag: flag}
	if fn.params, fn.typeParams, err = paramCounts(m); err != nil {
		return nil, st, err
	}

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
			code, err := instrumentCode(s.raw, fn, &st)
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

// funcChecks holds what every function body gets.
type funcChecks struct {
	entry, mask, slow []byte
	params            []uint32 // parameter count of each defined function
	typeParams        []uint32 // parameter count of each type
	flag              uint32
	opt               Options
}

// loopHasNoParams reports whether a loop's block type takes no parameters,
// so that a `br` to the loop is valid from inside the check.
func (fc *funcChecks) loopHasNoParams(bt []byte) bool {
	if len(bt) == 0 {
		return false
	}
	if c := bt[0]; c == 0x40 || (c >= 0x6f && c <= 0x7f) {
		return true // empty, or a single result type
	}
	r := reader{b: bt}
	idx, err := r.u32()
	return err == nil && int(idx) < len(fc.typeParams) && fc.typeParams[idx] == 0
}

// paramCounts maps each defined function to its parameter count, from the
// type, import and function sections (the new local's index follows the
// parameters and the existing locals).
func paramCounts(m *Module) (funcs, types []uint32, err error) {
	var typeParams []uint32
	var funcTypes []uint32
	for _, s := range m.Sections {
		switch s.ID {
		case 1:
			r := reader{b: s.raw}
			n, err := r.u32()
			if err != nil {
				return nil, nil, fmt.Errorf("type section: %w", err)
			}
			for i := uint32(0); i < n; i++ {
				if form, err := r.byte(); err != nil || form != 0x60 {
					return nil, nil, fmt.Errorf("type section: type %d is not a plain function type", i)
				}
				np, err := r.u32()
				if err != nil || r.skip(int(np)) != nil {
					return nil, nil, fmt.Errorf("type section: type %d: truncated", i)
				}
				nr, err := r.u32()
				if err != nil || r.skip(int(nr)) != nil {
					return nil, nil, fmt.Errorf("type section: type %d: truncated", i)
				}
				typeParams = append(typeParams, np)
			}
		case 3:
			r := reader{b: s.raw}
			n, err := r.u32()
			if err != nil {
				return nil, nil, fmt.Errorf("function section: %w", err)
			}
			for i := uint32(0); i < n; i++ {
				t, err := r.u32()
				if err != nil {
					return nil, nil, fmt.Errorf("function section: %w", err)
				}
				funcTypes = append(funcTypes, t)
			}
		}
	}
	out := make([]uint32, len(funcTypes))
	for i, t := range funcTypes {
		if int(t) >= len(typeParams) {
			return nil, nil, fmt.Errorf("function %d: type %d out of range", i, t)
		}
		out[i] = typeParams[t]
	}
	return out, typeParams, nil
}

func instrumentCode(b []byte, fc *funcChecks, st *Stats) ([]byte, error) {
	r := reader{b: b}
	n, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("code section: %w", err)
	}
	if int(n) != len(fc.params) {
		return nil, fmt.Errorf("code section has %d bodies for %d functions", n, len(fc.params))
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	out = appendU32(out, n)
	var body, scratch []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", i, err)
		}
		fb, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", i, err)
		}
		body, scratch, err = instrumentBody(body[:0], scratch[:0], fb, fc.params[i], fc, st)
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", i, err)
		}
		st.Functions++
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

func instrumentBody(out, code, b []byte, params uint32, fc *funcChecks, st *Stats) ([]byte, []byte, error) {
	r := reader{b: b}
	groups, err := r.u32()
	if err != nil {
		return nil, nil, err
	}
	groupsEnd := r.p
	locals := uint64(params)
	for j := uint32(0); j < groups; j++ {
		c, err := r.u32()
		if err != nil {
			return nil, nil, err
		}
		if _, err := r.byte(); err != nil {
			return nil, nil, err
		}
		locals += uint64(c)
	}
	if locals >= 50000 { // wazero's limit is 50,000 locals per function
		return nil, nil, fmt.Errorf("too many locals (%d) to add a loop counter", locals)
	}
	counter := appendU32(nil, uint32(locals)) // index of the new local
	declEnd := r.p
	loops := 0
	start := r.p
	for r.p < len(r.b) {
		op, at := r.b[r.p], r.p
		if err := r.skipInstr(); err != nil {
			return nil, nil, fmt.Errorf("at byte %d (opcode 0x%02x): %w", r.p, op, err)
		}
		if op == 0x03 && !fc.opt.LoopCounter { // loop: flag test only
			code = append(code, b[start:r.p]...)
			code = appendU32(append(code, 0x23), fc.flag)
			code = append(code, 0x04, 0x40, 0x00, 0x0b)
			start = r.p
			loops++
			continue
		}
		if op == 0x03 { // loop: check at the header, every iteration
			code = append(code, b[start:r.p]...)
			code = append(code, 0x20)
			code = append(code, counter...)
			code = append(code, 0x41, 0x01, 0x6a, 0x22)
			code = append(code, counter...)
			code = append(code, fc.mask...)
			code = append(code, 0x71, 0x45, 0x04, 0x40)
			code = append(code, fc.slow...)
			if fc.loopHasNoParams(b[at+1 : r.p]) {
				// restart the iteration instead of falling through: the
				// code after the check then has a single predecessor, and
				// wazero keeps its cached memory base and globals there
				// (a merge point costs about 30% on a tight Go loop)
				code = append(code, 0x0c, 0x01)
			}
			code = append(code, 0x0b)
			start = r.p
			loops++
		}
	}
	code = append(code, b[start:]...)
	st.Loops += loops
	st.Checks += loops
	if loops > 0 && fc.opt.LoopCounter {
		out = appendU32(out, groups+1)
		out = append(out, b[groupsEnd:declEnd]...)
		out = append(out, 0x01, 0x7f) // one i32: the loop counter
	} else {
		out = append(out, b[:declEnd]...)
	}
	if fc.opt.FunctionEntry {
		out = append(out, fc.entry...)
		st.Checks++
	}
	return append(out, code...), code, nil
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
