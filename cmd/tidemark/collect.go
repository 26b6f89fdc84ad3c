package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tidemark/tidemark/host/collect"
)

func init() {
	register(command{name: "collect", summary: "receive sFlow on UDP and produce sflowtool lines (or JSON) to Kafka", run: runCollect})
}

func runCollect(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	var cfg collect.Config
	fs.StringVar(&cfg.Listen, "listen", ":6343", "UDP address to receive sFlow on")
	fs.IntVar(&cfg.Workers, "workers", 1, "sockets bound with SO_REUSEPORT, one decoding goroutine each")
	brokers := fs.String("brokers", "localhost:9092", "Kafka seed brokers, comma-separated")
	fs.StringVar(&cfg.Topic, "topic", "sflow", "Kafka topic")
	fs.StringVar(&cfg.Format, "format", "sflowtool", "record format: sflowtool (sflowtool -l lines) or json")
	fs.IntVar(&cfg.BatchMaxBytes, "batch-max-bytes", 1<<20, "producer batch size per partition")
	fs.StringVar(&cfg.Compression, "compression", "lz4", "none, gzip, snappy, lz4 or zstd")
	fs.IntVar(&cfg.BufferMax, "buffer-max", 100000, "records kept while Kafka is unreachable; past it records are dropped and counted")
	metricsAddr := fs.String("metrics", ":9464", "HTTP address serving /metrics (empty: none)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg.Brokers = strings.Split(*brokers, ",")
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Registry = reg

	c, err := collect.New(cfg)
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cfg.Logger.Error("metrics server", "err", err)
			}
		}()
		defer srv.Close()
		cfg.Logger.Info("serving metrics", "addr", ln.Addr().String())
	}
	return c.Run(ctx)
}
