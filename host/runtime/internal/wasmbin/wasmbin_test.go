package wasmbin

import (
	"bytes"
	"errors"
	"testing"
)

// tiny is (module (func (export "f") (loop (br 0))) (memory 1)): hand-assembled.
var tiny = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
	0x03, 0x02, 0x01, 0x00, // func 0: type 0
	0x05, 0x03, 0x01, 0x00, 0x01, // memory min 1
	0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00, // export "f" func 0
	0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // code
	0x00, 0x04, 0x01, 'x', 'y', 'z', // custom "x" = "yz"
}

func TestParse(t *testing.T) {
	m, err := Parse(tiny)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Exports) != 1 || m.Exports[0].Name != "f" {
		t.Fatalf("exports = %+v", m.Exports)
	}
	if p, ok := m.Custom("x"); !ok || string(p) != "yz" {
		t.Fatalf("custom x = %q %v", p, ok)
	}
	if _, _, err := Instrument(tiny, Options{YieldEvery: 3}); err == nil {
		t.Fatal("YieldEvery 3 accepted")
	}
	if _, err := Parse(tiny[:len(tiny)-3]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: err = %v", err)
	}
	if _, err := Parse([]byte("#!/bin/sh\necho hi\n")); !errors.Is(err, ErrNotWasm) {
		t.Fatalf("not wasm: err = %v", err)
	}
}

func TestInstrumentAddsGlobalsLocalAndChecks(t *testing.T) {
	out, st, err := Instrument(tiny, Options{FunctionEntry: true, LoopCounter: true, YieldEvery: 1 << 14})
	if err != nil {
		t.Fatal(err)
	}
	if st.Loops != 1 || st.Checks != 2 || st.Functions != 1 {
		t.Fatalf("stats = %+v", st)
	}
	m, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range m.Exports {
		found = found || (e.Name == InterruptExport && e.Kind == 3 && e.Index == 0)
	}
	if !found {
		t.Fatalf("exports = %+v", m.Exports)
	}
	// the function body: one added i32 local, then the entry check on
	// global 1, the loop, and the loop check on local 0
	body := []byte{0x01, 0x01, 0x7f}
	body = append(body, 0x23, 0x01, 0x41, 0x01, 0x6a, 0x24, 0x01, 0x23, 0x01, 0x41, 0xff, 0xff, 0x00, 0x71, 0x45, 0x04, 0x40)
	slow := []byte{0x41, 0x00, 0x40, 0x00, 0x1a, 0x23, 0x00, 0x04, 0x40, 0x00, 0x0b}
	body = append(append(body, slow...), 0x0b)
	body = append(body, 0x03, 0x40)
	body = append(body, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00, 0x41, 0xff, 0xff, 0x00, 0x71, 0x45, 0x04, 0x40)
	body = append(append(body, slow...), 0x0c, 0x01, 0x0b) // restart the iteration after a yield
	body = append(body, 0x0c, 0x00, 0x0b, 0x0b)
	if !bytes.Contains(out, body) {
		t.Fatalf("instrumented body not found in % x", out)
	}
}
