// Guest loop never returns from analyze.
package main

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

var sink int

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	if n == 0 { // an empty input is the "recreated instance works" probe
		return 0
	}
	for i := 0; ; i++ {
		sink += i
	}
}

func main() {}
