// Package collect receives sFlow datagrams on UDP, decodes them and produces
// one Kafka record per sample (an sflowtool -l line or a JSON object), keyed
// by agent address so each agent's records stay in order on one partition.
//
// UDP cannot push back: while Kafka is unreachable the producer buffers up to
// Config.BufferMax records, then new records are dropped and counted
// (tidemark_collect_records_dropped_total) and logged at most every 10s.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/tidemark/tidemark/host/sflow"
)

// Config configures a collector.
type Config struct {
	Listen        string   // UDP address, e.g. ":6343"
	Workers       int      // sockets bound with SO_REUSEPORT, one goroutine each (default 1)
	Brokers       []string // Kafka seed brokers
	Topic         string
	Format        string // "sflowtool" (default) or "json"
	BatchMaxBytes int    // producer batch size per partition (default 1 MiB)
	Compression   string // "none", "gzip", "snappy", "lz4" (default), "zstd"
	BufferMax     int    // records buffered while Kafka is slow or down (default 100000)
	Registry      prometheus.Registerer
	Logger        *slog.Logger
	FlushTimeout  time.Duration // how long shutdown waits for buffered records (default 10s)
}

func (c *Config) setDefaults() error {
	if c.Listen == "" {
		c.Listen = ":6343"
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.Format == "" {
		c.Format = "sflowtool"
	}
	if c.Format != "sflowtool" && c.Format != "json" {
		return fmt.Errorf("collect: format %q: want sflowtool or json", c.Format)
	}
	if len(c.Brokers) == 0 {
		return errors.New("collect: no brokers")
	}
	if c.Topic == "" {
		return errors.New("collect: no topic")
	}
	if c.BatchMaxBytes <= 0 {
		c.BatchMaxBytes = 1 << 20
	}
	if c.BufferMax <= 0 {
		c.BufferMax = 100000
	}
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry() // metrics still counted, just not exported
	}
	return nil
}

func compression(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "", "lz4":
		return kgo.Lz4Compression(), nil
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("collect: compression %q: want none, gzip, snappy, lz4 or zstd", name)
}

type metrics struct {
	datagrams    prometheus.Counter
	samples      *prometheus.CounterVec
	decodeErrors *prometheus.CounterVec
	seqGaps      *prometheus.CounterVec
	produced     prometheus.Counter
	dropped      *prometheus.CounterVec
	buffered     prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, buffered func() float64) (*metrics, error) {
	m := &metrics{
		datagrams: prometheus.NewCounter(prometheus.CounterOpts{Name: "tidemark_collect_datagrams_total",
			Help: "sFlow datagrams received."}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_collect_samples_total",
			Help: "sFlow samples decoded, by type (flow, counters, other = skipped types)."}, []string{"type"}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_collect_decode_errors_total",
			Help: "Datagrams that failed to decode (samples before the error are kept), by reason."}, []string{"reason"}),
		seqGaps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_collect_sequence_gap_datagrams_total",
			Help: "Datagrams missing according to each agent's datagram sequence numbers (lost in the network or the socket buffer)."},
			[]string{"agent", "sub_agent"}),
		produced: prometheus.NewCounter(prometheus.CounterOpts{Name: "tidemark_collect_records_produced_total",
			Help: "Records acknowledged by Kafka."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_collect_records_dropped_total",
			Help: "Records dropped: buffer_full (Kafka slow or down longer than the buffer lasts) or produce_error."}, []string{"reason"}),
		buffered: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tidemark_collect_records_buffered",
			Help: "Records waiting in the producer buffer."}, buffered),
	}
	for _, t := range []string{"flow", "counters", "other"} {
		m.samples.WithLabelValues(t)
	}
	for _, r := range []string{"buffer_full", "produce_error"} {
		m.dropped.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.datagrams, m.samples, m.decodeErrors, m.seqGaps, m.produced, m.dropped, m.buffered} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("collect: register metrics: %w", err)
		}
	}
	return m, nil
}

// Collector is a running UDP → Kafka collector.
type Collector struct {
	cfg     Config
	conns   []*net.UDPConn
	client  *kgo.Client
	m       *metrics
	flowCtr prometheus.Counter
	cntrCtr prometheus.Counter
	otherCt prometheus.Counter

	seqMu sync.Mutex
	seqs  map[agentKey]uint32

	dropsSinceLog atomic.Int64
	lastDropLog   atomic.Int64 // unix nanos
}

// maxAgents bounds per-agent state (sequence numbers, record keys), so
// datagrams with spoofed agent addresses cannot grow memory without bound.
const maxAgents = 65536

type agentKey struct {
	addr netip.Addr
	sub  uint32
}

// New binds the UDP sockets and creates the Kafka producer; Run starts work.
func New(cfg Config) (*Collector, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	codec, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	c := &Collector{cfg: cfg, seqs: make(map[agentKey]uint32)}
	// Sockets first: a busy port fails before anything else is set up.
	if err := c.listen(); err != nil {
		return nil, err
	}
	c.client, err = kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.ProducerBatchMaxBytes(int32(cfg.BatchMaxBytes)),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedRecords(cfg.BufferMax),
		kgo.ProducerLinger(5*time.Millisecond),
	)
	if err != nil {
		c.closeConns()
		return nil, fmt.Errorf("collect: kafka client: %w", err)
	}
	c.m, err = newMetrics(cfg.Registry, func() float64 { return float64(c.client.BufferedProduceRecords()) })
	if err != nil {
		c.closeConns()
		c.client.Close()
		return nil, err
	}
	c.flowCtr = c.m.samples.WithLabelValues("flow")
	c.cntrCtr = c.m.samples.WithLabelValues("counters")
	c.otherCt = c.m.samples.WithLabelValues("other")
	return c, nil
}

// listen binds Workers sockets to the same address with SO_REUSEPORT, so the
// kernel spreads agents over them. With port 0 the first socket's port is reused.
func (c *Collector) listen() error {
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			if serr == nil {
				// Bursts of datagrams must not overflow the default ~200 KiB buffer.
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	addr := c.cfg.Listen
	for i := 0; i < c.cfg.Workers; i++ {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			c.closeConns()
			return fmt.Errorf("collect: listen %s: %w", addr, err)
		}
		conn := pc.(*net.UDPConn)
		c.conns = append(c.conns, conn)
		addr = conn.LocalAddr().String()
	}
	return nil
}

func (c *Collector) closeConns() {
	for _, conn := range c.conns {
		conn.Close()
	}
}

// Addr is the bound UDP address.
func (c *Collector) Addr() net.Addr { return c.conns[0].LocalAddr() }

// Run serves until ctx is done, then flushes what the producer holds (for up
// to FlushTimeout) and closes. It returns nil on a clean shutdown.
func (c *Collector) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, conn := range c.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.serve(conn)
		}()
	}
	c.cfg.Logger.Info("collecting sFlow", "listen", c.Addr().String(), "workers", len(c.conns),
		"topic", c.cfg.Topic, "format", c.cfg.Format)
	<-ctx.Done()
	c.closeConns()
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.Background(), c.cfg.FlushTimeout)
	defer cancel()
	if err := c.client.Flush(flushCtx); err != nil {
		c.cfg.Logger.Warn("collect: records left unflushed at shutdown", "records", c.client.BufferedProduceRecords(), "err", err)
	}
	c.client.Close()
	return nil
}

// Run is New followed by Collector.Run.
func Run(ctx context.Context, cfg Config) error {
	c, err := New(cfg)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

// batchSize is how many datagrams one recvmmsg call may return.
const batchSize = 32

// batchReader reads several datagrams per system call (recvmmsg on Linux).
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchReader(conn *net.UDPConn) batchReader {
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return ipv4.NewPacketConn(conn)
	}
	return ipv6.NewPacketConn(conn)
}

func (c *Collector) serve(conn *net.UDPConn) {
	br := newBatchReader(conn)
	msgs := make([]ipv4.Message, batchSize)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 65536)}
	}
	w := &worker{c: c, keys: make(map[netip.Addr][]byte), json: c.cfg.Format == "json"}
	var dec sflow.Decoder
	for {
		n, err := br.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.cfg.Logger.Warn("collect: read", "err", err)
			continue
		}
		w.now = time.Now()
		for i := range msgs[:n] {
			c.handle(&dec, w, msgs[i].Buffers[0][:msgs[i].N])
		}
	}
}

func (c *Collector) handle(dec *sflow.Decoder, w *worker, datagram []byte) {
	c.m.datagrams.Inc()
	d, err := dec.Decode(datagram, w)
	if d.OtherSamples > 0 {
		c.otherCt.Add(float64(d.OtherSamples))
	}
	if err != nil {
		var de *sflow.DecodeError
		reason := "other"
		if errors.As(err, &de) {
			reason = string(de.Reason)
		}
		c.m.decodeErrors.WithLabelValues(reason).Inc()
		c.cfg.Logger.Debug("collect: decode", "err", err)
	}
	if d.Version == 5 && d.Agent.IsValid() && (err == nil || d.FlowSamples+d.CounterSamples > 0) {
		c.trackSequence(d)
	}
}

func (c *Collector) trackSequence(d *sflow.Datagram) {
	k := agentKey{d.Agent, d.SubAgentID}
	c.seqMu.Lock()
	last, seen := c.seqs[k]
	if seen || len(c.seqs) < maxAgents {
		c.seqs[k] = d.SequenceNo
	}
	c.seqMu.Unlock()
	// A lower or equal number is a restart or reordering: not a gap.
	if seen && d.SequenceNo > last+1 {
		c.m.seqGaps.WithLabelValues(d.Agent.String(), fmt.Sprint(d.SubAgentID)).Add(float64(d.SequenceNo - last - 1))
	}
}

type worker struct {
	c    *Collector
	keys map[netip.Addr][]byte
	json bool
	now  time.Time
	buf  []byte
}

func (w *worker) key(a netip.Addr) []byte {
	k, ok := w.keys[a]
	if !ok {
		k = []byte(a.String())
		if len(w.keys) < maxAgents {
			w.keys[a] = k
		}
	}
	return k
}

func (w *worker) Flow(d *sflow.Datagram, f *sflow.FlowSample) {
	w.c.flowCtr.Inc()
	if w.json {
		w.buf = sflow.AppendFlowJSON(w.buf[:0], d, f, w.now)
	} else {
		w.buf = sflow.AppendFlowLine(w.buf[:0], d, f)
	}
	w.produce(d)
}

func (w *worker) Counters(d *sflow.Datagram, s *sflow.CounterSample) {
	w.c.cntrCtr.Inc()
	if w.json {
		w.buf = sflow.AppendCounterJSON(w.buf[:0], d, s, w.now)
	} else {
		w.buf = sflow.AppendCounterLine(w.buf[:0], d, s)
	}
	w.produce(d)
}

// recordPool recycles records and their value buffers: franz-go hands a
// record back through its promise, after which it may be reused.
var recordPool = sync.Pool{New: func() any { return new(kgo.Record) }}

func (w *worker) produce(d *sflow.Datagram) {
	rec := recordPool.Get().(*kgo.Record)
	v := rec.Value[:0]
	*rec = kgo.Record{Key: w.key(d.Agent), Value: append(v, w.buf...), Timestamp: w.now}
	w.c.client.TryProduce(context.Background(), rec, w.c.promise)
}

func (c *Collector) promise(rec *kgo.Record, err error) {
	defer recordPool.Put(rec)
	switch {
	case err == nil:
		c.m.produced.Inc()
	case errors.Is(err, kgo.ErrMaxBuffered):
		c.m.dropped.WithLabelValues("buffer_full").Inc()
		c.logDrop("producer buffer full (Kafka slow or unreachable): dropping records")
	case errors.Is(err, kgo.ErrClientClosed):
		c.m.dropped.WithLabelValues("produce_error").Inc()
	default:
		c.m.dropped.WithLabelValues("produce_error").Inc()
		c.logDrop("produce failed: dropping record: " + err.Error())
	}
}

// logDrop logs at most every 10s, with the number of drops since the last log.
func (c *Collector) logDrop(msg string) {
	n := c.dropsSinceLog.Add(1)
	now := time.Now().UnixNano()
	last := c.lastDropLog.Load()
	if now-last < int64(10*time.Second) || !c.lastDropLog.CompareAndSwap(last, now) {
		return
	}
	c.dropsSinceLog.Add(-n)
	c.cfg.Logger.Error("collect: "+msg, "dropped", n, "buffer_max", c.cfg.BufferMax, "topic", c.cfg.Topic)
}
