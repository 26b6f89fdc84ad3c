package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/service"
)

func init() {
	register(command{name: "check", summary: "validate a config file without connecting anywhere", run: runCheck})
}

func runCheck(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := fs.String("c", "tidemark.toml", "config file")
	allowMissing := fs.Bool("allow-missing-data", false, "a GeoIP file that does not exist yet is a warning, not an error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, nil)
	if err != nil {
		return fmt.Errorf("%s is not valid:\n%w", *path, err)
	}
	plan, warnings, err := service.Check(cfg, *allowMissing)
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	if err != nil {
		return fmt.Errorf("%s is not valid:\n%w", *path, err)
	}
	fmt.Fprintf(os.Stdout, "%s: ok (%d pipelines, %d analyzers, input %s from %v)\n", *path, len(plan.Pipes), len(cfg.Analyzer), cfg.Input.Format, cfg.Topics())
	return nil
}
