package service

import (
	"context"
	"encoding/json"
	"fmt"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/analyze"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/history"
	"github.com/tidemark/tidemark/host/pipeline"
	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/registry"
)

// startAnalyzers opens the runtime and the plugins registry, binds every
// [[analyzer]] instance and the alert publishers. With no [[analyzer]]
// blocks it does nothing.
func (s *Service) startAnalyzers(ctx context.Context) error {
	cfg := s.Config
	if len(cfg.Analyzer) == 0 {
		// Without instances the runtime is still started when there is a
		// plugins dir, so a SIGHUP can add some later.
		if st, err := os.Stat(cfg.Plugins.Dir); err != nil || !st.IsDir() {
			return nil
		}
	}
	rcfg := runtime.NewConfig().WithMemoryLimit(uint64(cfg.MemoryLimit())).WithCallTimeout(cfg.CallTimeout()).WithLogger(s.log)
	if cfg.Plugins.CacheDir != "" {
		rcfg = rcfg.WithCacheDir(cfg.Plugins.CacheDir)
	}
	rt, err := runtime.New(ctx, rcfg)
	if err != nil {
		return fmt.Errorf("plugins: %w", err)
	}
	s.closers = append(s.closers, func() error { return rt.Close(context.Background()) })
	reg, err := registry.Open(ctx, registry.Config{Dir: cfg.Plugins.Dir, Runtime: rt, Logger: s.log, OnEvent: s.onModuleEvent})
	if err != nil {
		return fmt.Errorf("plugins.dir: %w", err)
	}
	s.Modules = reg
	s.closers = append(s.closers, func() error { return reg.Close(context.Background()) })

	var pubs analyze.Publishers
	var hist history.Reader
	var raw func(context.Context, string) (string, error)
	if ix := cfg.Output.InfluxDB; ix != nil {
		client := s.influxClient
		hist = s.history
		pubs = append(pubs, analyze.NewInflux(client, ix.Org, ix.Bucket, cfg.Alerts.Measurement))
		raw = func(ctx context.Context, flux string) (string, error) {
			// One QueryAPI per call: instances query concurrently and the
			// client's QueryAPI is not safe for that.
			return client.QueryAPI(ix.Org).QueryRaw(ctx, flux, influxdb2.DefaultDialect())
		}
	}
	if cfg.Alerts.Topic != "" {
		opts, err := pipeline.KafkaOptions(cfg.Input)
		if err != nil {
			return err
		}
		opts = append(opts, kgo.DefaultProduceTopic(cfg.Alerts.Topic), kgo.AllowAutoTopicCreation())
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("alerts: kafka client: %w", err)
		}
		s.closers = append(s.closers, func() error { cl.Close(); return nil })
		pubs = append(pubs, &analyze.Kafka{Client: cl, Topic: cfg.Alerts.Topic})
	}
	if cfg.Alerts.Stdout {
		w := s.opts.Stdout
		if w == nil {
			w = io.Discard
		}
		pubs = append(pubs, &analyze.Writer{W: w})
	}
	pubs = append(pubs, s.alertFeed)

	var pipes []analyze.Pipeline
	for _, p := range s.Plan.Pipes {
		ap := analyze.Pipeline{Name: p.Name, Size: p.Window.Size, TagNames: p.Window.GroupNames}
		for _, a := range p.Window.Aggs {
			ap.FieldNames = append(ap.FieldNames, a.Name)
		}
		pipes = append(pipes, ap)
	}
	stateDir := cfg.Plugins.StateDir
	if stateDir == "" {
		stateDir = filepath.Join("var", "state")
	}
	an, err := analyze.New(ctx, analyze.Options{
		Config: cfg, Pipelines: pipes, Registry: reg, History: hist, RawQuery: raw,
		Publisher: pubs, Logger: s.log, StateDir: stateDir, OnAnalyzed: s.opts.OnAnalyzed,
	})
	if err != nil {
		return err
	}
	s.Analyzers = an
	s.Registry.MustRegister(an.Metrics().Collectors()...)
	return nil
}

func (s *Service) onModuleEvent(ev registry.Event) {
	if s.opts.OnModuleEvent != nil {
		defer s.opts.OnModuleEvent(ev)
	}
	s.moduleReloads.WithLabelValues(ev.Name, string(ev.Kind)).Inc()
	if ev.Kind == registry.EventLoaded || ev.Kind == registry.EventReloaded {
		s.mu.Lock()
		if s.lastReload == nil {
			s.lastReload = map[string]time.Time{}
		}
		s.lastReload[ev.Name] = time.Now()
		s.mu.Unlock()
	}
	if ev.Err != nil {
		s.log.Error("analyzer module", "event", ev.Kind, "path", ev.Path, "err", ev.Err)
		return
	}
	s.log.Info("analyzer module", "event", ev.Kind, "path", ev.Path, "name", ev.Name, "hash", shortHash(ev.Hash))
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// ReloadAnalyzers re-reads the config file and applies its [[analyzer]]
// blocks (SIGHUP). The new file is validated in full first; a bad file
// changes nothing. Other sections need a restart and are reported if they
// changed.
func (s *Service) ReloadAnalyzers(ctx context.Context, environ []string) error {
	if s.Analyzers == nil {
		return fmt.Errorf("reload: no plugins dir %q, analyzers are off", s.Config.Plugins.Dir)
	}
	cfg, err := config.Load(s.Config.Path, environ)
	if err != nil {
		return fmt.Errorf("reload %s: %w", s.Config.Path, err)
	}
	if _, _, err := Check(cfg, false); err != nil {
		return fmt.Errorf("reload %s: %w", s.Config.Path, err)
	}
	if !sameExceptAnalyzers(s.Config, cfg) {
		s.log.Warn("config changed outside [[analyzer]] blocks; only analyzers are reloaded, restart for the rest", "file", cfg.Path)
	}
	started, stopped, replaced, err := s.Analyzers.Reload(ctx, cfg)
	s.log.Info("analyzers reloaded", "started", started, "stopped", stopped, "replaced", replaced, "err", err)
	return err
}

func sameExceptAnalyzers(a, b *config.Config) bool {
	strip := func(c *config.Config) string {
		x := *c
		x.Analyzer = nil
		j, _ := json.Marshal(x)
		return string(j)
	}
	return strip(a) == strip(b)
}
