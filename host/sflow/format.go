package sflow

import (
	"net/netip"
	"strconv"
	"time"
)

const hexDigits = "0123456789abcdef"

// AppendFlowLine appends the 20-column `sflowtool -l` FLOW line for f
// (without a trailing newline), formatted as sflowtool's writeFlowLine does:
// %d for ports, VLANs and sizes (so values past 2^31 print negative, as in
// sflowtool), 0x%04x ether type, 0x%02x TOS and TCP flags.
func AppendFlowLine(dst []byte, d *Datagram, f *FlowSample) []byte {
	dst = append(dst, "FLOW,"...)
	dst = appendToolAddr(dst, d.Agent)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.InputPort)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.OutputPort)
	dst = append(dst, ',')
	dst = appendMAC(dst, &f.SrcMAC)
	dst = append(dst, ',')
	dst = appendMAC(dst, &f.DstMAC)
	dst = append(dst, ",0x"...)
	dst = appendHex(dst, f.EthType, 4)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.InVLAN)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.OutVLAN)
	dst = append(dst, ',')
	dst = appendToolAddr(dst, f.SrcIP)
	dst = append(dst, ',')
	dst = appendToolAddr(dst, f.DstIP)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.IPProtocol)
	dst = append(dst, ",0x"...)
	dst = appendHex(dst, f.IPTos, 2)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.IPTTL)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.SrcPort)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.DstPort)
	dst = append(dst, ",0x"...)
	dst = appendHex(dst, f.TCPFlags, 2)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.PacketSize)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(f.IPSize()), 10)
	dst = append(dst, ',')
	dst = appendInt32(dst, f.SamplingRate)
	return dst
}

// AppendCounterLine appends the 21-column `sflowtool -l` CNTR line for c.
func AppendCounterLine(dst []byte, d *Datagram, c *CounterSample) []byte {
	g := &c.If
	dst = append(dst, "CNTR,"...)
	dst = appendToolAddr(dst, d.Agent)
	for _, v := range [...]uint64{
		uint64(g.IfIndex), uint64(g.IfType), g.IfSpeed, uint64(g.IfDirection), uint64(g.IfStatus),
		g.IfInOctets, uint64(g.IfInUcastPkts), uint64(g.IfInMulticastPkts), uint64(g.IfInBroadcastPkts),
		uint64(g.IfInDiscards), uint64(g.IfInErrors), uint64(g.IfInUnknownProtos),
		g.IfOutOctets, uint64(g.IfOutUcastPkts), uint64(g.IfOutMulticastPkts), uint64(g.IfOutBroadcastPkts),
		uint64(g.IfOutDiscards), uint64(g.IfOutErrors), uint64(g.IfPromiscuousMode),
	} {
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, v, 10)
	}
	return dst
}

func appendInt32(dst []byte, v uint32) []byte { return strconv.AppendInt(dst, int64(int32(v)), 10) }

// appendHex is printf("%0*x", width, v).
func appendHex(dst []byte, v uint32, width int) []byte {
	var buf [8]byte
	i := len(buf)
	for v != 0 || len(buf)-i < width {
		i--
		buf[i] = hexDigits[v&15]
		v >>= 4
	}
	return append(dst, buf[i:]...)
}

func appendMAC(dst []byte, m *[6]byte) []byte {
	for _, b := range m {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&15])
	}
	return dst
}

// appendToolAddr prints an address as sflowtool does: dotted quad, or eight
// uncompressed 4-digit lowercase groups for IPv6, or "-" when there is none.
func appendToolAddr(dst []byte, a netip.Addr) []byte {
	switch {
	case a.Is4():
		b := a.As4()
		for i, x := range b {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(x), 10)
		}
	case a.Is6():
		b := a.As16()
		for i := 0; i < 16; i += 2 {
			if i > 0 {
				dst = append(dst, ':')
			}
			dst = append(dst, hexDigits[b[i]>>4], hexDigits[b[i]&15], hexDigits[b[i+1]>>4], hexDigits[b[i+1]&15])
		}
	default:
		dst = append(dst, '-')
	}
	return dst
}

type jsonWriter struct{ b []byte }

func (w *jsonWriter) key(k string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jsonWriter) u(k string, v uint64) { w.key(k); w.b = strconv.AppendUint(w.b, v, 10) }
func (w *jsonWriter) i(k string, v int64)  { w.key(k); w.b = strconv.AppendInt(w.b, v, 10) }
func (w *jsonWriter) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}
func (w *jsonWriter) str(k, v string) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...) // only ever called with values that need no escaping
	w.b = append(w.b, '"')
}
func (w *jsonWriter) addr(k string, a netip.Addr) {
	w.key(k)
	w.b = append(w.b, '"')
	if a.IsValid() {
		w.b = a.AppendTo(w.b)
	}
	w.b = append(w.b, '"')
}
func (w *jsonWriter) mac(k string, m *[6]byte) {
	w.key(k)
	w.b = append(w.b, '"')
	for i, x := range m {
		if i > 0 {
			w.b = append(w.b, ':')
		}
		w.b = append(w.b, hexDigits[x>>4], hexDigits[x&15])
	}
	w.b = append(w.b, '"')
}

func (w *jsonWriter) datagram(kind string, d *Datagram, at time.Time) {
	w.b = append(w.b, '{')
	w.str("type", kind)
	w.key("event_time")
	w.b = append(w.b, '"')
	w.b = at.UTC().AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
	w.addr("agent_ip", d.Agent)
	w.u("agent_sub_id", uint64(d.SubAgentID))
	w.u("datagram_seq", uint64(d.SequenceNo))
	w.u("uptime_ms", uint64(d.Uptime))
}

// AppendFlowJSON appends one flow sample as a JSON object: the FLOW line's
// fields, named as host/decode names the sflowtool columns ("type":"FLOW",
// agent_ip, src_ip, ..., sampling_rate) so one pipeline config fits both
// formats, plus the sample's context (sequence numbers, sample pool, drops,
// interface formats) and event_time (arrival at the collector). IP
// addresses are in canonical text form, MACs colon-separated.
func AppendFlowJSON(dst []byte, d *Datagram, f *FlowSample, at time.Time) []byte {
	w := jsonWriter{b: dst}
	w.datagram("FLOW", d, at)
	w.u("sample_seq", uint64(f.SequenceNo))
	w.bool("expanded", f.Expanded)
	w.u("source_id_class", uint64(f.SourceIDClass))
	w.u("source_id_index", uint64(f.SourceIDIndex))
	w.u("sampling_rate", uint64(f.SamplingRate))
	w.u("sample_pool", uint64(f.SamplePool))
	w.u("drops", uint64(f.Drops))
	w.u("input_format", uint64(f.InputFormat))
	w.u("input_port", uint64(f.InputPort))
	w.u("output_format", uint64(f.OutputFormat))
	w.u("output_port", uint64(f.OutputPort))
	w.mac("src_mac", &f.SrcMAC)
	w.mac("dst_mac", &f.DstMAC)
	w.u("eth_type", uint64(f.EthType))
	w.u("in_vlan", uint64(f.InVLAN))
	w.u("out_vlan", uint64(f.OutVLAN))
	w.addr("src_ip", f.SrcIP)
	w.addr("dst_ip", f.DstIP)
	w.u("ip_protocol", uint64(f.IPProtocol))
	w.u("ip_tos", uint64(f.IPTos))
	w.u("ip_ttl", uint64(f.IPTTL))
	w.u("src_port", uint64(f.SrcPort))
	w.u("dst_port", uint64(f.DstPort))
	w.u("tcp_flags", uint64(f.TCPFlags))
	w.u("packet_size", uint64(f.PacketSize))
	w.i("ip_size", int64(f.IPSize()))
	w.b = append(w.b, '}')
	return w.b
}

// AppendCounterJSON appends one counter sample as a JSON object
// ("type":"CNTR", the CNTR line's fields, and the Ethernet counters when present).
func AppendCounterJSON(dst []byte, d *Datagram, c *CounterSample, at time.Time) []byte {
	w := jsonWriter{b: dst}
	w.datagram("CNTR", d, at)
	w.u("sample_seq", uint64(c.SequenceNo))
	w.bool("expanded", c.Expanded)
	w.u("source_id_class", uint64(c.SourceIDClass))
	w.u("source_id_index", uint64(c.SourceIDIndex))
	g := &c.If
	w.bool("has_generic", c.HasGeneric)
	w.u("if_index", uint64(g.IfIndex))
	w.u("if_type", uint64(g.IfType))
	w.u("if_speed", g.IfSpeed)
	w.u("if_direction", uint64(g.IfDirection))
	w.u("if_status", uint64(g.IfStatus))
	w.u("if_in_octets", g.IfInOctets)
	w.u("if_in_ucast_pkts", uint64(g.IfInUcastPkts))
	w.u("if_in_multicast_pkts", uint64(g.IfInMulticastPkts))
	w.u("if_in_broadcast_pkts", uint64(g.IfInBroadcastPkts))
	w.u("if_in_discards", uint64(g.IfInDiscards))
	w.u("if_in_errors", uint64(g.IfInErrors))
	w.u("if_in_unknown_protos", uint64(g.IfInUnknownProtos))
	w.u("if_out_octets", g.IfOutOctets)
	w.u("if_out_ucast_pkts", uint64(g.IfOutUcastPkts))
	w.u("if_out_multicast_pkts", uint64(g.IfOutMulticastPkts))
	w.u("if_out_broadcast_pkts", uint64(g.IfOutBroadcastPkts))
	w.u("if_out_discards", uint64(g.IfOutDiscards))
	w.u("if_out_errors", uint64(g.IfOutErrors))
	w.u("if_promiscuous_mode", uint64(g.IfPromiscuousMode))
	if c.HasEthernet {
		e := &c.Eth
		w.u("dot3_alignment_errors", uint64(e.AlignmentErrors))
		w.u("dot3_fcs_errors", uint64(e.FCSErrors))
		w.u("dot3_single_collision_frames", uint64(e.SingleCollisionFrames))
		w.u("dot3_multiple_collision_frames", uint64(e.MultipleCollisionFrames))
		w.u("dot3_sqe_test_errors", uint64(e.SQETestErrors))
		w.u("dot3_deferred_transmissions", uint64(e.DeferredTransmissions))
		w.u("dot3_late_collisions", uint64(e.LateCollisions))
		w.u("dot3_excessive_collisions", uint64(e.ExcessiveCollisions))
		w.u("dot3_internal_mac_transmit_errors", uint64(e.InternalMacTransmitErrors))
		w.u("dot3_carrier_sense_errors", uint64(e.CarrierSenseErrors))
		w.u("dot3_frame_too_longs", uint64(e.FrameTooLongs))
		w.u("dot3_internal_mac_receive_errors", uint64(e.InternalMacReceiveErrors))
		w.u("dot3_symbol_errors", uint64(e.SymbolErrors))
	}
	w.b = append(w.b, '}')
	return w.b
}

// Lines decodes data and returns its sflowtool lines; a convenience for
// tests and tools (the hot path uses Decoder with a Handler).
func Lines(data []byte) ([]string, error) {
	var dec Decoder
	var c lineCollector
	_, err := dec.Decode(data, &c)
	return c.lines, err
}

type lineCollector struct {
	buf   []byte
	lines []string
}

func (c *lineCollector) Flow(d *Datagram, f *FlowSample) {
	c.buf = AppendFlowLine(c.buf[:0], d, f)
	c.lines = append(c.lines, string(c.buf))
}

func (c *lineCollector) Counters(d *Datagram, s *CounterSample) {
	c.buf = AppendCounterLine(c.buf[:0], d, s)
	c.lines = append(c.lines, string(c.buf))
}
