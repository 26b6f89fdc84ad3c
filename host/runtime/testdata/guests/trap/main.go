// Guest trap dereferences a nil pointer in analyze.
package main

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

type point struct{ v int32 }

var p *point

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	if n == 0 { // an empty input is the "recreated instance works" probe
		return 0
	}
	return p.v
}

func main() {}
