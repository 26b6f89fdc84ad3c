//go:build wasip1

package tidemark

import (
	"errors"

	"github.com/tidemark/tidemark/abi"
)

// What the wasm exports do, kept apart from the raw imports and exports.

var (
	inputBuf []byte // grows, never shrinks; 8-byte aligned (Go allocations of ≥ 8 bytes are)
	input    Input
	emitter  Emitter
	alertBuf []byte
)

// readInput copies the current call's input (n bytes) into inputBuf.
func readInput(n int32) ([]byte, int32) {
	if n < 0 {
		return nil, int32(abi.StatusInvalidArgument)
	}
	if int(n) > cap(inputBuf) {
		inputBuf = make([]byte, max(int(n), 2*cap(inputBuf), 64))
	}
	b := inputBuf[:n]
	if n == 0 {
		return b, 0
	}
	if r := hostInputRead(b); r < 0 {
		return nil, r
	} else if r != n {
		return nil, int32(abi.StatusInternal)
	}
	return b, 0
}

func sendAlert(a *abi.Alert) error {
	alertBuf = a.AppendEncode(alertBuf[:0])
	return statusErr("emit_alert", hostEmitAlert(alertBuf))
}

func doInit(n int32) int32 {
	if registered == nil {
		hostLog(abi.LogError, "tidemark: no analyzer registered (call tm.Register in init)")
		return int32(abi.StatusInternal)
	}
	b, st := readInput(n)
	if st < 0 {
		return st
	}
	opts, err := ParseOptions(b)
	if err == nil {
		err = registered.Init(opts)
	}
	if err != nil {
		hostLog(abi.LogError, "init: "+err.Error())
		return int32(abi.StatusInvalidArgument)
	}
	return 0
}

func doAnalyze(n int32) int32 {
	b, st := readInput(n)
	if st < 0 {
		return st
	}
	input.nan = input.nan[:0]
	if err := input.v.Reset(b); err != nil {
		hostLog(abi.LogError, "analyze: "+err.Error())
		return int32(abi.StatusInvalidArgument)
	}
	emitter = Emitter{send: sendAlert, series: input.v.NumSeries(), fields: input.v.NumFields()}
	if err := registered.Analyze(&input, &emitter); err != nil {
		hostLog(abi.LogError, "analyze: "+err.Error())
		if errors.Is(err, ErrTooManyAlerts) {
			// As the Rust and AssemblyScript SDKs do: the limit, not a bug.
			return int32(abi.StatusLimitExceeded)
		}
		return int32(abi.StatusInternal)
	}
	return 0
}

func doStateSave() int32 {
	s, ok := registered.(StateSaver)
	if !ok {
		return 0
	}
	blob, err := s.SaveState()
	if err != nil {
		hostLog(abi.LogError, "state save: "+err.Error())
		return int32(abi.StatusInternal)
	}
	if len(blob) == 0 {
		return 0
	}
	return hostStateSet("", blob)
}

func doStateLoad(n int32) int32 {
	s, ok := registered.(StateSaver)
	if !ok {
		return 0
	}
	b, st := readInput(n)
	if st < 0 {
		return st
	}
	if err := s.LoadState(append([]byte(nil), b...)); err != nil {
		hostLog(abi.LogError, "state load: "+err.Error())
		return int32(abi.StatusInvalidArgument)
	}
	return 0
}
