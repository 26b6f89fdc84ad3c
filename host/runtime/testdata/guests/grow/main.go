// Guest grow allocates memory until the host's cap stops it.
package main

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

var hold [][]byte

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	if n == 0 { // an empty input is the "recreated instance works" probe
		return 0
	}
	for {
		b := make([]byte, 8<<20)
		b[len(b)-1] = 1
		hold = append(hold, b)
	}
}

func main() {}
