package tidemark

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tidemark/tidemark/abi"
)

// Errors host functions report, matched with errors.Is.
var (
	ErrNotFound      = errors.New("tidemark: not found")
	ErrPermission    = errors.New("tidemark: capability not granted")
	ErrLimitExceeded = errors.New("tidemark: limit exceeded")
)

// StatusError is a host function's negative status.
type StatusError struct {
	Op     string
	Status abi.Status
}

func (e *StatusError) Error() string { return fmt.Sprintf("tidemark: %s: %s", e.Op, e.Status) }

// Is lets errors.Is match the sentinel errors above.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == abi.StatusNotFound
	case ErrPermission:
		return e.Status == abi.StatusPermissionDenied
	case ErrLimitExceeded:
		return e.Status == abi.StatusLimitExceeded
	}
	return false
}

func statusErr(op string, st int32) error {
	if st >= 0 {
		return nil
	}
	return &StatusError{Op: op, Status: abi.Status(st)}
}

// StateGet returns the value stored under key for this instance. State is
// kept by the host, so it survives hot reloads, restarts of the instance
// after a failure, and restarts of Tidemark. errors.Is(err, ErrNotFound)
// when the key was never set.
func StateGet(key string) ([]byte, error) {
	buf := stateBuf[:cap(stateBuf)]
	for {
		n := hostStateGet(key, buf)
		if n < 0 {
			return nil, statusErr("state_get "+key, n)
		}
		if int(n) <= len(buf) {
			return append([]byte(nil), buf[:n]...), nil
		}
		buf = make([]byte, n)
		stateBuf = buf
	}
}

var stateBuf = make([]byte, 0, 4096)

// StateSet stores val under key (a copy is kept; an empty val deletes the
// key). Limits: key 256 bytes, value 1 MiB, 4 MiB per instance.
func StateSet(key string, val []byte) error {
	if key == "" {
		return fmt.Errorf("tidemark: state_set: the empty key is reserved for SaveState")
	}
	return statusErr("state_set "+key, hostStateSet(key, val))
}

// Log writes a line to the instance's log at an slog level (the host adds
// the instance and module).
func Log(level slog.Level, msg string) {
	l := abi.LogInfo
	switch {
	case level < slog.LevelInfo:
		l = abi.LogDebug
	case level >= slog.LevelError:
		l = abi.LogError
	case level >= slog.LevelWarn:
		l = abi.LogWarn
	}
	hostLog(l, msg)
}

// Logf formats and logs at level.
func Logf(level slog.Level, format string, args ...any) { Log(level, fmt.Sprintf(format, args...)) }

// Logger is a slog.Logger writing to the host log (attributes as key=value).
var Logger = slog.New(&logHandler{})

// logHandler formats records as "msg k=v ..." and hands them to Log.
type logHandler struct {
	prefix string // group prefix for attribute keys
	attrs  string // preformatted attributes from WithAttrs
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message + h.attrs
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + h.prefix + a.String()
		return true
	})
	Log(r.Level, msg)
	return nil
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	for _, a := range as {
		c.attrs += " " + h.prefix + a.String()
	}
	return &c
}

func (h *logHandler) WithGroup(g string) slog.Handler {
	c := *h
	c.prefix += g + "."
	return &c
}

// Query runs a Flux query (capability "query") and returns the annotated
// CSV result. errors.Is(err, ErrPermission) when not granted.
func Query(flux string) ([]byte, error) {
	n := hostQuery(flux)
	if n < 0 {
		return nil, statusErr("query", n)
	}
	buf := make([]byte, n)
	if r := hostQueryRead(buf); r < 0 {
		return nil, statusErr("query_read", r)
	}
	return buf, nil
}

// Now is the wall clock (capability "clock"). Analyzers should prefer the
// window times: they make replays deterministic.
func Now() (time.Time, error) {
	ns := hostClockNow()
	if ns < 0 && ns >= int64(abi.StatusInternal) {
		return time.Time{}, statusErr("clock_now", int32(ns))
	}
	return time.Unix(0, ns).UTC(), nil
}
