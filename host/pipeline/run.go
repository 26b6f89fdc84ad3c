package pipeline

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/sink"
	"github.com/tidemark/tidemark/host/window"
)

// Options configure a Runner.
type Options struct {
	Config *config.Config
	Plan   *Plan
	// Sinks receive every closed window, in order; a window counts as
	// written when all have acknowledged it.
	Sinks  []sink.Sink
	Logger *slog.Logger
	// OnWindow is called after a window was acknowledged by every sink
	// (the analyzers hang here). It runs on the consumer goroutine: a slow
	// callback slows consumption, which is the intended backpressure.
	OnWindow func(ctx context.Context, pipe *Pipe, w *sink.Window, r *window.Result)
	// OnCommit is called after offsets were committed.
	OnCommit func(map[string]map[int32]Commit)
	// KafkaOpts are appended to the client options (tests, TLS tweaks).
	KafkaOpts []kgo.Opt
	// Crash, when true, makes cancellation stop at once, without the final
	// commit, as a killed process would (crash tests).
	Crash bool
	// PollWait bounds one poll, and so how soon idle input is noticed.
	PollWait time.Duration
}

// Runner consumes the input topics and drives the engine.
type Runner struct {
	opts    Options
	engine  *Engine
	log     *slog.Logger
	client  *kgo.Client
	idle    []time.Duration
	minIdle time.Duration

	lastCommit map[string]map[int32]Commit
	dlMu       sync.Mutex
	dlErr      error

	DeadLettered    atomic.Uint64
	DeadLetterFails atomic.Uint64
	SinkRejected    atomic.Uint64
	SinkRetries     atomic.Uint64
	Commits         atomic.Uint64
	Records         atomic.Uint64 // Kafka records consumed
	lastRecordWall  atomic.Int64
	ready           atomic.Bool
	lag             atomic.Pointer[map[string]map[int32]int64]
}

// NewRunner prepares a runner; nothing connects until Run.
func NewRunner(opts Options) (*Runner, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollWait == 0 {
		opts.PollWait = 200 * time.Millisecond
	}
	e, err := NewEngine(opts.Plan)
	if err != nil {
		return nil, err
	}
	r := &Runner{opts: opts, engine: e, log: opts.Logger}
	for i := range opts.Plan.Pipes {
		r.idle = append(r.idle, opts.Config.Limits(i).Idle)
		if r.minIdle == 0 || r.idle[i] < r.minIdle {
			r.minIdle = r.idle[i]
		}
	}
	e.DeadLetter = r.deadLetter
	return r, nil
}

// Engine exposes counters for metrics and the console.
func (r *Runner) Engine() *Engine { return r.engine }

// Ready reports whether the runner has joined Kafka and is consuming.
func (r *Runner) Ready() bool { return r.ready.Load() }

// Lag is the consumer lag per topic and partition at the last poll.
func (r *Runner) Lag() map[string]map[int32]int64 {
	if p := r.lag.Load(); p != nil {
		return *p
	}
	return nil
}

// KafkaOptions turns the input config into franz-go options.
func KafkaOptions(in config.Input) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(in.Brokers...)}
	if in.TLS.Enabled {
		tc := &tls.Config{InsecureSkipVerify: in.TLS.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
		if in.TLS.CAFile != "" {
			pem, err := os.ReadFile(in.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("input.tls.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("input.tls.ca_file %q: no certificates found", in.TLS.CAFile)
			}
			tc.RootCAs = pool
		}
		if in.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(in.TLS.CertFile, in.TLS.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("input.tls.cert_file: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch in.SASL.Mechanism {
	case "":
	case "PLAIN", "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: in.SASL.Username, Pass: in.SASL.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: in.SASL.Username, Pass: in.SASL.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: in.SASL.Username, Pass: in.SASL.Password}.AsSha512Mechanism()))
	}
	return opts, nil
}

// Run consumes until ctx is done. On a clean stop it commits what is safe
// and leaves; open windows are not flushed (their records are read again
// on the next start, which is what makes restarts exact).
func (r *Runner) Run(ctx context.Context) error {
	cfg := r.opts.Config
	opts, err := KafkaOptions(cfg.Input)
	if err != nil {
		return err
	}
	reset := kgo.NewOffset().AtStart()
	if cfg.Input.StartOffset == "latest" {
		reset = kgo.NewOffset().AtEnd()
	}
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Input.Group),
		kgo.ConsumeTopics(cfg.Topics()...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(reset),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onRevoked),
	)
	opts = append(opts, r.opts.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("input: kafka client: %w", err)
	}
	r.client = cl
	defer cl.Close()
	if err := r.restoreWatermark(ctx); err != nil {
		return err
	}
	r.ready.Store(true)
	defer r.ready.Store(false)
	r.lastRecordWall.Store(time.Now().UnixNano())
	lastCommit := time.Now()
	maxPoll := cfg.Input.MaxPollRecords
	for {
		pctx, cancel := context.WithTimeout(ctx, r.opts.PollWait)
		fetches := cl.PollRecords(pctx, maxPoll)
		cancel()
		// Partitions quiet for the shortest idle timeout stop holding the
		// watermark back.
		r.engine.Tick(time.Now().UnixNano(), r.minIdle)
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return r.stop()
		}
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			r.log.Warn("kafka fetch", "topic", t, "partition", p, "err", err)
		})
		n := 0
		fetches.EachRecord(func(rec *kgo.Record) {
			n++
			r.engine.Process(rec.Value, Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp.UnixNano()})
		})
		r.Records.Add(uint64(n))
		now := time.Now()
		if n > 0 {
			r.lastRecordWall.Store(now.UnixNano())
			r.updateLag(fetches)
		} else {
			idleFor := now.Sub(time.Unix(0, r.lastRecordWall.Load()))
			for i, p := range r.engine.pipes {
				if idleFor >= r.idle[i] && p.Win.Open() > 0 {
					r.engine.closeIdle(p)
				}
			}
		}
		wrote, err := r.writeReady(ctx)
		if err != nil {
			cl.AllowRebalance()
			if ctx.Err() != nil {
				return r.stop()
			}
			return err
		}
		if wrote || now.Sub(lastCommit) > time.Second {
			if err := r.commit(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("commit", "err", err)
			}
			lastCommit = now
		}
		cl.AllowRebalance()
	}
}

func (r *Runner) stop() error {
	if r.opts.Crash {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.commit(ctx); err != nil {
		return fmt.Errorf("final commit: %w", err)
	}
	return nil
}

// writeReady writes every closed window, blocking (with the sink's
// retries) until acknowledged: while InfluxDB is down nothing is polled.
func (r *Runner) writeReady(ctx context.Context) (bool, error) {
	closed := r.engine.Ready()
	for _, c := range closed {
		w := toSinkWindow(c)
		for _, s := range r.opts.Sinks {
			err := s.Write(ctx, w)
			var rej *sink.RejectedError
			switch {
			case err == nil:
			case errors.As(err, &rej):
				// A data error: the window can never be written as is.
				// Dead-letter its lines with the server's message and go on.
				r.SinkRejected.Add(uint64(len(rej.Lines)))
				r.log.Error("influxdb rejected window", "pipeline", c.Pipe.Spec.Name, "window", w.Start, "status", rej.Status, "err", rej.Message)
				for _, l := range rej.Lines {
					r.deadLetter(DeadLetter{Pipeline: c.Pipe.Spec.Name, Stage: "sink", Reason: "rejected_" + strconv.Itoa(rej.Status), Msg: rej.Message, Value: []byte(l)})
				}
			default:
				return false, fmt.Errorf("pipeline %q: write window %s: %w", c.Pipe.Spec.Name, w.Start.UTC().Format(time.RFC3339), err)
			}
		}
		c.Pipe.WindowsWritten.Add(1)
		c.Pipe.PointsWritten.Add(uint64(len(w.Points)))
		r.engine.Offsets.Written(c.Pipe.index, c.Result.Start)
		if r.opts.OnWindow != nil {
			r.opts.OnWindow(ctx, c.Pipe, w, c.Result)
		}
	}
	return len(closed) > 0, nil
}

func toSinkWindow(c Closed) *sink.Window {
	spec := c.Pipe.Spec
	w := &sink.Window{
		Measurement: spec.Name,
		Start:       time.Unix(0, c.Result.Start).UTC(),
		TagNames:    spec.Window.GroupNames,
		Points:      make([]sink.Point, len(c.Result.Points)),
	}
	for _, a := range spec.Window.Aggs {
		w.FieldNames = append(w.FieldNames, a.Name)
		w.FieldInt = append(w.FieldInt, window.FieldIsInt(a.Func))
	}
	for i, p := range c.Result.Points {
		w.Points[i] = sink.Point{Tags: p.Tags, Values: p.Values, Present: p.Present}
	}
	return w
}

func (e *Engine) closeIdle(p *Pipe) {
	if e.maxEvent == minTime {
		return
	}
	ws := p.Win.WindowStart(e.maxEvent)
	p.Win.AdvanceTo(ws + int64(p.Spec.Window.Size))
}

// commit flushes dead letters (they must be durable before the offsets
// that produced them are), then commits the safe offsets with the
// event-time high-water mark as metadata.
func (r *Runner) commit(ctx context.Context) error {
	cl := r.client
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush dead letters: %w", err)
	}
	r.dlMu.Lock()
	dlErr := r.dlErr
	r.dlErr = nil
	r.dlMu.Unlock()
	if dlErr != nil {
		// Keep the offsets where they are: the records are read again and
		// dead-lettered again rather than lost.
		return fmt.Errorf("dead letter produce failed, not committing: %w", dlErr)
	}
	cm := r.engine.Offsets.Committable()
	offsets := map[string]map[int32]kgo.EpochOffset{}
	changed := false
	for t, ps := range cm {
		for p, c := range ps {
			if prev, ok := r.lastCommit[t][p]; ok && prev == c {
				continue
			}
			if offsets[t] == nil {
				offsets[t] = map[int32]kgo.EpochOffset{}
			}
			offsets[t][p] = kgo.EpochOffset{Epoch: -1, Offset: c.Offset}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	cctx := kgo.PreCommitFnContext(ctx, func(req *kmsg.OffsetCommitRequest) error {
		for i := range req.Topics {
			t := &req.Topics[i]
			for j := range t.Partitions {
				p := &t.Partitions[j]
				if c, ok := cm[t.Topic][p.Partition]; ok {
					md := strconv.FormatInt(c.MaxEvent, 10)
					p.Metadata = &md
				}
			}
		}
		return nil
	})
	var cerr error
	cl.CommitOffsetsSync(cctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerrOf(p.ErrorCode); e != nil && cerr == nil {
					cerr = fmt.Errorf("commit %s[%d]: %w", t.Topic, p.Partition, e)
				}
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	r.Commits.Add(1)
	if r.lastCommit == nil {
		r.lastCommit = map[string]map[int32]Commit{}
	}
	for t, ps := range offsets {
		if r.lastCommit[t] == nil {
			r.lastCommit[t] = map[int32]Commit{}
		}
		for p := range ps {
			r.lastCommit[t][p] = cm[t][p]
		}
	}
	if r.opts.OnCommit != nil {
		r.opts.OnCommit(cm)
	}
	return nil
}

func (r *Runner) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	if err := r.commit(ctx); err != nil {
		r.log.Warn("commit on revoke", "err", err)
	}
	for t, ps := range revoked {
		r.engine.Offsets.Forget(t, ps)
		for _, p := range ps {
			r.engine.Revoke(t, p)
		}
	}
}

// restoreWatermark reads the high-water mark stored with the committed
// offsets, so lateness after a restart is decided as before it.
func (r *Runner) restoreWatermark(ctx context.Context) error {
	adm := kadm.NewClient(r.client)
	resp, err := adm.FetchOffsets(ctx, r.opts.Config.Input.Group)
	if err != nil {
		// A group that never committed is not an error.
		r.log.Debug("fetch committed offsets", "err", err)
		return nil
	}
	now := time.Now().UnixNano()
	n := 0
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil || o.Metadata == "" {
			return
		}
		if v, err := strconv.ParseInt(o.Metadata, 10, 64); err == nil {
			r.engine.Restore(o.Topic, o.Partition, v, now)
			n++
		}
	})
	if n > 0 {
		r.log.Info("restored event-time high-water marks", "partitions", n, "max", time.Unix(0, r.engine.MaxEvent()).UTC())
	}
	return nil
}

func (r *Runner) deadLetter(d DeadLetter) {
	topic := r.opts.Config.Input.DeadLetterTopic
	if topic == "" || r.client == nil {
		return
	}
	r.DeadLettered.Add(1)
	rec := &kgo.Record{
		Topic: topic,
		Value: append([]byte(nil), d.Value...),
		Headers: []kgo.RecordHeader{
			{Key: "tidemark-reason", Value: []byte(d.Reason)},
			{Key: "tidemark-stage", Value: []byte(d.Stage)},
			{Key: "tidemark-error", Value: []byte(d.Msg)},
		},
	}
	if d.Pipeline != "" {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: "tidemark-pipeline", Value: []byte(d.Pipeline)})
	}
	if d.Src.Topic != "" {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: "tidemark-source", Value: []byte(fmt.Sprintf("%s/%d/%d", d.Src.Topic, d.Src.Partition, d.Src.Offset))})
	}
	r.client.Produce(context.Background(), rec, func(_ *kgo.Record, err error) {
		if err != nil {
			r.DeadLetterFails.Add(1)
			r.dlMu.Lock()
			r.dlErr = err
			r.dlMu.Unlock()
			r.log.Error("dead letter produce", "topic", topic, "err", err)
		}
	})
}

func (r *Runner) updateLag(f kgo.Fetches) {
	lag := map[string]map[int32]int64{}
	f.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		if lag[p.Topic] == nil {
			lag[p.Topic] = map[int32]int64{}
		}
		last := p.Records[len(p.Records)-1].Offset
		l := p.HighWatermark - last - 1
		if l < 0 {
			l = 0
		}
		lag[p.Topic][p.Partition] = l
	})
	if old := r.lag.Load(); old != nil {
		for t, ps := range *old {
			for p, l := range ps {
				if _, ok := lag[t][p]; !ok {
					if lag[t] == nil {
						lag[t] = map[int32]int64{}
					}
					lag[t][p] = l
				}
			}
		}
	}
	r.lag.Store(&lag)
}
