package pipeline

// Offsets decides which Kafka offsets are safe to commit.
//
// The rule: after a crash, everything from the committed offset on is read
// again, and every window that receives a replayed record is computed again
// and overwrites its point. That is only right if such a window receives
// all of its records again, so the committed offset C of a partition must
// not be above the first offset of any window that has records at or after
// C. Open windows pin C at their first offset; written windows pin it too
// while they still have records at or after C (out-of-order input
// interleaves windows). C is the fixed point of those two rules.
//
// With C goes the event-time high-water mark as it was just before offset C
// was read, stored as commit metadata, so that a replay decides lateness as
// the first run did. (Exact for one partition; with several, the
// interleaving of partitions on replay may differ, as in any consumer.)
type Offsets struct {
	parts map[topicPartition]*partState
	last  *partState
	lastT string
	lastP int32
}

type topicPartition struct {
	Topic     string
	Partition int32
}

type spanKey struct {
	pipe  int
	start int64
}

// span is one window's extent in one partition.
type span struct {
	start       int64
	min, max    int64
	evBeforeMin int64
	written     bool
}

type partState struct {
	next   int64 // next offset to read
	evNext int64 // high-water mark before reading next
	spans  map[spanKey]*span
	last   []*span // per pipe, the span of the last record: the common case
}

// Commit is what to commit for one partition.
type Commit struct {
	Offset   int64
	MaxEvent int64
}

// NewOffsets returns an empty tracker.
func NewOffsets() *Offsets {
	return &Offsets{parts: map[topicPartition]*partState{}}
}

func (o *Offsets) part(topic string, partition int32) *partState {
	if o.last != nil && o.lastP == partition && o.lastT == topic {
		return o.last
	}
	k := topicPartition{topic, partition}
	ps := o.parts[k]
	if ps == nil {
		ps = &partState{next: -1, spans: map[spanKey]*span{}}
		o.parts[k] = ps
	}
	o.last, o.lastT, o.lastP = ps, topic, partition
	return ps
}

// InWindow records that the message at offset went into a pipeline's
// window; evBefore is the high-water mark before the message was read.
func (o *Offsets) InWindow(pipe int, start int64, topic string, partition int32, offset, evBefore int64) {
	ps := o.part(topic, partition)
	for len(ps.last) <= pipe {
		ps.last = append(ps.last, nil)
	}
	sp := ps.last[pipe]
	if sp == nil || sp.start != start || sp.written {
		k := spanKey{pipe, start}
		sp = ps.spans[k]
		if sp == nil || sp.written {
			// A written window that receives a record again can only be
			// a replay after Reset; start a fresh span.
			sp = &span{start: start, min: offset, max: offset, evBeforeMin: evBefore}
			ps.spans[k] = sp
		}
		ps.last[pipe] = sp
	}
	if offset < sp.min {
		sp.min, sp.evBeforeMin = offset, evBefore
	}
	if offset > sp.max {
		sp.max = offset
	}
}

// Done records that offset has been fully processed; ev is the high-water
// mark after it.
func (o *Offsets) Done(topic string, partition int32, offset, ev int64) {
	ps := o.part(topic, partition)
	if offset+1 > ps.next {
		ps.next, ps.evNext = offset+1, ev
	}
}

// Written marks a pipeline's window as acknowledged by the sink.
func (o *Offsets) Written(pipe int, start int64) {
	k := spanKey{pipe, start}
	for _, ps := range o.parts {
		if sp := ps.spans[k]; sp != nil {
			sp.written = true
		}
	}
}

// Committable returns, per topic and partition, the offset to commit and
// its metadata, and forgets written windows that no longer matter.
func (o *Offsets) Committable() map[string]map[int32]Commit {
	out := map[string]map[int32]Commit{}
	for tp, ps := range o.parts {
		if ps.next < 0 {
			continue
		}
		c := Commit{Offset: ps.next, MaxEvent: ps.evNext}
		for _, sp := range ps.spans {
			if !sp.written && sp.min < c.Offset {
				c = Commit{Offset: sp.min, MaxEvent: sp.evBeforeMin}
			}
		}
		for changed := true; changed; {
			changed = false
			for _, sp := range ps.spans {
				if sp.written && sp.max >= c.Offset && sp.min < c.Offset {
					c = Commit{Offset: sp.min, MaxEvent: sp.evBeforeMin}
					changed = true
				}
			}
		}
		for k, sp := range ps.spans {
			if sp.written && sp.max < c.Offset {
				delete(ps.spans, k)
				for i, l := range ps.last {
					if l == sp {
						ps.last[i] = nil
					}
				}
			}
		}
		if out[tp.Topic] == nil {
			out[tp.Topic] = map[int32]Commit{}
		}
		out[tp.Topic][tp.Partition] = c
	}
	return out
}

// Forget drops partitions that were revoked: their next owner starts from
// their committed offsets.
func (o *Offsets) Forget(topic string, partitions []int32) {
	for _, p := range partitions {
		delete(o.parts, topicPartition{topic, p})
	}
	o.last = nil
}

// Pending is the number of tracked windows (for metrics and tests).
func (o *Offsets) Pending() int {
	n := 0
	for _, ps := range o.parts {
		n += len(ps.spans)
	}
	return n
}
