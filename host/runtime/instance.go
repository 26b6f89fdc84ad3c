package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/tidemark/tidemark/host/runtime/internal/wasmbin"
)

// InstanceConfig configures one analyzer instance.
type InstanceConfig struct {
	Name         string   // instance name: logs, errors, argv[0]
	Options      []byte   // handed to tidemark_init
	Capabilities []string // CapQuery, CapClock
	Host         HostHandler
}

type capabilities struct{ query, clock bool }

// Instance is one wasm instance of a module. Its calls are serial.
type Instance struct {
	mu      sync.Mutex
	name    string
	module  *Module
	mod     api.Module
	log     *slog.Logger
	host    HostHandler
	caps    capabilities
	output  *ring
	analyze api.Function
	stack   []uint64
	broken  error // set when a call left the instance unusable

	// per call, only touched by the calling goroutine and host functions
	input       []byte
	queryResult []byte
	saving      bool
	saved       []byte

	// deadline by interrupt flag
	flag     api.MutableGlobal
	flagMu   sync.Mutex
	armed    bool
	fired    bool
	deadline deadlineMode
}

// Instantiate creates an instance: WASI with nothing mounted, no env, argv
// [Name], stdout/stderr into a bounded ring, fake clocks unless "clock" is
// granted; then runs _initialize (if exported) and tidemark_init(Options).
func (m *Module) Instantiate(ctx context.Context, ic InstanceConfig) (*Instance, error) {
	in := &Instance{
		name:     ic.Name,
		module:   m,
		log:      m.rt.log.With("instance", ic.Name, "module", m.hash[:12]),
		host:     ic.Host,
		output:   newRing(outputRingSize),
		stack:    make([]uint64, 1),
		deadline: m.rt.cfg.deadline,
	}
	if in.host == nil {
		in.host = logOnlyHost{in.log}
	}
	for _, c := range ic.Capabilities {
		switch c {
		case CapQuery:
			in.caps.query = true
		case CapClock:
			in.caps.clock = true
		default:
			return nil, fmt.Errorf("instantiate %q: unknown capability %q (known: %s, %s)", ic.Name, c, CapQuery, CapClock)
		}
	}
	if ic.Name == "" {
		return nil, errors.New("instantiate: empty instance name")
	}
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances of one compiled module
		WithArgs(ic.Name).
		WithStdout(in.output).
		WithStderr(in.output).
		WithStartFunctions() // _initialize is called below, under a deadline
	if in.caps.clock {
		mc = mc.WithSysWalltime().WithSysNanotime()
	}
	mod, err := m.rt.wz.InstantiateModule(ctx, m.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("instantiate %q: %w", ic.Name, err)
	}
	in.mod = mod
	in.analyze = mod.ExportedFunction(exportAnalyze)
	if in.deadline == deadlineInterrupt {
		g, ok := mod.ExportedGlobal(wasmbin.InterruptExport).(api.MutableGlobal)
		if !ok {
			mod.Close(ctx)
			return nil, fmt.Errorf("instantiate %q: interrupt flag missing", ic.Name)
		}
		in.flag = g
	}
	timeout := m.rt.cfg.initTimeout()
	if m.hasStart {
		if _, err := in.call(ctx, exportStart, nil, timeout, false); err != nil {
			in.Close(ctx)
			return nil, fmt.Errorf("instantiate: %w", err)
		}
	}
	if _, err := in.call(ctx, exportInit, ic.Options, timeout, true); err != nil {
		in.Close(ctx)
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	return in, nil
}

// Name is the instance name.
func (in *Instance) Name() string { return in.name }

// Module is the module the instance runs.
func (in *Instance) Module() *Module { return in.module }

// Output returns the last bytes the guest wrote to stdout and stderr.
func (in *Instance) Output() []byte { return in.output.Bytes() }

// Analyze calls tidemark_analyze with input readable through input_read.
// After an error other than ErrGuestStatus the instance is unusable: later
// calls return ErrClosed, and the caller (a Supervisor) recreates it.
func (in *Instance) Analyze(ctx context.Context, input []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, err := in.call(ctx, exportAnalyze, input, in.module.rt.cfg.callTimeout, true)
	return err
}

// SaveState asks the guest for its hot-reload blob. ok is false when the
// module does not export tidemark_state_save.
func (in *Instance) SaveState(ctx context.Context) (blob []byte, ok bool, err error) {
	if !in.module.hasSave {
		return nil, false, nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.saving, in.saved = true, nil
	_, err = in.call(ctx, exportStateSave, nil, in.module.rt.cfg.initTimeout(), false)
	blob, in.saving, in.saved = in.saved, false, nil
	return blob, err == nil, err
}

// LoadState hands a blob from SaveState to tidemark_state_load. ok is false
// when the module does not export it.
func (in *Instance) LoadState(ctx context.Context, blob []byte) (ok bool, err error) {
	if !in.module.hasLoad {
		return false, nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	_, err = in.call(ctx, exportStateLoad, blob, in.module.rt.cfg.initTimeout(), true)
	return err == nil, err
}

// Close releases the instance.
func (in *Instance) Close(ctx context.Context) error {
	if in.mod == nil {
		return nil
	}
	return in.mod.Close(ctx)
}

// call runs one guest export. withLen passes len(input) as the i32 argument.
func (in *Instance) call(ctx context.Context, export string, input []byte, timeout time.Duration, withLen bool) (int32, error) {
	if in.broken != nil {
		return 0, fmt.Errorf("analyzer %q: %w (after: %v)", in.name, ErrClosed, in.broken)
	}
	fn := in.analyze
	if export != exportAnalyze {
		fn = in.mod.ExportedFunction(export)
	}
	in.input, in.queryResult = input, nil
	defer func() { in.input, in.queryResult = nil, nil }()
	ctx = context.WithValue(ctx, instanceKey{}, in)
	stack := in.stack[:0]
	if withLen {
		stack = append(stack, uint64(uint32(len(input))))
	}
	stack = stack[:1]

	var err error
	switch in.deadline {
	case deadlineInterrupt:
		in.flagMu.Lock()
		in.flag.Set(0)
		in.armed, in.fired = true, false
		in.flagMu.Unlock()
		t := time.AfterFunc(timeout, in.interrupt)
		var stopCancel func() bool
		if ctx.Done() != nil {
			stopCancel = context.AfterFunc(ctx, in.interrupt)
		}
		err = fn.CallWithStack(ctx, stack)
		t.Stop()
		if stopCancel != nil {
			stopCancel()
		}
		in.flagMu.Lock()
		in.armed = false
		fired := in.fired
		in.flagMu.Unlock()
		if err != nil && fired {
			if ctx.Err() != nil {
				err = &timeoutError{ctx.Err()}
			} else {
				err = &timeoutError{fmt.Errorf("deadline of %v passed", timeout)}
			}
		}
	case deadlineCloseOnDone:
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err = fn.CallWithStack(cctx, stack)
		cancel()
		var ee *sys.ExitError
		if errors.As(err, &ee) && (ee.ExitCode() == sys.ExitCodeDeadlineExceeded || ee.ExitCode() == sys.ExitCodeContextCanceled) {
			err = &timeoutError{fmt.Errorf("deadline of %v passed: %w", timeout, err)}
		}
	default:
		err = fn.CallWithStack(ctx, stack)
	}
	if err != nil {
		ce := in.classify(export, err)
		in.broken = ce
		in.log.Warn("analyzer call failed", "func", export, "err", ce)
		return 0, ce
	}
	if fn.Definition().ResultTypes() == nil {
		return 0, nil
	}
	st := int32(uint32(stack[0]))
	if st < 0 {
		return st, &CallError{Kind: ErrGuestStatus, Instance: in.name, Func: export, Status: st}
	}
	return st, nil
}

// timeoutError marks an error caused by the deadline, before classify.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string { return e.err.Error() }
func (e *timeoutError) Unwrap() error { return e.err }

// interrupt makes the guest trap at its next loop header or function entry.
func (in *Instance) interrupt() {
	in.flagMu.Lock()
	if in.armed {
		in.flag.Set(1)
		in.fired = true
	}
	in.flagMu.Unlock()
}

func (in *Instance) classify(export string, err error) *CallError {
	ce := &CallError{Instance: in.name, Func: export, Err: err, Output: lastLine(in.output.Bytes())}
	switch {
	case bytes.Contains(in.output.Bytes(), []byte("out of memory")):
		// A Go guest that ran out of memory prints this and then may spin
		// until the deadline: the cause is memory, not time.
		ce.Kind = ErrMemoryExhausted
		if errors.As(err, new(*timeoutError)) {
			ce.Err = errors.Unwrap(err)
		}
	case errors.As(err, new(*timeoutError)):
		ce.Kind, ce.Err = ErrTimeout, errors.Unwrap(err)
	case in.memoryExhausted():
		ce.Kind = ErrMemoryExhausted
	default:
		ce.Kind = ErrTrap
	}
	return ce
}

// memoryExhausted: a guest whose memory.grow failed past the cap usually
// aborts (Go: "fatal error: out of memory", exit 2) or traps; either way its
// memory is close to the cap.
func (in *Instance) memoryExhausted() bool {
	out := in.output.Bytes()
	if bytes.Contains(out, []byte("out of memory")) {
		return true
	}
	limit := in.module.rt.cfg.memoryLimit / wasmPageSize * wasmPageSize
	size := uint64(in.mod.Memory().Size())
	return size+limit/8 >= limit
}

// lastLine picks the guest's own explanation from its output: a Go
// "panic:" or "fatal error:" line if there is one, else the last line.
func lastLine(b []byte) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("panic: ")) || bytes.HasPrefix(l, []byte("fatal error: ")) {
			return string(bytes.TrimSpace(l))
		}
	}
	return string(bytes.TrimSpace(lines[len(lines)-1]))
}

// logOnlyHost serves instances bound without a handler.
type logOnlyHost struct{ log *slog.Logger }

func (h logOnlyHost) EmitAlert(raw []byte) error {
	h.log.Info("alert (no handler)", "bytes", len(raw))
	return nil
}
func (h logOnlyHost) Log(level int, msg string) {
	h.log.Log(context.Background(), slog.Level(level), msg)
}
func (h logOnlyHost) StateGet(string) ([]byte, bool) { return nil, false }
func (h logOnlyHost) StateSet(string, []byte) error {
	return &StatusError{StatusUnavailable, errors.New("no state store")}
}
func (h logOnlyHost) Query([]byte) ([]byte, error) {
	return nil, &StatusError{StatusUnavailable, errors.New("no query handler")}
}
