// Package pipeline wires decode → transform → window → sink, tracks which
// Kafka offsets are safe to commit, and runs the whole thing against Kafka.
package pipeline

import (
	"bytes"
	"sync/atomic"
	"time"

	"github.com/tidemark/tidemark/host/decode"
	"github.com/tidemark/tidemark/host/record"
	"github.com/tidemark/tidemark/host/window"
)

// Source locates a message in Kafka.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
	// Timestamp is the Kafka record timestamp in Unix ns: the event time
	// for formats that carry none (sflowtool).
	Timestamp int64
}

// DeadLetter is a record the pipeline could not use, with why.
type DeadLetter struct {
	Src      Source
	Pipeline string // "" for decode errors, which precede all pipelines
	Stage    string // decode, transform, late, sink
	Reason   string
	Msg      string
	Value    []byte // aliases the input; copy before keeping
}

// Engine is the single-goroutine hot path: Process is called for every
// message in order; nothing in it allocates for a valid record.
type Engine struct {
	dec      decode.Decoder
	base     *record.Row
	typeSlot int
	pipes    []*Pipe
	// maxEvent is the largest event time seen, over all records.
	maxEvent int64
	// clocks hold each input partition's largest event time. The
	// watermark of every pipeline is the smallest of them (over partitions
	// that have had records and are not idle) minus the lateness: a
	// partition read ahead of another (catching up after a restart, an
	// uneven fetch) does not make the other's records late. A partition
	// counts from its first record: holding every window for partitions
	// that may never carry data would make lateness depend on wall time.
	// A record filtered out by one pipeline still moves that pipeline's
	// time forward.
	clocks    map[topicPartition]*partClock
	lastClock *partClock
	lastTP    topicPartition
	basis     int64 // min over active clocks
	now       int64 // wall time of the current poll, for idleness
	// DeadLetter receives unusable records; nil drops them (they are
	// still counted).
	DeadLetter func(DeadLetter)
	Offsets    *Offsets

	Lines     atomic.Uint64
	Malformed reasonCounter
}

// Pipe is one pipeline's state inside the engine.
type Pipe struct {
	Spec     PipeSpec
	wantType []byte
	row      *record.Row
	baseLen  int
	Win      *window.Tumbling
	index    int

	In, Filtered, Aggregated, Late, Failed atomic.Uint64
	Errors                                 reasonCounter
	WindowsWritten, PointsWritten          atomic.Uint64
	// Mirrors of window state for readers on other goroutines, updated
	// once per poll by the consumer.
	openWindows, overflow atomic.Uint64
}

// NewEngine builds the hot path for a plan.
func NewEngine(plan *Plan) (*Engine, error) {
	e := &Engine{dec: plan.Decoder, base: record.NewRow(plan.Decoder.Schema()), typeSlot: -1, Offsets: NewOffsets(),
		maxEvent: minTime, basis: minTime, clocks: map[topicPartition]*partClock{}}
	if slot, kind, ok := plan.Decoder.Schema().Lookup("type"); ok && kind == record.String {
		e.typeSlot = slot
	}
	for i, spec := range plan.Pipes {
		wc := spec.Window
		wc.ExternalWatermark = true
		win, err := window.NewTumbling(wc)
		if err != nil {
			return nil, err
		}
		p := &Pipe{Spec: spec, row: record.NewRow(spec.Schema), baseLen: plan.Decoder.Schema().Len(), Win: win, index: i}
		switch spec.Records {
		case "flow":
			p.wantType = []byte("FLOW")
		case "counter":
			p.wantType = []byte("CNTR")
		}
		if e.typeSlot < 0 {
			p.wantType = nil
		}
		e.pipes = append(e.pipes, p)
	}
	return e, nil
}

// Pipes are the engine's pipelines in config order.
func (e *Engine) Pipes() []*Pipe { return e.pipes }

// MaxEvent is the largest event time seen (Unix ns).
func (e *Engine) MaxEvent() int64 { return e.maxEvent }

const minTime = -1 << 63

// partClock is one input partition's event-time progress.
type partClock struct {
	max      int64 // largest event time read from it
	lastWall int64 // wall time of its last record (or of its assignment)
	idle     bool  // left out of the watermark until it has records again
}

// Revoke forgets a partition (it went to another consumer).
func (e *Engine) Revoke(topic string, partition int32) {
	delete(e.clocks, topicPartition{topic, partition})
	e.lastClock = nil
	e.recompute()
}

// Restore sets a partition's clock from commit metadata on restart: the
// largest event time read from it before the committed offset, so records
// that were late before a crash are late again when replayed.
func (e *Engine) Restore(topic string, partition int32, max, now int64) {
	k := topicPartition{topic, partition}
	c := e.clocks[k]
	if c == nil {
		c = &partClock{max: minTime}
		e.clocks[k] = c
	}
	if max > c.max {
		c.max = max
	}
	c.lastWall, c.idle = now, false
	if max > e.maxEvent {
		e.maxEvent = max
	}
	e.lastClock = nil
	e.recompute()
}

// Tick marks partitions without records for longer than idle (wall
// time) as idle, so that a quiet partition does not hold every window
// open. now is also the wall time recorded for the records that follow.
func (e *Engine) Tick(now int64, idle time.Duration) {
	e.now = now
	changed := false
	for _, c := range e.clocks {
		if !c.idle && now-c.lastWall >= int64(idle) {
			c.idle, changed = true, true
		}
	}
	if changed {
		e.recompute()
	}
}

// recompute sets the watermark basis to the smallest clock of the active
// partitions and moves every pipeline's watermark up to it.
func (e *Engine) recompute() {
	basis := int64(minTime)
	first := true
	for _, c := range e.clocks {
		if c.idle {
			continue
		}
		if first || c.max < basis {
			basis, first = c.max, false
		}
	}
	if first {
		// Every partition is idle: the newest time seen is the basis.
		basis = e.maxEvent
	}
	e.basis = basis
	if basis == minTime {
		return
	}
	for _, p := range e.pipes {
		p.Win.AdvanceTo(basis - int64(p.Spec.Window.Lateness))
	}
}

func (e *Engine) clock(src *Source) *partClock {
	if e.lastClock != nil && e.lastTP.Partition == src.Partition && e.lastTP.Topic == src.Topic {
		return e.lastClock
	}
	k := topicPartition{src.Topic, src.Partition}
	c := e.clocks[k]
	if c == nil {
		c = &partClock{max: minTime, lastWall: e.now}
		e.clocks[k] = c
	}
	e.lastClock, e.lastTP = c, k
	return c
}

// observe folds one record's event time into its partition's clock.
func (e *Engine) observe(c *partClock, t int64) {
	if t > e.maxEvent {
		e.maxEvent = t
	}
	c.lastWall = e.now
	if c.idle {
		c.idle = false
		if t > c.max {
			c.max = t
		}
		e.recompute()
		return
	}
	if t <= c.max {
		return
	}
	wasMin := c.max <= e.basis
	c.max = t
	if wasMin {
		// Only the slowest partition moving can move the watermark.
		e.recompute()
	}
}

// Process handles one Kafka message: one record per line.
func (e *Engine) Process(msg []byte, src Source) {
	// The partition's high-water mark before this message is what a replay
	// starting here must restore.
	c := e.clock(&src)
	before := c.max
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		e.processLine(line, src, c, before)
	}
	e.Offsets.Done(src.Topic, src.Partition, src.Offset, c.max)
}

func (e *Engine) processLine(line []byte, src Source, c *partClock, before int64) {
	e.Lines.Add(1)
	row := e.base
	row.Reset()
	if err := e.dec.Decode(line, row); err != nil {
		e.Malformed.inc(err.Reason)
		e.dead(DeadLetter{Src: src, Stage: "decode", Reason: err.Reason, Msg: err.Msg, Value: line})
		return
	}
	if !e.dec.HasTime() {
		row.Time = src.Timestamp
	}
	e.observe(c, row.Time)
	for _, p := range e.pipes {
		if p.wantType != nil && !bytes.Equal(row.Str[e.typeSlot], p.wantType) {
			continue
		}
		p.In.Add(1)
		r := p.row
		n := p.baseLen
		copy(r.Num[:n], row.Num[:n])
		copy(r.Str[:n], row.Str[:n])
		r.Time = row.Time
		r.Scratch = r.Scratch[:0]
		keep, err := p.Spec.Program.Run(r)
		if err != nil {
			p.Failed.Add(1)
			p.Errors.inc(err.Reason)
			e.dead(DeadLetter{Src: src, Pipeline: p.Spec.Name, Stage: "transform", Reason: err.Reason, Msg: err.Msg, Value: line})
			continue
		}
		if !keep {
			p.Filtered.Add(1)
			continue
		}
		start, late := p.Win.Add(r)
		if late {
			p.Late.Add(1)
			if p.Spec.LateDeadLetter {
				e.dead(DeadLetter{Src: src, Pipeline: p.Spec.Name, Stage: "late", Reason: "late", Msg: "window already closed", Value: line})
			}
			continue
		}
		p.Aggregated.Add(1)
		e.Offsets.InWindow(p.index, start, src.Topic, src.Partition, src.Offset, before)
	}
}

func (e *Engine) dead(d DeadLetter) {
	if e.DeadLetter != nil {
		e.DeadLetter(d)
	}
}

// CloseIdle closes every open window of every pipeline, as if the input
// had been idle past each idle_timeout.
func (e *Engine) CloseIdle() {
	for _, p := range e.pipes {
		e.closeIdle(p)
	}
}

// Ready pops every closed window, per pipeline.
func (e *Engine) Ready() []Closed {
	var out []Closed
	for _, p := range e.pipes {
		p.openWindows.Store(uint64(p.Win.Open()))
		p.overflow.Store(p.Win.Overflowed())
		for _, r := range p.Win.Ready() {
			out = append(out, Closed{Pipe: p, Result: r})
		}
	}
	return out
}

// Closed is a window ready to be written.
type Closed struct {
	Pipe   *Pipe
	Result *window.Result
}

// reasonCounter counts by a small fixed set of reasons. The map is only
// touched on the error path.
type reasonCounter struct {
	m atomic.Pointer[map[string]*atomic.Uint64]
}

func (c *reasonCounter) inc(reason string) {
	for {
		cur := c.m.Load()
		if cur != nil {
			if n, ok := (*cur)[reason]; ok {
				n.Add(1)
				return
			}
		}
		next := map[string]*atomic.Uint64{}
		if cur != nil {
			for k, v := range *cur {
				next[k] = v
			}
		}
		next[reason] = new(atomic.Uint64)
		if c.m.CompareAndSwap(cur, &next) {
			continue
		}
	}
}

// Snapshot returns the counts by reason.
func (c *reasonCounter) Snapshot() map[string]uint64 {
	out := map[string]uint64{}
	if cur := c.m.Load(); cur != nil {
		for k, v := range *cur {
			out[k] = v.Load()
		}
	}
	return out
}

// Total is the sum over reasons.
func (c *reasonCounter) Total() uint64 {
	var n uint64
	for _, v := range c.Snapshot() {
		n += v
	}
	return n
}

// Index is the pipeline's position in the config.
func (p *Pipe) Index() int { return p.index }
