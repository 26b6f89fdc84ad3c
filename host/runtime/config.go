package runtime

import (
	"log/slog"
	"time"

	"github.com/tidemark/tidemark/host/runtime/internal/wasmbin"
)

// Defaults, see RATIONALE.md.
const (
	DefaultMemoryLimit = 64 << 20 // standard Go guests need about 40 MiB
	DefaultCallTimeout = 250 * time.Millisecond
	outputRingSize     = 16 << 10 // last 16 KiB of a guest's stdout+stderr
	wasmPageSize       = 64 << 10
)

// deadlineMode selects how a call's deadline stops the guest.
type deadlineMode int

const (
	// deadlineInterrupt: load-time instrumentation checks a global flag at
	// loop headers and function entries; a timer sets it. The default.
	deadlineInterrupt deadlineMode = iota
	// deadlineCloseOnDone: wazero's WithCloseOnContextDone; kept to measure it.
	deadlineCloseOnDone
	// deadlineNone: no deadline at all; kept to measure the baseline.
	deadlineNone
)

// Config is an immutable runtime configuration; each With… returns a copy.
// The zero Config is valid and means the defaults.
type Config struct {
	memoryLimit uint64
	callTimeout time.Duration
	cacheDir    string
	logger      *slog.Logger
	deadline    deadlineMode
	checks      wasmbin.Options // benchmarks compare variants
}

// NewConfig returns the default configuration.
func NewConfig() Config { return Config{} }

// WithMemoryLimit caps each instance's linear memory, rounded down to whole
// 64 KiB pages (default 64 MiB).
func (c Config) WithMemoryLimit(bytes uint64) Config { c.memoryLimit = bytes; return c }

// WithCallTimeout bounds each guest call (default 250ms). Init and state
// calls get ten times as long, at least one second.
func (c Config) WithCallTimeout(d time.Duration) Config { c.callTimeout = d; return c }

// WithCacheDir keeps compiled modules on disk in dir, keyed by content hash,
// so that a restart does not recompile.
func (c Config) WithCacheDir(dir string) Config { c.cacheDir = dir; return c }

// WithLogger sets the logger (default slog.Default()).
func (c Config) WithLogger(l *slog.Logger) Config { c.logger = l; return c }

func (c Config) withDefaults() Config {
	if c.memoryLimit == 0 {
		c.memoryLimit = DefaultMemoryLimit
	}
	if c.callTimeout <= 0 {
		c.callTimeout = DefaultCallTimeout
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.checks == (wasmbin.Options{}) {
		c.checks = wasmbin.Options{FunctionEntry: true, LoopCounter: true}
	}
	return c
}

func (c Config) initTimeout() time.Duration {
	return max(10*c.callTimeout, time.Second)
}
