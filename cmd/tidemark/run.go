package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/service"
)

func init() {
	register(command{name: "run", summary: "run the pipelines of a config against Kafka and InfluxDB", run: runRun})
}

func runRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("c", "tidemark.toml", "config file")
	quiet := fs.Bool("q", false, "no progress line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, nil)
	if err != nil {
		return fmt.Errorf("%s is not valid:\n%w", *path, err)
	}
	log := newLogger(os.Stderr, cfg.Log)
	svc, err := service.New(ctx, cfg, service.Options{Logger: log, Stdout: os.Stdout})
	if err != nil {
		return err
	}
	defer svc.Close()
	if !*quiet {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go progress(pctx, os.Stderr, isTTY(os.Stderr), svc.Runner, func() string {
			return fmt.Sprintf("  alerts %d", svc.AlertsPublished())
		})
	}
	// SIGHUP re-reads the [[analyzer]] blocks of the config file.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := svc.ReloadAnalyzers(ctx, nil); err != nil {
					log.Error("SIGHUP reload failed; the running analyzers are unchanged where they could not be replaced", "err", err)
				}
			}
		}
	}()
	log.Info("tidemark running", "config", *path, "pipelines", len(svc.Plan.Pipes), "http", cfg.HTTP.Listen)
	return svc.Run(ctx)
}
