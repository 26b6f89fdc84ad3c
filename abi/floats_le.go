//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package abi

import "unsafe"

func putFloats(dst []byte, src []float64) {
	if len(src) == 0 {
		return
	}
	copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), 8*len(src)))
}

// viewFloats returns b as []float64 without copying when b is 8-byte
// aligned, else a copy.
func viewFloats(b []byte) []float64 {
	n := len(b) / 8
	if n == 0 {
		return nil
	}
	p := unsafe.Pointer(&b[0])
	if uintptr(p)%8 == 0 {
		return unsafe.Slice((*float64)(p), n)
	}
	return copyFloats(b)
}
