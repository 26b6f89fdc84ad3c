// Guest query calls the query capability and returns its status if negative.
package main

import "unsafe"

//go:wasmimport tidemark_v1 query
func query(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 query_read
func queryRead(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 emit_alert
func emitAlert(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 clock_now
func clockNow() int64

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	req := []byte("select 1")
	r := query(unsafe.Pointer(&req[0]), int32(len(req)))
	if r < 0 {
		return r
	}
	res := make([]byte, r+1)
	if got := queryRead(unsafe.Pointer(&res[0]), r); got != r {
		return -7
	}
	if c := clockNow(); c < 0 {
		return int32(c)
	}
	return emitAlert(unsafe.Pointer(&res[0]), r)
}

func main() {}
