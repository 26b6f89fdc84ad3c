package gen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidemark/tidemark/host/sflow"
)

// UDPSink sends each datagram to a collector.
type UDPSink struct{ conn net.Conn }

// NewUDPSink dials addr ("host:port").
func NewUDPSink(addr string) (*UDPSink, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("gen: udp sink: %w", err)
	}
	return &UDPSink{conn: c}, nil
}

// Datagram sends b. A refused datagram (nothing listening yet) is not an
// error: sFlow agents do not care either.
func (s *UDPSink) Datagram(_ time.Time, _ netip.Addr, b []byte) error {
	if _, err := s.conn.Write(b); err != nil && !isRefused(err) {
		return err
	}
	return nil
}

// Close closes the socket.
func (s *UDPSink) Close() error { return s.conn.Close() }

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// lineHandler turns decoded samples into sflowtool lines.
type lineHandler struct {
	buf  []byte
	emit func(line []byte) error
	err  error
}

func (h *lineHandler) Flow(d *sflow.Datagram, f *sflow.FlowSample) {
	h.buf = sflow.AppendFlowLine(h.buf[:0], d, f)
	if h.err == nil {
		h.err = h.emit(h.buf)
	}
}

func (h *lineHandler) Counters(d *sflow.Datagram, c *sflow.CounterSample) {
	h.buf = sflow.AppendCounterLine(h.buf[:0], d, c)
	if h.err == nil {
		h.err = h.emit(h.buf)
	}
}

// LineSink writes the `sflowtool -l` lines of each datagram to W (exactly
// what sflowtool would print for it) and, if Times is set, the simulated
// event time of each line (RFC 3339, UTC, ms) on the same line number of Times.
type LineSink struct {
	w, times *bufio.Writer
	dec      sflow.Decoder
	h        lineHandler
	ts       []byte
}

// NewLineSink writes lines to w and, when times is not nil, their event times.
func NewLineSink(w, times io.Writer) *LineSink {
	s := &LineSink{w: bufio.NewWriterSize(w, 64<<10)}
	if times != nil {
		s.times = bufio.NewWriterSize(times, 16<<10)
	}
	s.h.emit = func(line []byte) error {
		s.w.Write(line)
		if err := s.w.WriteByte('\n'); err != nil {
			return err
		}
		if s.times != nil {
			s.times.Write(s.ts)
			return s.times.WriteByte('\n')
		}
		return nil
	}
	return s
}

// Datagram decodes b and writes its lines.
func (s *LineSink) Datagram(t time.Time, _ netip.Addr, b []byte) error {
	s.ts = t.UTC().AppendFormat(s.ts[:0], "2006-01-02T15:04:05.000Z07:00")
	s.h.err = nil
	if _, err := s.dec.Decode(b, &s.h); err != nil {
		return fmt.Errorf("gen: decode own datagram: %w", err)
	}
	return s.h.err
}

// Flush writes buffered lines out.
func (s *LineSink) Flush() error {
	if s.times != nil {
		if err := s.times.Flush(); err != nil {
			return err
		}
	}
	return s.w.Flush()
}

// KafkaSink produces each datagram's sflowtool lines as records keyed by
// agent, with the record timestamp set to the simulated event time (the
// lines themselves carry no time).
type KafkaSink struct {
	ctx    context.Context
	client *kgo.Client
	topic  string
	dec    sflow.Decoder
	h      lineHandler
	key    []byte
	ts     time.Time
	errs   chan error
}

// NewKafkaSink produces to topic with client. Produce blocks when the
// client's buffer is full, which paces the generator to what Kafka accepts.
func NewKafkaSink(ctx context.Context, client *kgo.Client, topic string) *KafkaSink {
	s := &KafkaSink{ctx: ctx, client: client, topic: topic, errs: make(chan error, 1)}
	s.h.emit = func(line []byte) error {
		rec := &kgo.Record{Topic: s.topic, Key: s.key, Value: append([]byte(nil), line...), Timestamp: s.ts}
		s.client.Produce(s.ctx, rec, s.promise)
		select {
		case err := <-s.errs:
			return err
		default:
			return nil
		}
	}
	return s
}

func (s *KafkaSink) promise(_ *kgo.Record, err error) {
	if err != nil {
		select {
		case s.errs <- err:
		default:
		}
	}
}

// Datagram decodes b and produces its lines.
func (s *KafkaSink) Datagram(t time.Time, agent netip.Addr, b []byte) error {
	s.ts = t
	s.key = []byte(agent.String())
	s.h.err = nil
	if _, err := s.dec.Decode(b, &s.h); err != nil {
		return fmt.Errorf("gen: decode own datagram: %w", err)
	}
	return s.h.err
}

// Flush waits until every produced record is acknowledged.
func (s *KafkaSink) Flush(ctx context.Context) error {
	if err := s.client.Flush(ctx); err != nil {
		return err
	}
	select {
	case err := <-s.errs:
		return fmt.Errorf("gen: produce: %w", err)
	default:
		return nil
	}
}

// DiscardSink counts datagrams and drops them (benchmarks, dry runs).
type DiscardSink struct{ Datagrams, Bytes int64 }

// Datagram counts b.
func (s *DiscardSink) Datagram(_ time.Time, _ netip.Addr, b []byte) error {
	s.Datagrams++
	s.Bytes += int64(len(b))
	return nil
}
