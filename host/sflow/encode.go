package sflow

import (
	"encoding/binary"
	"net/netip"
)

// Builder assembles an sFlow v5 datagram. It appends into one reusable
// buffer, so building datagrams in a loop allocates nothing once warm.
//
//	b.Begin(agent, 0, seq, uptime)
//	b.BeginFlowSample(hdr)
//	b.RawHeader(HeaderProtoEthernet, frameLen, 4, header)
//	b.ExtendedSwitch(10, 0, 20, 0)
//	b.EndSample()
//	pkt := b.Bytes()
type Builder struct {
	b           []byte
	countAt     int // offset of the datagram's sample count
	samples     uint32
	sampleAt    int // offset of the open sample's length field, -1 if none
	recCountAt  int
	records     uint32
	recordLenAt int
}

// FlowSampleHeader is the fixed part of a flow sample.
type FlowSampleHeader struct {
	Expanded      bool
	SequenceNo    uint32
	SourceIDClass uint32 // 0 = ifIndex
	SourceIDIndex uint32
	SamplingRate  uint32
	SamplePool    uint32
	Drops         uint32
	InputFormat   uint32 // expanded only; compact samples pack it in the top 2 bits
	InputPort     uint32
	OutputFormat  uint32
	OutputPort    uint32
}

// CounterSampleHeader is the fixed part of a counter sample.
type CounterSampleHeader struct {
	Expanded      bool
	SequenceNo    uint32
	SourceIDClass uint32
	SourceIDIndex uint32
}

// Begin starts a new datagram, discarding any previous one.
func (w *Builder) Begin(agent netip.Addr, subAgentID, seq, uptime uint32) {
	w.b = w.b[:0]
	w.u32(5)
	if agent.Is4() {
		w.u32(addressTypeIPv4)
		a := agent.As4()
		w.b = append(w.b, a[:]...)
	} else {
		w.u32(addressTypeIPv6)
		a := agent.As16()
		w.b = append(w.b, a[:]...)
	}
	w.u32(subAgentID)
	w.u32(seq)
	w.u32(uptime)
	w.countAt = len(w.b)
	w.u32(0)
	w.samples = 0
	w.sampleAt = -1
}

// Len is the datagram's current size in bytes (to keep it under the MTU).
func (w *Builder) Len() int { return len(w.b) }

// Samples is the number of samples added since Begin.
func (w *Builder) Samples() int { return int(w.samples) }

// BeginFlowSample opens a flow sample; add records, then EndSample.
func (w *Builder) BeginFlowSample(h FlowSampleHeader) {
	if h.Expanded {
		w.u32(SampleFlowExpanded)
	} else {
		w.u32(SampleFlow)
	}
	w.sampleAt = len(w.b)
	w.u32(0)
	w.u32(h.SequenceNo)
	if h.Expanded {
		w.u32(h.SourceIDClass)
		w.u32(h.SourceIDIndex)
	} else {
		w.u32(h.SourceIDClass<<24 | h.SourceIDIndex&0x00ffffff)
	}
	w.u32(h.SamplingRate)
	w.u32(h.SamplePool)
	w.u32(h.Drops)
	if h.Expanded {
		w.u32(h.InputFormat)
		w.u32(h.InputPort)
		w.u32(h.OutputFormat)
		w.u32(h.OutputPort)
	} else {
		w.u32(h.InputFormat<<30 | h.InputPort&0x3fffffff)
		w.u32(h.OutputFormat<<30 | h.OutputPort&0x3fffffff)
	}
	w.recCountAt = len(w.b)
	w.u32(0)
	w.records = 0
}

// BeginCounterSample opens a counter sample; add records, then EndSample.
func (w *Builder) BeginCounterSample(h CounterSampleHeader) {
	if h.Expanded {
		w.u32(SampleCountersExpand)
	} else {
		w.u32(SampleCounters)
	}
	w.sampleAt = len(w.b)
	w.u32(0)
	w.u32(h.SequenceNo)
	if h.Expanded {
		w.u32(h.SourceIDClass)
		w.u32(h.SourceIDIndex)
	} else {
		w.u32(h.SourceIDClass<<24 | h.SourceIDIndex&0x00ffffff)
	}
	w.recCountAt = len(w.b)
	w.u32(0)
	w.records = 0
}

// EndSample closes the open sample, filling in its length and record count.
func (w *Builder) EndSample() {
	binary.BigEndian.PutUint32(w.b[w.sampleAt:], uint32(len(w.b)-w.sampleAt-4))
	binary.BigEndian.PutUint32(w.b[w.recCountAt:], w.records)
	w.sampleAt = -1
	w.samples++
	binary.BigEndian.PutUint32(w.b[w.countAt:], w.samples)
}

// RawSample appends a whole sample of any type with an opaque body (for
// sample types the decoder skips, and for hand-made test datagrams).
func (w *Builder) RawSample(tag uint32, body []byte) {
	w.u32(tag)
	w.opaque(body)
	w.samples++
	binary.BigEndian.PutUint32(w.b[w.countAt:], w.samples)
}

func (w *Builder) beginRecord(tag uint32) {
	w.u32(tag)
	w.recordLenAt = len(w.b)
	w.u32(0)
}

func (w *Builder) endRecord() {
	binary.BigEndian.PutUint32(w.b[w.recordLenAt:], uint32(len(w.b)-w.recordLenAt-4))
	w.records++
}

// Record appends a record with an opaque body (any tag).
func (w *Builder) Record(tag uint32, body []byte) {
	w.u32(tag)
	w.opaque(body)
	w.records++
}

// RawHeader appends a sampled packet header record (flow record 1).
func (w *Builder) RawHeader(protocol, frameLength, stripped uint32, header []byte) {
	w.beginRecord(RecordRawHeader)
	w.u32(protocol)
	w.u32(frameLength)
	w.u32(stripped)
	w.opaque(header)
	w.endRecord()
}

// SampledEthernet appends an Ethernet frame data record (flow record 2).
func (w *Builder) SampledEthernet(frameLength uint32, src, dst [6]byte, ethType uint32) {
	w.beginRecord(RecordEthernet)
	w.u32(frameLength)
	w.b = append(w.b, src[:]...)
	w.b = append(w.b, 0, 0)
	w.b = append(w.b, dst[:]...)
	w.b = append(w.b, 0, 0)
	w.u32(ethType)
	w.endRecord()
}

// SampledIP appends a sampled IPv4 (record 3) or IPv6 (record 4) record,
// chosen by the address family of src. tosOrPriority is the IPv4 TOS or the
// IPv6 priority.
func (w *Builder) SampledIP(length, protocol uint32, src, dst netip.Addr, srcPort, dstPort, tcpFlags, tosOrPriority uint32) {
	if src.Is4() {
		w.beginRecord(RecordSampledIPv4)
	} else {
		w.beginRecord(RecordSampledIPv6)
	}
	w.u32(length)
	w.u32(protocol)
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		w.b = append(w.b, s[:]...)
		w.b = append(w.b, d[:]...)
	} else {
		s, d := src.As16(), dst.As16()
		w.b = append(w.b, s[:]...)
		w.b = append(w.b, d[:]...)
	}
	w.u32(srcPort)
	w.u32(dstPort)
	w.u32(tcpFlags)
	w.u32(tosOrPriority)
	w.endRecord()
}

// ExtendedSwitch appends an extended switch record (flow record 1001).
func (w *Builder) ExtendedSwitch(inVLAN, inPriority, outVLAN, outPriority uint32) {
	w.beginRecord(RecordExtendedSwitch)
	w.u32(inVLAN)
	w.u32(inPriority)
	w.u32(outVLAN)
	w.u32(outPriority)
	w.endRecord()
}

// GenericInterface appends a generic interface counters record (counter record 1).
func (w *Builder) GenericInterface(c *IfCounters) {
	w.beginRecord(CounterGenericIf)
	w.u32(c.IfIndex)
	w.u32(c.IfType)
	w.u64(c.IfSpeed)
	w.u32(c.IfDirection)
	w.u32(c.IfStatus)
	w.u64(c.IfInOctets)
	w.u32(c.IfInUcastPkts)
	w.u32(c.IfInMulticastPkts)
	w.u32(c.IfInBroadcastPkts)
	w.u32(c.IfInDiscards)
	w.u32(c.IfInErrors)
	w.u32(c.IfInUnknownProtos)
	w.u64(c.IfOutOctets)
	w.u32(c.IfOutUcastPkts)
	w.u32(c.IfOutMulticastPkts)
	w.u32(c.IfOutBroadcastPkts)
	w.u32(c.IfOutDiscards)
	w.u32(c.IfOutErrors)
	w.u32(c.IfPromiscuousMode)
	w.endRecord()
}

// Ethernet appends an Ethernet interface counters record (counter record 2).
func (w *Builder) Ethernet(c *EthernetCounters) {
	w.beginRecord(CounterEthernet)
	for _, v := range [...]uint32{
		c.AlignmentErrors, c.FCSErrors, c.SingleCollisionFrames, c.MultipleCollisionFrames,
		c.SQETestErrors, c.DeferredTransmissions, c.LateCollisions, c.ExcessiveCollisions,
		c.InternalMacTransmitErrors, c.CarrierSenseErrors, c.FrameTooLongs,
		c.InternalMacReceiveErrors, c.SymbolErrors,
	} {
		w.u32(v)
	}
	w.endRecord()
}

// Bytes returns the datagram. It aliases the builder's buffer: copy it or
// send it before the next Begin.
func (w *Builder) Bytes() []byte { return w.b }

func (w *Builder) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *Builder) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }

func (w *Builder) opaque(p []byte) {
	w.u32(uint32(len(p)))
	w.b = append(w.b, p...)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}
