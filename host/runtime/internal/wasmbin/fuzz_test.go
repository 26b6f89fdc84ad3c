package wasmbin

import "testing"

// FuzzInstrument: plugin files are untrusted input; parsing and rewriting
// must fail with an error, never panic.
func FuzzInstrument(f *testing.F) {
	f.Add(tiny)
	f.Add(tiny[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Parse(b); err != nil {
			return
		}
		_, _, _ = Instrument(b, Options{FunctionEntry: true, LoopCounter: true})
	})
}
