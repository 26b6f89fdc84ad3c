package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Errors returned quickly by a Supervisor that has no instance to call.
var (
	ErrBackoff = errors.New("analyzer instance is backing off after a failure")
	ErrParked  = errors.New("analyzer instance parked after repeated failures (circuit open until the module is replaced)")
)

// SupervisorConfig is immutable; each With… returns a copy. The zero value
// means the defaults.
type SupervisorConfig struct {
	maxFailures int
	backoffMin  time.Duration
	backoffMax  time.Duration
	onFailure   func(Failure)
	now         func() time.Time
}

// Supervisor defaults, see RATIONALE.md.
const (
	DefaultMaxFailures = 5
	DefaultBackoffMin  = time.Second
	DefaultBackoffMax  = time.Minute
)

// NewSupervisorConfig returns the defaults.
func NewSupervisorConfig() SupervisorConfig { return SupervisorConfig{} }

// WithMaxFailures parks the instance after n consecutive failures (default 5).
func (c SupervisorConfig) WithMaxFailures(n int) SupervisorConfig { c.maxFailures = n; return c }

// WithBackoff sets the first and the longest wait before a failed instance
// is recreated; the wait doubles with each consecutive failure.
func (c SupervisorConfig) WithBackoff(first, longest time.Duration) SupervisorConfig {
	c.backoffMin, c.backoffMax = first, longest
	return c
}

// WithFailureHook calls f after each failure (e.g. to count it in metrics).
// f runs on the calling goroutine and must not call the Supervisor.
func (c SupervisorConfig) WithFailureHook(f func(Failure)) SupervisorConfig {
	c.onFailure = f
	return c
}

// WithClock replaces time.Now (tests).
func (c SupervisorConfig) WithClock(now func() time.Time) SupervisorConfig { c.now = now; return c }

func (c SupervisorConfig) withDefaults() SupervisorConfig {
	if c.maxFailures <= 0 {
		c.maxFailures = DefaultMaxFailures
	}
	if c.backoffMin <= 0 {
		c.backoffMin = DefaultBackoffMin
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = max(DefaultBackoffMax, c.backoffMin)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Failure describes one failed call (or failed recreation).
type Failure struct {
	Instance    string
	ModuleHash  string
	Err         error
	Consecutive int
	Parked      bool
	RetryAt     time.Time // zero when parked
}

// Stats are a Supervisor's counters since it was created.
type Stats struct {
	Calls           uint64 // calls that reached the guest
	Failures        uint64 // failed calls and failed recreations
	Restarts        uint64 // instances recreated after a failure
	Timeouts        uint64
	Traps           uint64
	MemoryExhausted uint64
	StatusErrors    uint64 // guest returned a negative status (not a failure)
	Skipped         uint64 // calls refused while backing off or parked
	Reloads         uint64 // module replacements swapped in
	ReloadFailures  uint64 // replacements dropped because the state did not carry over
	Consecutive     int
	Parked          bool
	ModuleHash      string
}

// Supervisor owns the instance of one configured analyzer: a failed call
// discards the instance, and the next call after an exponential backoff
// recreates it from the compiled module; after MaxFailures consecutive
// failures it parks until Replace. Calls are serial.
type Supervisor struct {
	// pub is what Stats, Module and Uses read: a copy published after each
	// change, so that they never wait for a running guest call.
	pubMu sync.Mutex
	pub   published

	mu      sync.Mutex
	cfg     SupervisorConfig
	ic      InstanceConfig
	module  *Module
	inst    *Instance // nil after a failure until recreated
	pending *Instance // staged by Replace, swapped in by the next Analyze
	retryAt time.Time
	lastErr error
	stats   Stats
	closed  bool
}

type published struct {
	stats   Stats
	module  *Module
	pending *Module
	closed  bool
}

// publish copies the state readers see; call with s.mu held.
func (s *Supervisor) publish() {
	p := published{stats: s.stats, module: s.module, closed: s.closed}
	if s.pending != nil {
		p.pending = s.pending.module
	}
	s.pubMu.Lock()
	s.pub = p
	s.pubMu.Unlock()
}

// Supervise instantiates the module and supervises the instance.
func (m *Module) Supervise(ctx context.Context, ic InstanceConfig, cfg SupervisorConfig) (*Supervisor, error) {
	in, err := m.Instantiate(ctx, ic)
	if err != nil {
		return nil, err
	}
	s := &Supervisor{cfg: cfg.withDefaults(), ic: ic, module: m, inst: in}
	s.stats.ModuleHash = m.hash
	s.publish()
	return s, nil
}

// Analyze calls the instance, recreating it first if a failure discarded it
// and the backoff has passed. While backing off or parked it returns
// ErrBackoff or ErrParked at once so the pipeline goes on.
func (s *Supervisor) Analyze(ctx context.Context, input []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.publish()
	if s.closed {
		return ErrClosed
	}
	if s.pending != nil {
		s.swapLocked(ctx)
	}
	if s.inst == nil {
		if s.stats.Parked {
			s.stats.Skipped++
			return fmt.Errorf("%q: %w; last error: %v", s.ic.Name, ErrParked, s.lastErr)
		}
		if s.cfg.now().Before(s.retryAt) {
			s.stats.Skipped++
			return fmt.Errorf("%q: %w until %s; last error: %v", s.ic.Name, ErrBackoff, s.retryAt.Format(time.RFC3339Nano), s.lastErr)
		}
		in, err := s.module.Instantiate(ctx, s.ic)
		if err != nil {
			s.failLocked(ctx, err)
			return err
		}
		s.inst = in
		s.stats.Restarts++
		s.module.rt.log.Info("analyzer instance recreated", "instance", s.ic.Name, "module", s.module.hash, "after_failures", s.stats.Consecutive)
	}
	s.stats.Calls++
	err := s.inst.Analyze(ctx, input)
	switch {
	case err == nil:
		s.stats.Consecutive = 0
	case errors.Is(err, ErrGuestStatus):
		s.stats.StatusErrors++ // the guest handled it; its instance is fine
	case ctx.Err() != nil:
		// the caller gave up (shutdown): not the module's fault
		s.inst.Close(ctx)
		s.inst = nil
	default:
		s.inst.Close(ctx)
		s.inst = nil
		s.failLocked(ctx, err)
	}
	return err
}

func (s *Supervisor) failLocked(ctx context.Context, err error) {
	s.stats.Failures++
	s.stats.Consecutive++
	switch {
	case errors.Is(err, ErrTimeout):
		s.stats.Timeouts++
	case errors.Is(err, ErrMemoryExhausted):
		s.stats.MemoryExhausted++
	case errors.Is(err, ErrTrap):
		s.stats.Traps++
	}
	s.lastErr = err
	f := Failure{Instance: s.ic.Name, ModuleHash: s.module.hash, Err: err, Consecutive: s.stats.Consecutive}
	if s.stats.Consecutive >= s.cfg.maxFailures {
		s.stats.Parked, f.Parked = true, true
		s.module.rt.log.Error("analyzer instance parked", "instance", s.ic.Name, "module", s.module.hash, "consecutive_failures", s.stats.Consecutive, "err", err)
	} else {
		wait := s.cfg.backoffMin << (s.stats.Consecutive - 1)
		if wait > s.cfg.backoffMax || wait <= 0 {
			wait = s.cfg.backoffMax
		}
		s.retryAt = s.cfg.now().Add(wait)
		f.RetryAt = s.retryAt
		s.module.rt.log.Warn("analyzer instance failed; recreating after backoff", "instance", s.ic.Name, "module", s.module.hash, "consecutive_failures", s.stats.Consecutive, "backoff", wait, "err", err)
	}
	if s.cfg.onFailure != nil {
		s.cfg.onFailure(f)
	}
}

// Replace instantiates m (same instance config) beside the running instance
// and stages it; the next Analyze carries the state over and switches, so
// the switch happens between two calls and no call is lost or repeated. It
// also closes the circuit. On error the current instance keeps running.
func (s *Supervisor) Replace(ctx context.Context, m *Module) error {
	in, err := s.Prepare(ctx, m)
	if err != nil {
		return err
	}
	return s.Stage(ctx, in)
}

// Prepare instantiates m with this supervisor's instance config, for a
// caller that stages several supervisors only once all prepared (Stage).
func (s *Supervisor) Prepare(ctx context.Context, m *Module) (*Instance, error) {
	return m.Instantiate(ctx, s.ic)
}

// Stage makes in (from Prepare) the instance the next Analyze switches to.
func (s *Supervisor) Stage(ctx context.Context, in *Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		in.Close(ctx)
		return ErrClosed
	}
	if s.pending != nil {
		s.pending.Close(ctx)
	}
	s.pending = in
	s.publish()
	return nil
}

// Uses reports whether the supervisor runs or has staged an instance of m,
// or may recreate one from it.
func (s *Supervisor) Uses(m *Module) bool {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return !s.pub.closed && (s.pub.module == m || s.pub.pending == m)
}

// swapLocked switches to the staged instance, carrying the guest state over.
func (s *Supervisor) swapLocked(ctx context.Context) {
	next, old := s.pending, s.inst
	s.pending = nil
	if old != nil && old.module.hasSave && next.module.hasLoad {
		blob, ok, err := old.SaveState(ctx)
		if err == nil && ok {
			_, err = next.LoadState(ctx, blob)
		}
		if err != nil {
			// keep the old instance: a new module that cannot take the
			// state over would start from scratch silently
			s.stats.ReloadFailures++
			s.module.rt.log.Error("hot reload: state transfer failed; keeping the old module", "instance", s.ic.Name, "module", s.module.hash, "new_module", next.module.hash, "err", err)
			next.Close(ctx)
			if old.broken != nil { // the old one broke while saving
				old.Close(ctx)
				s.inst = nil
			}
			return
		}
	}
	s.inst, s.module = next, next.module
	s.stats.Parked, s.stats.Consecutive, s.retryAt, s.lastErr = false, 0, time.Time{}, nil
	s.stats.Reloads++
	s.stats.ModuleHash = next.module.hash
	if old != nil {
		old.Close(ctx)
	}
	s.module.rt.log.Info("analyzer instance switched module", "instance", s.ic.Name, "module", next.module.hash)
}

// Stats returns the counters (as of the last completed call).
func (s *Supervisor) Stats() Stats {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.pub.stats
}

// Module returns the module in use (the staged one once swapped in).
func (s *Supervisor) Module() *Module {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.pub.module
}

// Output returns the current instance's captured stdout/stderr, if any.
func (s *Supervisor) Output() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inst == nil {
		return nil
	}
	return s.inst.Output()
}

// Close closes the instance; later calls return ErrClosed.
func (s *Supervisor) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.publish()
	var err error
	if s.inst != nil {
		err = s.inst.Close(ctx)
	}
	if s.pending != nil {
		err = errors.Join(err, s.pending.Close(ctx))
	}
	return err
}
