// Guest compute is compute-heavy: the median and MAD of every series of 30
// float64 values in the input (series-major), counted into one alert.
package main

import (
	"math"
	"unsafe"
)

//go:wasmimport tidemark_v1 input_read
func inputRead(ptr unsafe.Pointer, n int32) int32

const history = 30

var (
	buf     []float64
	scratch [history]float64
	Result  float64
)

//go:wasmexport tidemark_init
func initialize(n int32) int32 { return 0 }

func median(v []float64) float64 {
	for i := 1; i < len(v); i++ { // insertion sort: 30 values
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

//go:wasmexport tidemark_analyze
func analyze(n int32) int32 {
	count := int(n) / 8
	if count > cap(buf) {
		buf = make([]float64, count)
	}
	buf = buf[:count]
	if count == 0 {
		return 0
	}
	if r := inputRead(unsafe.Pointer(&buf[0]), n); r < 0 {
		return r
	}
	var sum float64
	for s := 0; s+history <= len(buf); s += history {
		v := scratch[:]
		copy(v, buf[s:s+history])
		med := median(v)
		for i, x := range buf[s : s+history] {
			v[i] = math.Abs(x - med)
		}
		sum += median(v)
	}
	Result = sum
	return 0
}

func main() {}
