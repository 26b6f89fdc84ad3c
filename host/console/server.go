// Package console serves Tidemark's HTTP surface: Prometheus metrics,
// health and readiness with reasons, the JSON API and the built-in console.
package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one named health condition. A nil error means healthy.
type Check struct {
	Name string
	// Ready reports whether the component can do its work now (Kafka
	// joined, InfluxDB reachable). Failing readiness takes the instance out
	// of rotation; it does not mean restart it.
	Ready func(ctx context.Context) error
}

// Options configure the server.
type Options struct {
	Registry *prometheus.Registry
	Checks   []Check
	// Routes adds handlers (extra API routes of the service).
	Routes map[string]http.Handler
	Logger *slog.Logger
	// Backend, when set, serves the JSON API under /api/ and the console
	// pages at / (see api.go and pages.go).
	Backend Backend
}

// Handler builds the mux.
func Handler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		// Liveness: the process serves HTTP, so it is alive. Dependencies
		// belong to readiness, or a down InfluxDB would restart-loop us.
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		reasons := map[string]string{}
		for _, c := range o.Checks {
			if c.Ready == nil {
				continue
			}
			if err := c.Ready(ctx); err != nil {
				reasons[c.Name] = err.Error()
			} else {
				reasons[c.Name] = "ok"
			}
		}
		status := http.StatusOK
		for _, v := range reasons {
			if v != "ok" {
				status = http.StatusServiceUnavailable
			}
		}
		writeJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": reasons})
	})
	keys := make([]string, 0, len(o.Routes))
	for k := range o.Routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		mux.Handle(k, o.Routes[k])
	}
	if o.Backend != nil {
		log := o.Logger
		if log == nil {
			log = slog.Default()
		}
		registerAPI(mux, o.Backend, log)
		registerPages(mux)
	}
	return mux
}

// Serve listens on addr until ctx is done. It returns the bound address
// through ready (useful with port 0) before serving.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.listen %q: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
