// Guest ok reads the whole input and emits one alert "v=<version> len=<n> calls=<c>".
// Its call counter is saved and restored across hot reloads.
package main

import (
	"strconv"
	"unsafe"
)

//go:wasmimport tidemark_v1 input_read
func inputRead(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 emit_alert
func emitAlert(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 state_set
func stateSet(kp unsafe.Pointer, kn int32, vp unsafe.Pointer, vn int32) int32

// version is set with -ldflags=-X main.version=... to build distinct modules.
var version = "1"

var (
	buf   []byte
	calls uint64
)

func read(n int32) int32 {
	if int(n) > cap(buf) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if n == 0 {
		return 0
	}
	return inputRead(unsafe.Pointer(&buf[0]), n)
}

//go:wasmexport tidemark_init
func initialize(n int32) int32 {
	if r := read(n); r < 0 {
		return r
	}
	return 0
}

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	if r := read(n); r < 0 {
		return r
	}
	calls++
	msg := []byte("v=" + version + " len=" + strconv.Itoa(int(n)) + " calls=" + strconv.FormatUint(calls, 10))
	return emitAlert(unsafe.Pointer(&msg[0]), int32(len(msg)))
}

//go:wasmexport tidemark_state_save
func stateSave() int32 {
	v := []byte(strconv.FormatUint(calls, 10))
	var k byte
	return stateSet(unsafe.Pointer(&k), 0, unsafe.Pointer(&v[0]), int32(len(v)))
}

//go:wasmexport tidemark_state_load
func stateLoad(n int32) int32 {
	if r := read(n); r < 0 {
		return r
	}
	c, err := strconv.ParseUint(string(buf), 10, 64)
	if err != nil {
		return -1
	}
	calls = c
	return 0
}

func main() {}
