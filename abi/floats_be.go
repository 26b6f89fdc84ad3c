//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package abi

import "math"

func putFloats(dst []byte, src []float64) {
	for i, v := range src {
		le.PutUint64(dst[8*i:], math.Float64bits(v))
	}
}

func viewFloats(b []byte) []float64 { return copyFloats(b) }
