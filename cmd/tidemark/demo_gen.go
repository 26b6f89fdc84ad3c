package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/collect"
	"github.com/tidemark/tidemark/host/gen"
)

// The gen source of the demo: gen → UDP on 127.0.0.1 → collect → Kafka,
// all in this process.
//
// The collector stamps each record with its arrival (wall) time, but the
// demo runs simulated time faster than the wall clock, and event time must
// be simulated time for windows to close as fast as it advances. So the
// collector produces to "<topic>-raw" and a relay re-produces each record
// to the pipelines' topic with its simulated time, found exactly:
//
//   - the generator's sink runs in lockstep with the collector: before the
//     first datagram of a new generator tick it waits until the collector
//     has received every datagram sent so far;
//   - then it notes the wall millisecond at which the tick starts (a fresh
//     millisecond, since Kafka timestamps are milliseconds);
//   - a record stamped with arrival time a belongs to the last tick that
//     started at or before a.
//
// A collector option for its clock (collect.Config.Now) would let the
// collector stamp simulated time itself and remove the relay.

// simClock maps the collector's arrival timestamps (wall ms) to simulated
// time.
type simClock struct {
	mu    sync.Mutex
	marks []simMark // ascending in wall
	now   atomic.Int64
}

type simMark struct {
	wallMs int64
	sim    time.Time
}

// mark records that simulated time sim starts now. The caller guarantees
// that every record of the previous tick arrived before this call.
func (c *simClock) mark(sim time.Time) {
	arrived := time.Now().UnixMilli()
	// Wait for a fresh millisecond, so the previous tick's arrivals
	// (stamped at most `arrived`) sort strictly before this mark.
	for time.Now().UnixMilli() <= arrived {
		time.Sleep(time.Until(time.UnixMilli(arrived + 1)))
	}
	c.mu.Lock()
	c.marks = append(c.marks, simMark{wallMs: time.Now().UnixMilli(), sim: sim})
	c.mu.Unlock()
	c.now.Store(sim.UnixNano())
}

// sim is the simulated time of a record that arrived at wall time t.
func (c *simClock) sim(t time.Time) (time.Time, bool) {
	ms := t.UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	i := sort.Search(len(c.marks), func(i int) bool { return c.marks[i].wallMs > ms })
	if i == 0 {
		return time.Time{}, false
	}
	return c.marks[i-1].sim, true
}

// current is the simulated time of the tick being sent (zero before the first).
func (c *simClock) current() time.Time {
	if n := c.now.Load(); n != 0 {
		return time.Unix(0, n).UTC()
	}
	return time.Time{}
}

// lockstepSink hands datagrams to UDP and keeps the generator in step with
// the collector (see simClock).
type lockstepSink struct {
	udp      *gen.UDPSink
	clock    *simClock
	received func() uint64 // datagrams the collector has handled
	tick     time.Time
	sent     uint64
	lost     uint64 // given up on (not received within the wait)
}

// lockstepWait bounds the wait for the collector; a datagram not received
// by then is counted lost (UDP) and the generator goes on.
const lockstepWait = 2 * time.Second

func (s *lockstepSink) Datagram(t time.Time, agent netip.Addr, b []byte) error {
	if !t.Equal(s.tick) {
		s.settle()
		s.clock.mark(t)
		s.tick = t
	}
	s.sent++
	return s.udp.Datagram(t, agent, b)
}

// settle waits until the collector has handled every datagram sent.
func (s *lockstepSink) settle() {
	deadline := time.Now().Add(lockstepWait)
	for spins := 0; s.received()+s.lost < s.sent; spins++ {
		if time.Now().After(deadline) {
			s.lost = s.sent - s.received()
			return
		}
		if spins < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// counterTap is a prometheus.Registerer that registers with reg and keeps
// the counters and gauges whose names it is asked for, so the demo can
// read the collector's progress without scraping.
type counterTap struct {
	reg  *prometheus.Registry
	mu   sync.Mutex
	want map[string]prometheus.Metric
}

func newCounterTap(names ...string) *counterTap {
	t := &counterTap{reg: prometheus.NewRegistry(), want: map[string]prometheus.Metric{}}
	for _, n := range names {
		t.want[n] = nil
	}
	return t
}

func (t *counterTap) Register(c prometheus.Collector) error {
	if m, ok := c.(prometheus.Metric); ok {
		desc := m.Desc().String()
		t.mu.Lock()
		for n := range t.want {
			if strings.Contains(desc, `fqName: "`+n+`"`) {
				t.want[n] = m
			}
		}
		t.mu.Unlock()
	}
	return t.reg.Register(c)
}

func (t *counterTap) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *counterTap) Unregister(c prometheus.Collector) bool { return t.reg.Unregister(c) }

// missing lists the names asked for that were never registered.
func (t *counterTap) missing() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for n, m := range t.want {
		if m == nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// value reads a kept counter or gauge (0 when it was never registered).
func (t *counterTap) value(name string) float64 {
	t.mu.Lock()
	m := t.want[name]
	t.mu.Unlock()
	if m == nil {
		return 0
	}
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		return 0
	}
	switch {
	case out.Counter != nil:
		return out.Counter.GetValue()
	case out.Gauge != nil:
		return out.Gauge.GetValue()
	}
	return 0
}

const (
	metricDatagrams = "tidemark_collect_datagrams_total"
	metricProduced  = "tidemark_collect_records_produced_total"
	metricBuffered  = "tidemark_collect_records_buffered"
)

// genSource runs generator, collector and relay.
type genSource struct {
	g       *gen.Generator
	clock   simClock
	tap     *counterTap
	col     *collect.Collector
	relay   *kgo.Client
	relayed atomic.Int64 // records re-produced with simulated time
	dropped atomic.Int64 // records the relay could not place or produce
	sink    *lockstepSink
	stats   gen.Stats
	done    chan struct{} // closed when the generator has finished
	err     error
}

func newGenSource(cfg gen.Config, brokers []string, topic string, log *slog.Logger) (*genSource, error) {
	g, err := gen.New(cfg)
	if err != nil {
		return nil, err
	}
	s := &genSource{g: g, done: make(chan struct{}),
		tap: newCounterTap(metricDatagrams, metricProduced, metricBuffered)}
	s.col, err = collect.New(collect.Config{
		Listen: "127.0.0.1:0", Brokers: brokers, Topic: rawTopic(topic), Compression: "none",
		Registry: s.tap, Logger: log, FlushTimeout: 5 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	closeCollector := func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = s.col.Run(ctx) // closes its sockets and client
	}
	if missing := s.tap.missing(); len(missing) > 0 {
		closeCollector()
		return nil, fmt.Errorf("collector: the demo follows its progress through %v, which it no longer registers", missing)
	}
	s.relay, err = kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{rawTopic(topic): {0: kgo.NewOffset().AtStart()}}),
		kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(2*time.Millisecond))
	if err != nil {
		closeCollector()
		return nil, fmt.Errorf("relay: %w", err)
	}
	udp, err := gen.NewUDPSink(s.col.Addr().String())
	if err != nil {
		s.relay.Close()
		closeCollector()
		return nil, err
	}
	s.sink = &lockstepSink{udp: udp, clock: &s.clock, received: func() uint64 { return uint64(s.tap.value(metricDatagrams)) }}
	return s, nil
}

func rawTopic(topic string) string { return topic + "-raw" }

// start runs collector and relay until ctx ends, and the generator until
// it finishes or genCtx ends (then s.done is closed).
func (s *genSource) start(ctx, genCtx context.Context, wg *sync.WaitGroup) {
	wg.Add(3)
	go func() {
		defer wg.Done()
		_ = s.col.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		s.runRelay(ctx)
	}()
	go func() {
		defer wg.Done()
		defer close(s.done)
		defer s.sink.udp.Close()
		s.stats, s.err = s.g.Run(genCtx, s.sink)
		if s.err == nil {
			s.sink.settle()
		}
	}()
}

func (s *genSource) runRelay(ctx context.Context) {
	defer s.relay.Close()
	for {
		fs := s.relay.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			t, ok := s.clock.sim(r.Timestamp)
			if !ok {
				s.dropped.Add(1)
				return
			}
			out := &kgo.Record{Key: r.Key, Value: r.Value, Timestamp: t}
			s.relay.Produce(ctx, out, func(_ *kgo.Record, err error) {
				if err != nil {
					s.dropped.Add(1)
					return
				}
				s.relayed.Add(1)
			})
		})
	}
}

// produced is how many records the collector produced.
func (s *genSource) produced() int64 { return int64(s.tap.value(metricProduced)) }

// flushed reports whether everything generated so far is on the pipelines' topic.
func (s *genSource) flushed() bool {
	return s.tap.value(metricBuffered) == 0 && s.relayed.Load()+s.dropped.Load() >= s.produced()
}

// waitFlushed waits until flushed or the timeout.
func (s *genSource) waitFlushed(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !s.flushed() {
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: collector produced %d, relayed %d", timeout, s.produced(), s.relayed.Load())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// scenarioEnd is when the last anomaly ends, as an offset from the start.
func scenarioEnd(sc *gen.Scenario) time.Duration {
	var end time.Duration
	for _, a := range sc.Anomalies {
		end = max(end, a.Start+a.Duration)
	}
	return end
}
