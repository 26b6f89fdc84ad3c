// Guest loop never returns from analyze.
package main

import "unsafe"

//go:wasmimport tidemark_v1 log
func logMsg(level int32, ptr unsafe.Pointer, n int32) int32

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

var sink int

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	if n == 0 { // an empty input is the "recreated instance works" probe
		return 0
	}
	msg := []byte("looping")
	logMsg(0, unsafe.Pointer(&msg[0]), int32(len(msg)))
	for i := 0; ; i++ {
		sink += i
	}
}

func main() {}
