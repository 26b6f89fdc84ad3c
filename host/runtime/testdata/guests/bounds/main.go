// Guest bounds hands the host pointers outside its memory; it emits one
// alert listing the statuses it got back, e.g. "-2,-2,-2".
package main

import (
	"strconv"
	"unsafe"
)

//go:wasmimport tidemark_v1 input_read
func inputRead(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 emit_alert
func emitAlert(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 log
func logMsg(level int32, ptr unsafe.Pointer, n int32) int32

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	bad := unsafe.Pointer(uintptr(0xfffffff0))
	s := []int32{inputRead(bad, n), emitAlert(bad, 64), logMsg(0, bad, 64)}
	msg := strconv.Itoa(int(s[0])) + "," + strconv.Itoa(int(s[1])) + "," + strconv.Itoa(int(s[2]))
	b := []byte(msg)
	return emitAlert(unsafe.Pointer(&b[0]), int32(len(b)))
}

func main() {}
