//go:build wasip1

package tidemark

import "unsafe"

//go:wasmimport tidemark_v1 input_read
func importInputRead(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 emit_alert
func importEmitAlert(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 log
func importLog(level int32, ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 state_get
func importStateGet(kptr unsafe.Pointer, klen int32, bptr unsafe.Pointer, blen int32) int32

//go:wasmimport tidemark_v1 state_set
func importStateSet(kptr unsafe.Pointer, klen int32, vptr unsafe.Pointer, vlen int32) int32

//go:wasmimport tidemark_v1 query
func importQuery(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 query_read
func importQueryRead(ptr unsafe.Pointer, n int32) int32

//go:wasmimport tidemark_v1 clock_now
func importClockNow() int64

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

func stringPtr(s string) unsafe.Pointer {
	if s == "" {
		return nil
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

func hostInputRead(b []byte) int32 { return importInputRead(bytesPtr(b), int32(len(b))) }
func hostEmitAlert(b []byte) int32 { return importEmitAlert(bytesPtr(b), int32(len(b))) }
func hostLog(level int32, msg string) int32 {
	return importLog(level, stringPtr(msg), int32(len(msg)))
}
func hostStateGet(key string, buf []byte) int32 {
	return importStateGet(stringPtr(key), int32(len(key)), bytesPtr(buf), int32(len(buf)))
}
func hostStateSet(key string, val []byte) int32 {
	return importStateSet(stringPtr(key), int32(len(key)), bytesPtr(val), int32(len(val)))
}
func hostQuery(req string) int32   { return importQuery(stringPtr(req), int32(len(req))) }
func hostQueryRead(b []byte) int32 { return importQueryRead(bytesPtr(b), int32(len(b))) }
func hostClockNow() int64          { return importClockNow() }

//go:wasmexport tidemark_init
//lint:ignore U1000 called by the host through go:wasmexport
func exportInit(n int32) int32 { return doInit(n) }

//go:wasmexport tidemark_analyze
//lint:ignore U1000 called by the host through go:wasmexport
func exportAnalyze(n int32) int32 { return doAnalyze(n) }

//go:wasmexport tidemark_state_save
//lint:ignore U1000 called by the host through go:wasmexport
func exportStateSave() int32 { return doStateSave() }

//go:wasmexport tidemark_state_load
//lint:ignore U1000 called by the host through go:wasmexport
func exportStateLoad(n int32) int32 { return doStateLoad(n) }
