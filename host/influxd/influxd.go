// Package influxd runs a local InfluxDB 1.8 server as a child process, for
// `tidemark demo` and for tests against a real database.
package influxd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options says which binary to run, where it keeps its data and where it listens.
type Options struct {
	Binary  string    // path to influxd; "" = FindBinary()
	DataDir string    // meta, data, wal and the config file go here; must be writable
	Addr    string    // HTTP bind address; "" or "127.0.0.1:0" = a free port chosen by the kernel
	Log     io.Writer // influxd's own log; nil = discarded
	// StartTimeout bounds the wait for /ping to answer; 0 = 2m. (influxd spends
	// about a second of CPU initialising Flux, much longer on a loaded machine.)
	StartTimeout time.Duration
}

// Server is a running influxd.
type Server struct {
	cmd     *exec.Cmd
	url     string
	exited  chan struct{} // closed when the process has been reaped
	waitErr error
	stopped sync.Once
	stopErr error
}

const stopTimeout = 10 * time.Second

// listenRE matches influxd's log line announcing the HTTP listener, which
// carries the port actually bound (the way to learn it when Addr asks for :0).
var listenRE = regexp.MustCompile(`msg="Listening on HTTP".*\baddr=(\S+)`)

// Start writes a config into opts.DataDir, starts influxd and returns once
// /ping answers. The RPC (backup) listener gets its own kernel-chosen port so
// that several servers can run side by side.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Binary == "" {
		bin, err := FindBinary()
		if err != nil {
			return nil, err
		}
		opts.Binary = bin
	}
	if opts.DataDir == "" {
		return nil, errors.New("influxd: Options.DataDir is required")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	logw := &lockedWriter{w: opts.Log} // stdout and stderr are copied by two goroutines
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("influxd: data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("influxd: data dir: %w", err)
	}
	confPath := filepath.Join(dataDir, "influxdb.conf")
	if err := os.WriteFile(confPath, []byte(config(dataDir, opts.Addr)), 0o644); err != nil {
		return nil, fmt.Errorf("influxd: write config: %w", err)
	}

	cmd := exec.Command(opts.Binary, "run", "-config", confPath)
	cmd.Dir = dataDir
	dieWithParent(cmd)
	cmd.Stdout = logw
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("influxd: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("influxd: start %s: %w", opts.Binary, err)
	}
	s := &Server{cmd: cmd, exited: make(chan struct{})}

	addrCh := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		copyLog(stderr, logw, addrCh)
	}()
	go func() {
		<-logDone // Wait closes the pipe; read it to the end first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	deadline := time.NewTimer(opts.StartTimeout)
	defer deadline.Stop()
	var addr string
	select {
	case addr = <-addrCh:
	case <-s.exited:
		return nil, fmt.Errorf("influxd: exited before listening: %v (see its log)", s.waitErr)
	case <-deadline.C:
		_ = s.Stop()
		return nil, fmt.Errorf("influxd: no HTTP listener after %s", opts.StartTimeout)
	case <-ctx.Done():
		_ = s.Stop()
		return nil, fmt.Errorf("influxd: start: %w", ctx.Err())
	}
	s.url = "http://" + addr

	if err := s.waitReady(ctx, deadline.C); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// copyLog forwards influxd's log and reports the bound HTTP address once.
func copyLog(r io.Reader, w io.Writer, addrCh chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	found := false
	for sc.Scan() {
		line := sc.Text()
		if !found {
			if m := listenRE.FindStringSubmatch(line); m != nil {
				found = true
				addrCh <- m[1]
			}
		}
		_, _ = io.WriteString(w, line+"\n")
	}
	_, _ = io.Copy(io.Discard, r)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// waitReady polls /ping until it answers 204, the process dies or the deadline passes.
func (s *Server) waitReady(ctx context.Context, deadline <-chan time.Time) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/ping", nil)
		if err != nil {
			return fmt.Errorf("influxd: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-s.exited:
			return fmt.Errorf("influxd: exited while starting: %v", s.waitErr)
		case <-deadline:
			return fmt.Errorf("influxd: %s/ping did not answer in time (last error: %v)", s.url, err)
		case <-ctx.Done():
			return fmt.Errorf("influxd: start: %w", ctx.Err())
		}
	}
}

// URL is the HTTP base URL, e.g. "http://127.0.0.1:38211".
func (s *Server) URL() string { return s.url }

// Stop sends SIGTERM, waits up to 10s for a clean exit, then kills the
// process. Safe to call more than once.
func (s *Server) Stop() error {
	s.stopped.Do(func() {
		select {
		case <-s.exited:
			return
		default:
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.stopErr = fmt.Errorf("influxd: SIGTERM: %w", err)
		}
		t := time.NewTimer(stopTimeout)
		defer t.Stop()
		select {
		case <-s.exited:
		case <-t.C:
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = fmt.Errorf("influxd: did not stop within %s after SIGTERM, killed", stopTimeout)
		}
	})
	return s.stopErr
}

// FindBinary returns $TIDEMARK_INFLUXD if set, otherwise bin/influxd in the
// working directory or a parent of it, up to the directory holding go.mod.
func FindBinary() (string, error) {
	if p := os.Getenv("TIDEMARK_INFLUXD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("influxd not found at $TIDEMARK_INFLUXD=%s: %w", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("influxd not found: %w", err)
	}
	for {
		p := filepath.Join(dir, "bin", "influxd")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("influxd not found: run `make influxd`")
}

// config is the influxd configuration: Flux on, everything not needed off,
// all state under dataDir.
func config(dataDir, httpAddr string) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	rpcHost := "127.0.0.1"
	if h, _, err := net.SplitHostPort(httpAddr); err == nil && h != "" {
		rpcHost = h
	}
	var b strings.Builder
	fmt.Fprintf(&b, "reporting-disabled = true\n")
	fmt.Fprintf(&b, "bind-address = %s\n\n", q(net.JoinHostPort(rpcHost, "0")))
	fmt.Fprintf(&b, "[meta]\n  dir = %s\n  logging-enabled = false\n\n", q(filepath.Join(dataDir, "meta")))
	fmt.Fprintf(&b, "[data]\n  dir = %s\n  wal-dir = %s\n  query-log-enabled = false\n\n",
		q(filepath.Join(dataDir, "data")), q(filepath.Join(dataDir, "wal")))
	fmt.Fprintf(&b, "[monitor]\n  store-enabled = false\n\n")
	fmt.Fprintf(&b, "[continuous_queries]\n  enabled = false\n\n")
	fmt.Fprintf(&b, "[http]\n  enabled = true\n  bind-address = %s\n  flux-enabled = true\n  log-enabled = false\n  pprof-enabled = false\n\n", q(httpAddr))
	fmt.Fprintf(&b, "[logging]\n  format = \"logfmt\"\n  level = \"info\"\n  suppress-logo = true\n\n")
	fmt.Fprintf(&b, "[[udp]]\n  enabled = false\n\n[[graphite]]\n  enabled = false\n")
	return b.String()
}
