// Package sflow decodes and encodes sFlow version 5 datagrams.
//
// The decoder follows sflowtool's semantics field for field, so that
// AppendFlowLine and AppendCounterLine print exactly what `sflowtool -l`
// prints for the same datagram (including its quirks, see README.md). It
// allocates nothing per datagram or sample: the Decoder reuses one
// FlowSample and one CounterSample and hands pointers to them to a Handler.
package sflow

import (
	"fmt"
	"net/netip"
)

// Sample and record tags from the sFlow v5 specification (sflow.org/sflow_version_5.txt).
const (
	SampleFlow            = 1
	SampleCounters        = 2
	SampleFlowExpanded    = 3
	SampleCountersExpand  = 4
	RecordRawHeader       = 1
	RecordEthernet        = 2
	RecordSampledIPv4     = 3
	RecordSampledIPv6     = 4
	RecordExtendedSwitch  = 1001
	CounterGenericIf      = 1
	CounterEthernet       = 2
	HeaderProtoEthernet   = 1
	HeaderProtoIPv4       = 11
	HeaderProtoIPv6       = 12
	addressTypeIPv4       = 1
	addressTypeIPv6       = 2
	maxHeaderProtocolCode = 17
)

// Datagram is the datagram header plus what decoding it found so far.
type Datagram struct {
	Version    uint32
	Agent      netip.Addr
	SubAgentID uint32
	SequenceNo uint32
	Uptime     uint32 // milliseconds since the agent booted
	NumSamples uint32 // as announced in the header
	Size       int    // bytes

	FlowSamples    int // decoded so far
	CounterSamples int
	OtherSamples   int // skipped by length (discards, host metrics, ...)
}

// FlowSample is one flow sample after all its records were applied in order,
// exactly like sflowtool's per-sample state.
type FlowSample struct {
	Expanded      bool
	SequenceNo    uint32
	SourceIDClass uint32
	SourceIDIndex uint32
	SamplingRate  uint32 // meanSkipCount
	SamplePool    uint32
	Drops         uint32
	InputFormat   uint32
	InputPort     uint32
	OutputFormat  uint32
	OutputPort    uint32
	Records       uint32

	HeaderProtocol uint32
	HeaderLen      uint32
	PacketSize     uint32 // frame length (raw header) or IP length (sampled IPv4/6)
	Stripped       uint32
	OffsetToIPv4   uint32
	OffsetToIPv6   uint32

	SrcMAC, DstMAC [6]byte
	EthType        uint32
	InVLAN         uint32
	OutVLAN        uint32
	InPriority     uint32
	OutPriority    uint32

	SrcIP, DstIP   netip.Addr // invalid when no IP layer was found
	IPProtocol     uint32
	IPTos          uint32
	IPTTL          uint32
	FragmentOffset uint32
	SrcPort        uint32 // ICMP type for ICMP
	DstPort        uint32 // ICMP code for ICMP
	TCPFlags       uint32
}

// IPSize is sflowtool's IPSize column: packet size less stripped bytes less
// the offset to an IPv4 header (sflowtool uses the IPv4 offset even for IPv6).
func (f *FlowSample) IPSize() int32 {
	return int32(f.PacketSize - f.Stripped - f.OffsetToIPv4)
}

// IfCounters is the generic interface counter block (tag 1).
type IfCounters struct {
	IfIndex            uint32
	IfType             uint32
	IfSpeed            uint64
	IfDirection        uint32
	IfStatus           uint32
	IfInOctets         uint64
	IfInUcastPkts      uint32
	IfInMulticastPkts  uint32
	IfInBroadcastPkts  uint32
	IfInDiscards       uint32
	IfInErrors         uint32
	IfInUnknownProtos  uint32
	IfOutOctets        uint64
	IfOutUcastPkts     uint32
	IfOutMulticastPkts uint32
	IfOutBroadcastPkts uint32
	IfOutDiscards      uint32
	IfOutErrors        uint32
	IfPromiscuousMode  uint32
}

// EthernetCounters is the Ethernet interface counter block (tag 2).
type EthernetCounters struct {
	AlignmentErrors           uint32
	FCSErrors                 uint32
	SingleCollisionFrames     uint32
	MultipleCollisionFrames   uint32
	SQETestErrors             uint32
	DeferredTransmissions     uint32
	LateCollisions            uint32
	ExcessiveCollisions       uint32
	InternalMacTransmitErrors uint32
	CarrierSenseErrors        uint32
	FrameTooLongs             uint32
	InternalMacReceiveErrors  uint32
	SymbolErrors              uint32
}

// CounterSample is one counter sample. sflowtool prints a CNTR line for every
// counter sample, with zeros when it had no generic interface block.
type CounterSample struct {
	Expanded      bool
	SequenceNo    uint32
	SourceIDClass uint32
	SourceIDIndex uint32
	Records       uint32
	HasGeneric    bool
	HasEthernet   bool
	If            IfCounters
	Eth           EthernetCounters
}

// Handler receives each sample as soon as it is decoded. The pointers are
// only valid during the call: the decoder reuses them.
type Handler interface {
	Flow(d *Datagram, f *FlowSample)
	Counters(d *Datagram, c *CounterSample)
}

// Reason classifies a decode error; it is a stable label for metrics.
type Reason string

// Decode error reasons.
const (
	ReasonTruncated      Reason = "truncated"
	ReasonVersion        Reason = "version"
	ReasonAddressType    Reason = "address_type"
	ReasonLength         Reason = "length_mismatch"
	ReasonHeaderProtocol Reason = "header_protocol"
)

// DecodeError says where in the datagram decoding stopped and why. Samples
// before that point were already handed to the Handler (as sflowtool prints
// them before it gives up on the rest of the datagram).
type DecodeError struct {
	Offset int
	Reason Reason
	Detail string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("sflow: offset %d: %s: %s", e.Offset, e.Reason, e.Detail)
}

// Decoder decodes datagrams; it is not safe for concurrent use (one per
// goroutine), and reuses its sample structs between calls.
type Decoder struct {
	d    Datagram
	flow FlowSample
	cntr CounterSample
}

// xdr is a cursor over the datagram. Reads past the end set err and return
// zero, so a decode step checks err once rather than after every field.
type xdr struct {
	b   []byte
	p   int
	err *DecodeError
}

func (r *xdr) fail(reason Reason, format string, args ...any) {
	if r.err == nil {
		r.err = &DecodeError{Offset: r.p, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	}
}

func (r *xdr) u32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.p < 4 {
		r.fail(ReasonTruncated, "need 4 bytes, have %d", len(r.b)-r.p)
		return 0
	}
	b := r.b[r.p : r.p+4]
	r.p += 4
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (r *xdr) u64() uint64 {
	hi := r.u32()
	lo := r.u32()
	return uint64(hi)<<32 | uint64(lo)
}

// bytes returns n bytes and advances by n rounded up to a multiple of 4 (XDR opaque).
func (r *xdr) bytes(n uint32) []byte {
	if r.err != nil {
		return nil
	}
	padded := (uint64(n) + 3) &^ 3
	if uint64(len(r.b)-r.p) < padded {
		r.fail(ReasonTruncated, "need %d bytes, have %d", padded, len(r.b)-r.p)
		return nil
	}
	b := r.b[r.p : r.p+int(n)]
	r.p += int(padded)
	return b
}

func (r *xdr) skip(n uint32) { r.bytes(n) }

func (r *xdr) addr() netip.Addr {
	at := r.p
	switch t := r.u32(); t {
	case addressTypeIPv4:
		b := r.bytes(4)
		if b == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom4([4]byte(b))
	case addressTypeIPv6:
		b := r.bytes(16)
		if b == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom16([16]byte(b))
	default:
		if r.err == nil {
			r.p = at
			r.fail(ReasonAddressType, "unknown address type %d", t)
		}
		return netip.Addr{}
	}
}

// lengthCheck mirrors sflowtool: the decoded length must equal the announced
// length rounded up to a multiple of 4.
func (r *xdr) lengthCheck(what string, tag uint32, start int, length uint32) {
	if r.err != nil {
		return
	}
	want := (uint64(length) + 3) &^ 3
	if got := uint64(r.p - start); got != want {
		r.p = start
		r.fail(ReasonLength, "%s tag %d: announced length %d, decoded %d bytes", what, tag, length, got)
	}
}

// Decode decodes one datagram, calling h for each flow and counter sample.
// The returned Datagram is valid until the next call.
func (dec *Decoder) Decode(data []byte, h Handler) (*Datagram, error) {
	d := &dec.d
	*d = Datagram{Size: len(data)}
	r := xdr{b: data}
	d.Version = r.u32()
	if r.err == nil && d.Version != 5 {
		r.p = 0
		r.fail(ReasonVersion, "unsupported datagram version %d", d.Version)
	}
	d.Agent = r.addr()
	d.SubAgentID = r.u32()
	d.SequenceNo = r.u32()
	d.Uptime = r.u32()
	d.NumSamples = r.u32()
	if r.err != nil {
		return d, r.err
	}
	for i := uint32(0); i < d.NumSamples; i++ {
		if r.p >= len(data) {
			r.fail(ReasonTruncated, "unexpected end of datagram after sample %d of %d", i, d.NumSamples)
			return d, r.err
		}
		tag := r.u32()
		switch tag {
		case SampleFlow, SampleFlowExpanded:
			dec.flowSample(&r, tag == SampleFlowExpanded)
			if r.err != nil {
				return d, r.err
			}
			d.FlowSamples++
			h.Flow(d, &dec.flow)
		case SampleCounters, SampleCountersExpand:
			dec.counterSample(&r, tag == SampleCountersExpand)
			if r.err != nil {
				return d, r.err
			}
			d.CounterSamples++
			h.Counters(d, &dec.cntr)
		default:
			r.skip(r.u32())
			if r.err != nil {
				return d, r.err
			}
			d.OtherSamples++
		}
	}
	return d, nil
}

func (dec *Decoder) flowSample(r *xdr, expanded bool) {
	f := &dec.flow
	*f = FlowSample{Expanded: expanded}
	length := r.u32()
	start := r.p
	if r.err == nil && uint64(length) > uint64(len(r.b)-r.p) {
		r.fail(ReasonTruncated, "flow sample length %d exceeds the %d bytes left", length, len(r.b)-r.p)
	}
	f.SequenceNo = r.u32()
	if expanded {
		f.SourceIDClass = r.u32()
		f.SourceIDIndex = r.u32()
	} else {
		id := r.u32()
		f.SourceIDClass = id >> 24
		f.SourceIDIndex = id & 0x00ffffff
	}
	f.SamplingRate = r.u32()
	f.SamplePool = r.u32()
	f.Drops = r.u32()
	if expanded {
		f.InputFormat = r.u32()
		f.InputPort = r.u32()
		f.OutputFormat = r.u32()
		f.OutputPort = r.u32()
	} else {
		in, out := r.u32(), r.u32()
		f.InputFormat, f.InputPort = in>>30, in&0x3fffffff
		f.OutputFormat, f.OutputPort = out>>30, out&0x3fffffff
	}
	f.Records = r.u32()
	for i := uint32(0); i < f.Records && r.err == nil; i++ {
		tag := r.u32()
		rlen := r.u32()
		rstart := r.p
		if r.err == nil && uint64(rlen) > uint64(len(r.b)-r.p) {
			r.fail(ReasonTruncated, "flow record tag %d length %d exceeds the %d bytes left", tag, rlen, len(r.b)-r.p)
			return
		}
		switch tag {
		case RecordRawHeader:
			dec.rawHeader(r)
		case RecordEthernet:
			r.u32() // frame length
			copy(f.SrcMAC[:], r.bytes(6))
			copy(f.DstMAC[:], r.bytes(6))
			f.EthType = r.u32()
		case RecordSampledIPv4:
			f.PacketSize = r.u32()
			proto := r.u32()
			src, dst := r.bytes(4), r.bytes(4)
			sport, dport, flags, tos := r.u32(), r.u32(), r.u32(), r.u32()
			if r.err == nil {
				f.SrcIP, f.DstIP = netip.AddrFrom4([4]byte(src)), netip.AddrFrom4([4]byte(dst))
				f.IPProtocol, f.IPTos, f.SrcPort, f.DstPort = proto, tos, sport, dport
				if proto == 6 {
					f.TCPFlags = flags
				}
			}
		case RecordSampledIPv6:
			f.PacketSize = r.u32()
			proto := r.u32()
			src, dst := r.bytes(16), r.bytes(16)
			sport, dport, flags := r.u32(), r.u32(), r.u32()
			r.u32() // priority: sflowtool logs it but does not put it in the line
			if r.err == nil {
				f.SrcIP, f.DstIP = netip.AddrFrom16([16]byte(src)), netip.AddrFrom16([16]byte(dst))
				f.IPProtocol, f.SrcPort, f.DstPort = proto, sport, dport
				if proto == 6 {
					f.TCPFlags = flags
				}
			}
		case RecordExtendedSwitch:
			f.InVLAN = r.u32()
			f.InPriority = r.u32()
			f.OutVLAN = r.u32()
			f.OutPriority = r.u32()
		default:
			r.skip(rlen)
		}
		r.lengthCheck("flow record", tag, rstart, rlen)
	}
	r.lengthCheck("flow sample", SampleFlow, start, length)
}

func (dec *Decoder) rawHeader(r *xdr) {
	f := &dec.flow
	f.HeaderProtocol = r.u32()
	f.PacketSize = r.u32()
	f.Stripped = r.u32()
	f.HeaderLen = r.u32()
	at := r.p
	if r.bytes(f.HeaderLen); r.err != nil {
		return
	}
	// Like sflowtool, the header is read in place: a read just past the
	// header's end sees the bytes that follow it in the datagram.
	pkt := packet{b: r.b[at:], end: int(f.HeaderLen), f: f}
	var gotIPv4, gotIPv6 bool
	switch f.HeaderProtocol {
	case HeaderProtoEthernet:
		gotIPv4, gotIPv6 = pkt.linkLayer()
	case HeaderProtoIPv4:
		gotIPv4, f.OffsetToIPv4 = true, 0
	case HeaderProtoIPv6:
		gotIPv6, f.OffsetToIPv6 = true, 0
	default:
		if f.HeaderProtocol == 0 || f.HeaderProtocol > maxHeaderProtocolCode {
			r.p = at - 16 // point at the protocol field
			r.fail(ReasonHeaderProtocol, "undefined header protocol %d", f.HeaderProtocol)
		}
		// Token ring, FDDI, PPP, MPLS, 802.11 ...: no further decode.
	}
	if gotIPv4 {
		pkt.ipv4(int(f.OffsetToIPv4))
	} else if gotIPv6 {
		pkt.ipv6(int(f.OffsetToIPv6))
	}
}

// packet decodes a sampled packet header the way sflowtool does.
type packet struct {
	b   []byte // from the header's start to the datagram's end
	end int    // header length
	f   *FlowSample
}

func (p *packet) at(i int) uint32 {
	if i < 0 || i >= len(p.b) {
		return 0
	}
	return uint32(p.b[i])
}

func (p *packet) u16(i int) uint32 { return p.at(i)<<8 | p.at(i+1) }

func (p *packet) linkLayer() (gotIPv4, gotIPv6 bool) {
	f := p.f
	if p.end < 14 {
		return
	}
	copy(f.DstMAC[:], p.b[0:6])
	copy(f.SrcMAC[:], p.b[6:12])
	typeLen := p.u16(12)
	ptr := 14
	for typeLen == 0x8100 || typeLen == 0x88A8 || typeLen == 0x9100 || typeLen == 0x9200 || typeLen == 0x9300 {
		if p.end-ptr < 4 {
			return
		}
		f.InVLAN = p.u16(ptr) & 0x0fff
		typeLen = p.u16(ptr + 2)
		ptr += 4
	}
	if p.end < 20 {
		return
	}
	if typeLen == 0x0200 || typeLen == 0x0201 || typeLen == 0x0600 {
		ipxLen := p.u16(ptr + 2)
		if p.at(ptr) == 0xff && p.at(ptr+1) == 0xff && ipxLen >= 30 && ipxLen <= 30+546 {
			return
		}
	}
	if typeLen <= 1500 {
		switch {
		case p.at(ptr) == 0xAA && p.at(ptr+1) == 0xAA && p.at(ptr+2) == 0x03:
			ptr += 3
			if p.at(ptr) != 0 || p.at(ptr+1) != 0 || p.at(ptr+2) != 0 {
				return
			}
			ptr += 3
			typeLen = p.u16(ptr)
			ptr += 2
		case p.at(ptr) == 0x06 && p.at(ptr+1) == 0x06 && p.at(ptr+2)&1 != 0:
			ptr += 3
			typeLen = 0x0800
		default:
			return
		}
	}
	f.EthType = typeLen
	if typeLen == 0x0800 {
		if p.end-ptr < 20 || p.at(ptr)>>4 != 4 || p.at(ptr)&15 < 5 {
			return
		}
		gotIPv4 = true
		f.OffsetToIPv4 = uint32(ptr)
	}
	if typeLen == 0x86DD {
		if p.at(ptr)>>4 != 6 {
			return
		}
		gotIPv6 = true
		f.OffsetToIPv6 = uint32(ptr)
	}
	return
}

func (p *packet) ipv4(ptr int) {
	f := p.f
	if p.end-ptr < 20 {
		return
	}
	f.IPTos = p.at(ptr + 1)
	f.IPTTL = p.at(ptr + 8)
	f.IPProtocol = p.at(ptr + 9)
	f.SrcIP = netip.AddrFrom4([4]byte(p.b[ptr+12 : ptr+16]))
	f.DstIP = netip.AddrFrom4([4]byte(p.b[ptr+16 : ptr+20]))
	f.FragmentOffset = p.u16(ptr+6) & 0x1fff
	if f.FragmentOffset > 0 {
		return
	}
	headerBytes := int(p.at(ptr)&0x0f) * 4
	if p.end-ptr < headerBytes {
		return
	}
	p.layer4(ptr + headerBytes)
}

func (p *packet) ipv6(ptr int) {
	f := p.f
	if p.end-ptr < 40 || p.at(ptr)>>4 != 6 {
		return
	}
	f.IPTos = (p.at(ptr)&15)<<4 + p.at(ptr+1)>>4
	nextHeader := p.at(ptr + 6)
	f.IPTTL = p.at(ptr + 7)
	f.SrcIP = netip.AddrFrom16([16]byte(p.b[ptr+8 : ptr+24]))
	f.DstIP = netip.AddrFrom16([16]byte(p.b[ptr+24 : ptr+40]))
	ptr += 40
	for nextHeader == 0 || nextHeader == 43 || nextHeader == 44 || nextHeader == 51 || nextHeader == 60 {
		optionLen := 8 * (int(p.at(ptr+1)) + 1)
		nextHeader = p.at(ptr)
		ptr += optionLen
		if ptr > p.end {
			return
		}
	}
	f.IPProtocol = nextHeader
	p.layer4(ptr)
}

func (p *packet) layer4(ptr int) {
	f := p.f
	if ptr > p.end-8 {
		return
	}
	switch f.IPProtocol {
	case 1:
		f.SrcPort = p.at(ptr)
		f.DstPort = p.at(ptr + 1)
	case 6:
		f.SrcPort = p.u16(ptr)
		f.DstPort = p.u16(ptr + 2)
		f.TCPFlags = p.at(ptr + 13)
	case 17:
		f.SrcPort = p.u16(ptr)
		f.DstPort = p.u16(ptr + 2)
	}
}

func (dec *Decoder) counterSample(r *xdr, expanded bool) {
	c := &dec.cntr
	*c = CounterSample{Expanded: expanded}
	length := r.u32()
	start := r.p
	if r.err == nil && uint64(length) > uint64(len(r.b)-r.p) {
		r.fail(ReasonTruncated, "counter sample length %d exceeds the %d bytes left", length, len(r.b)-r.p)
	}
	c.SequenceNo = r.u32()
	if expanded {
		c.SourceIDClass = r.u32()
		c.SourceIDIndex = r.u32()
	} else {
		id := r.u32()
		c.SourceIDClass = id >> 24
		c.SourceIDIndex = id & 0x00ffffff
	}
	c.Records = r.u32()
	for i := uint32(0); i < c.Records && r.err == nil; i++ {
		tag := r.u32()
		rlen := r.u32()
		rstart := r.p
		if r.err == nil && uint64(rlen) > uint64(len(r.b)-r.p) {
			r.fail(ReasonTruncated, "counter record tag %d length %d exceeds the %d bytes left", tag, rlen, len(r.b)-r.p)
			return
		}
		switch tag {
		case CounterGenericIf:
			g := &c.If
			g.IfIndex = r.u32()
			g.IfType = r.u32()
			g.IfSpeed = r.u64()
			g.IfDirection = r.u32()
			g.IfStatus = r.u32()
			g.IfInOctets = r.u64()
			g.IfInUcastPkts = r.u32()
			g.IfInMulticastPkts = r.u32()
			g.IfInBroadcastPkts = r.u32()
			g.IfInDiscards = r.u32()
			g.IfInErrors = r.u32()
			g.IfInUnknownProtos = r.u32()
			g.IfOutOctets = r.u64()
			g.IfOutUcastPkts = r.u32()
			g.IfOutMulticastPkts = r.u32()
			g.IfOutBroadcastPkts = r.u32()
			g.IfOutDiscards = r.u32()
			g.IfOutErrors = r.u32()
			g.IfPromiscuousMode = r.u32()
			c.HasGeneric = true
		case CounterEthernet:
			e := &c.Eth
			e.AlignmentErrors = r.u32()
			e.FCSErrors = r.u32()
			e.SingleCollisionFrames = r.u32()
			e.MultipleCollisionFrames = r.u32()
			e.SQETestErrors = r.u32()
			e.DeferredTransmissions = r.u32()
			e.LateCollisions = r.u32()
			e.ExcessiveCollisions = r.u32()
			e.InternalMacTransmitErrors = r.u32()
			e.CarrierSenseErrors = r.u32()
			e.FrameTooLongs = r.u32()
			e.InternalMacReceiveErrors = r.u32()
			e.SymbolErrors = r.u32()
			c.HasEthernet = true
		default:
			r.skip(rlen)
		}
		r.lengthCheck("counter record", tag, rstart, rlen)
	}
	r.lengthCheck("counter sample", SampleCounters, start, length)
}
