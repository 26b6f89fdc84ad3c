// Guest abiv2 needs a host ABI major version that does not exist.
package main

import "unsafe"

//go:wasmimport tidemark_v2 input_read
func inputRead(ptr unsafe.Pointer, n int32) int32

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	var b [8]byte
	return inputRead(unsafe.Pointer(&b[0]), 8)
}

func main() {}
