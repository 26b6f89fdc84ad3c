package runtime

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// HostHandler receives what a guest asks of the host. Calls for one instance
// are serial; different instances call concurrently. Byte slices passed in
// are copies the handler may keep.
type HostHandler interface {
	EmitAlert(raw []byte) error
	Log(level int, msg string)
	StateGet(key string) ([]byte, bool)
	StateSet(key string, val []byte) error
	Query(req []byte) ([]byte, error)
}

// Capabilities an instance may be granted.
const (
	CapQuery = "query"
	CapClock = "clock"
)

// Bounds on what a guest can hand the host in one host call.
const (
	maxKeyLen   = 256
	maxStateLen = 1 << 20
	maxLogLen   = 4 << 10
	maxAlertLen = 1 << 20
)

type hostFunc struct {
	params, results []api.ValueType
	fn              func(in *Instance, mem api.Memory, stack []uint64)
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

var hostFunctions = map[string]hostFunc{
	"input_read": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, func(in *Instance, mem api.Memory, s []uint64) {
		s[0] = status(copyOut(mem, uint32(s[0]), uint32(s[1]), in.input))
	}},
	"query_read": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, func(in *Instance, mem api.Memory, s []uint64) {
		if !in.caps.query {
			s[0] = status(StatusPermission)
			return
		}
		s[0] = status(copyOut(mem, uint32(s[0]), uint32(s[1]), in.queryResult))
	}},
	"emit_alert": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, func(in *Instance, mem api.Memory, s []uint64) {
		b, st := copyIn(mem, uint32(s[0]), uint32(s[1]), maxAlertLen)
		if st == StatusOK {
			st = in.handlerStatus("emit_alert", in.host.EmitAlert(b))
		}
		s[0] = status(st)
	}},
	"log": {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}, func(in *Instance, mem api.Memory, s []uint64) {
		n := min(uint32(s[2]), maxLogLen) // longer messages are cut, not refused
		b, st := copyIn(mem, uint32(s[1]), n, maxLogLen)
		if st == StatusOK {
			in.host.Log(int(int32(s[0])), string(b))
		}
		s[0] = status(st)
	}},
	"state_get": {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, func(in *Instance, mem api.Memory, s []uint64) {
		key, st := copyIn(mem, uint32(s[0]), uint32(s[1]), maxKeyLen)
		if st != StatusOK {
			s[0] = status(st)
			return
		}
		val, ok := in.host.StateGet(string(key))
		if !ok {
			s[0] = status(StatusNotFound)
			return
		}
		if _, ok := mem.Read(uint32(s[2]), uint32(s[3])); !ok {
			s[0] = status(StatusOutOfBounds)
			return
		}
		buf, _ := mem.Read(uint32(s[2]), uint32(s[3]))
		copy(buf, val)
		s[0] = status(int32(len(val))) // may exceed buf_len: the guest calls again
	}},
	"state_set": {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, func(in *Instance, mem api.Memory, s []uint64) {
		key, st := copyIn(mem, uint32(s[0]), uint32(s[1]), maxKeyLen)
		if st != StatusOK {
			s[0] = status(st)
			return
		}
		val, st := copyIn(mem, uint32(s[2]), uint32(s[3]), maxStateLen)
		if st != StatusOK {
			s[0] = status(st)
			return
		}
		if len(key) == 0 { // the hot-reload blob, only during tidemark_state_save
			if !in.saving {
				s[0] = status(StatusInvalidArgument)
				return
			}
			in.saved = val
			s[0] = status(StatusOK)
			return
		}
		s[0] = status(in.handlerStatus("state_set", in.host.StateSet(string(key), val)))
	}},
	"query": {[]api.ValueType{i32, i32}, []api.ValueType{i32}, func(in *Instance, mem api.Memory, s []uint64) {
		if !in.caps.query {
			s[0] = status(StatusPermission)
			return
		}
		req, st := copyIn(mem, uint32(s[0]), uint32(s[1]), maxStateLen)
		if st != StatusOK {
			s[0] = status(st)
			return
		}
		res, err := in.host.Query(req)
		if st := in.handlerStatus("query", err); st != StatusOK {
			s[0] = status(st)
			return
		}
		if len(res) > math.MaxInt32 {
			s[0] = status(StatusLimitExceeded)
			return
		}
		in.queryResult = res
		s[0] = status(int32(len(res)))
	}},
	"clock_now": {nil, []api.ValueType{i64}, func(in *Instance, _ api.Memory, s []uint64) {
		if !in.caps.clock {
			denied := int64(StatusPermission)
			s[0] = uint64(denied)
			return
		}
		s[0] = uint64(time.Now().UnixNano())
	}},
}

func status(s int32) uint64 { return uint64(uint32(s)) }

// copyOut copies src into guest memory [ptr, ptr+n) and returns the number
// of bytes copied, or OUT_OF_BOUNDS when the range is not in memory.
func copyOut(mem api.Memory, ptr, n uint32, src []byte) int32 {
	n = min(n, uint32(len(src)))
	dst, ok := mem.Read(ptr, n)
	if !ok {
		return StatusOutOfBounds
	}
	return int32(copy(dst, src))
}

// copyIn copies guest memory [ptr, ptr+n) out, refusing more than limit.
func copyIn(mem api.Memory, ptr, n, limit uint32) ([]byte, int32) {
	if n > limit {
		return nil, StatusLimitExceeded
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		return nil, StatusOutOfBounds
	}
	return append([]byte(nil), b...), StatusOK
}

// handlerStatus maps a handler error to a status, logging it.
func (in *Instance) handlerStatus(fn string, err error) int32 {
	if err == nil {
		return StatusOK
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	in.log.Warn("host handler failed", "func", fn, "err", err)
	return StatusUnavailable
}

// StatusError lets a HostHandler choose the status the guest sees.
type StatusError struct {
	Status int32
	Err    error
}

func (e *StatusError) Error() string { return StatusText(e.Status) + ": " + e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

type instanceKey struct{}

func instantiateHostModule(ctx context.Context, wz wazero.Runtime) error {
	b := wz.NewHostModuleBuilder(ABIModule)
	for name, hf := range hostFunctions {
		fn := hf.fn
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			in, _ := ctx.Value(instanceKey{}).(*Instance)
			if in == nil { // called outside a host-driven call: refuse, never panic
				stack[0] = status(StatusUnavailable)
				return
			}
			fn(in, mod.Memory(), stack)
		}), hf.params, hf.results).Export(name)
	}
	_, err := b.Instantiate(ctx)
	return err
}
