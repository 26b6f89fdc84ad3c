package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/gen"
)

func init() {
	register(command{name: "gen", summary: "generate synthetic sFlow traffic with anomalies (UDP, Kafka or sflowtool lines)", run: runGen})
}

type anomalyFlags []gen.Anomaly

func (a *anomalyFlags) String() string { return fmt.Sprint(*a) }
func (a *anomalyFlags) Set(s string) error {
	an, err := gen.ParseAnomaly(s)
	if err != nil {
		return err
	}
	*a = append(*a, an)
	return nil
}

func runGen(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	var cfg gen.Config
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same seed and flags give the same traffic")
	start := fs.String("start", "2026-01-05T00:00:00Z", `simulated start time (RFC 3339), or "now" (not reproducible)`)
	fs.DurationVar(&cfg.Duration, "duration", time.Hour, "simulated time to generate (0: until interrupted)")
	fs.Float64Var(&cfg.Speed, "speed", 1, "simulated seconds per wall second (0: as fast as possible; 3600: an hour per second)")
	fs.Float64Var(&cfg.Rate, "rate", 1000, "flow samples per simulated second at the daily mean")
	sampling := fs.Uint("sampling-rate", 1000, "1-in-N sampling rate announced by the agents")
	fs.IntVar(&cfg.Agents, "agents", 4, "sFlow agents (switches)")
	fs.IntVar(&cfg.Clients, "clients", 5000, "client hosts across countries and ASNs")
	fs.IntVar(&cfg.Servers, "servers", 64, "servers in 203.0.113.0/24 and 2001:db8:100::/48")
	fs.Float64Var(&cfg.IPv6Share, "ipv6-share", 0.2, "share of flows over IPv6 (negative: none)")
	fs.Float64Var(&cfg.DiurnalAmplitude, "diurnal", 0.5, "daily swing around the mean rate, peak at 20:00 UTC (negative: flat)")
	fs.DurationVar(&cfg.CounterInterval, "counter-interval", 30*time.Second, "interface counter samples every (simulated)")
	scenario := fs.String("scenario", "", "TOML scenario file with [[anomaly]] tables")
	var anomalies anomalyFlags
	fs.Var(&anomalies, "anomaly", `anomaly "kind,start=2m,duration=1m,target=203.0.113.10,sources=500,factor=20" (repeatable; kinds: ddos, portscan, link_failure, ramp)`)
	udp := fs.String("udp", "", "send sFlow datagrams to this collector address (host:port)")
	brokers := fs.String("brokers", "", "produce sflowtool lines to Kafka at these brokers (comma-separated); record time = simulated time")
	topic := fs.String("topic", "sflow", "Kafka topic (with -brokers)")
	out := fs.String("out", "", `write sflowtool lines to this file ("-": stdout)`)
	timesOut := fs.String("times", "", "with -out: write each line's simulated event time to this file, line by line")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if *start == "now" {
		cfg.Start = time.Now().UTC().Truncate(time.Second)
	} else if cfg.Start, err = time.Parse(time.RFC3339, *start); err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	cfg.SamplingRate = uint32(*sampling)
	cfg.Scenario = &gen.Scenario{}
	if *scenario != "" {
		if cfg.Scenario, err = gen.LoadScenario(*scenario); err != nil {
			return err
		}
	}
	cfg.Scenario.Anomalies = append(cfg.Scenario.Anomalies, anomalies...)
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	outputs := 0
	for _, s := range []string{*udp, *brokers, *out} {
		if s != "" {
			outputs++
		}
	}
	if outputs != 1 {
		return fmt.Errorf("choose exactly one output: -udp, -brokers or -out")
	}
	g, err := gen.New(cfg)
	if err != nil {
		return err
	}
	for _, in := range g.Injections() {
		fmt.Fprintf(os.Stderr, "scheduled: %s from %s to %s\n", in.Anomaly, in.From.UTC().Format(time.RFC3339), in.To.UTC().Format(time.RFC3339))
	}

	var st gen.Stats
	switch {
	case *udp != "":
		s, err := gen.NewUDPSink(*udp)
		if err != nil {
			return err
		}
		defer s.Close()
		if st, err = g.Run(ctx, s); err != nil {
			return err
		}
	case *brokers != "":
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*brokers, ",")...), kgo.DefaultProduceTopic(*topic),
			kgo.ProducerBatchCompression(kgo.Lz4Compression()))
		if err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		defer cl.Close()
		s := gen.NewKafkaSink(ctx, cl, *topic)
		if st, err = g.Run(ctx, s); err != nil {
			return err
		}
		flushCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Flush(flushCtx); err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
	default:
		var w io.Writer = os.Stdout
		if *out != "-" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		var tw io.Writer
		if *timesOut != "" {
			f, err := os.Create(*timesOut)
			if err != nil {
				return err
			}
			defer f.Close()
			tw = f
		}
		s := gen.NewLineSink(w, tw)
		if st, err = g.Run(ctx, s); err != nil {
			return err
		}
		if err := s.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "generated %d flow samples, %d counter samples in %d datagrams; simulated %s to %s in %s\n",
		st.FlowSamples, st.CounterSamples, st.Datagrams, cfg.Start.UTC().Format(time.RFC3339),
		st.SimEnd.UTC().Format(time.RFC3339), st.Wall.Round(time.Millisecond))
	for _, in := range g.Injections() {
		fmt.Fprintf(os.Stderr, "injected: %s\n", in)
	}
	return nil
}
