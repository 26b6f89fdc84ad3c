package sflow

import (
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

type countingHandler struct {
	flows, counters int
	buf             []byte
}

func (h *countingHandler) Flow(d *Datagram, f *FlowSample) {
	h.flows++
	h.buf = AppendFlowLine(h.buf[:0], d, f)
}

func (h *countingHandler) Counters(d *Datagram, c *CounterSample) {
	h.counters++
	h.buf = AppendCounterLine(h.buf[:0], d, c)
}

func TestDecodeAllocatesNothing(t *testing.T) {
	data := constructed["switch-expanded"]()
	var dec Decoder
	h := &countingHandler{buf: make([]byte, 0, 512)}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := dec.Decode(data, h); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode + line formatting: %v allocations per datagram, want 0", allocs)
	}
	if h.flows != 101 || h.counters != 101 {
		t.Errorf("handler saw %d flows, %d counters; want 101 each", h.flows, h.counters)
	}
}

func TestDatagramHeaderAndCounts(t *testing.T) {
	var dec Decoder
	h := &countingHandler{}
	d, err := dec.Decode(readHex(t, filepath.Join("testdata", "unknown-records.hex")), h)
	if err != nil {
		t.Fatal(err)
	}
	if d.Agent != netip.MustParseAddr("10.0.0.1") || d.NumSamples != 2 || d.FlowSamples != 1 || d.OtherSamples != 1 {
		t.Errorf("datagram %+v", d)
	}
	d, err = dec.Decode(constructed["switch-expanded"](), h)
	if err != nil {
		t.Fatal(err)
	}
	if d.SubAgentID != 1 || d.SequenceNo != 4711 || d.Uptime != 864000123 || d.CounterSamples != 1 {
		t.Errorf("datagram %+v", d)
	}
}

func TestDecodeErrorType(t *testing.T) {
	_, err := Lines([]byte{0, 0, 0, 5, 0, 0})
	var de *DecodeError
	if !errors.As(err, &de) || de.Reason != ReasonTruncated || de.Offset != 4 {
		t.Fatalf("got %v", err)
	}
}

type jsonHandler struct{ objs []map[string]any }

func (h *jsonHandler) add(b []byte) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(string(b) + ": " + err.Error())
	}
	h.objs = append(h.objs, m)
}

var at = time.Date(2026, 11, 27, 12, 0, 0, 500_000_000, time.UTC)

func (h *jsonHandler) Flow(d *Datagram, f *FlowSample) { h.add(AppendFlowJSON(nil, d, f, at)) }
func (h *jsonHandler) Counters(d *Datagram, c *CounterSample) {
	h.add(AppendCounterJSON(nil, d, c, at))
}

func TestJSONRecords(t *testing.T) {
	var dec Decoder
	h := &jsonHandler{}
	if _, err := dec.Decode(constructed["switch-expanded"](), h); err != nil {
		t.Fatal(err)
	}
	if len(h.objs) != 2 {
		t.Fatalf("%d objects", len(h.objs))
	}
	f, c := h.objs[0], h.objs[1]
	for k, want := range map[string]any{
		"type": "FLOW", "agent_ip": "10.1.0.1", "agent_sub_id": 1.0, "datagram_seq": 4711.0, "sample_seq": 901.0,
		"sample_pool": 3690496.0, "sampling_rate": 4096.0, "input_port": 17.0, "src_ip": "198.51.100.7",
		"dst_port": 443.0, "tcp_flags": 24.0, "ip_size": 1240.0, "in_vlan": 100.0, "out_vlan": 200.0,
		"src_mac": "0c:42:a1:b2:c3:d4", "event_time": "2026-11-27T12:00:00.5Z", "expanded": true,
	} {
		if f[k] != want {
			t.Errorf("flow %s = %v, want %v", k, f[k], want)
		}
	}
	for k, want := range map[string]any{
		"type": "CNTR", "if_index": 17.0, "if_speed": 1e10, "if_in_octets": 918273645546.0, "dot3_fcs_errors": 4.0,
	} {
		if c[k] != want {
			t.Errorf("counters %s = %v, want %v", k, c[k], want)
		}
	}
}

// TestEncodeDecodeRoundTrip checks that every field the Builder can set
// comes back from the Decoder.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	var b Builder
	b.Begin(netip.MustParseAddr("2001:db8::77"), 3, 99, 12345)
	hdr := FlowSampleHeader{SequenceNo: 7, SourceIDClass: 0, SourceIDIndex: 0x123456, SamplingRate: 2000, SamplePool: 88000,
		Drops: 4, InputFormat: 0, InputPort: 0x3ffffffe, OutputFormat: 2, OutputPort: 3}
	b.BeginFlowSample(hdr)
	frame, n := AppendFrame(nil, &Packet{SrcMAC: mac("010203040506"), DstMAC: mac("0a0b0c0d0e0f"), VLANs: []uint16{7},
		SrcIP: netip.MustParseAddr("2001:db8::1"), DstIP: netip.MustParseAddr("2001:db8::2"), Protocol: 17, TTL: 9,
		SrcPort: 1000, DstPort: 2000, Payload: 3000}, 96)
	if len(frame) != 96 {
		t.Fatalf("snap: %d bytes", len(frame))
	}
	b.RawHeader(HeaderProtoEthernet, uint32(n), 4, frame)
	b.EndSample()
	var dec Decoder
	var got FlowSample
	var gotD Datagram
	_, err := dec.Decode(b.Bytes(), handlerFuncs{flow: func(d *Datagram, f *FlowSample) { got, gotD = *f, *d }})
	if err != nil {
		t.Fatal(err)
	}
	if gotD.Agent != netip.MustParseAddr("2001:db8::77") || gotD.SubAgentID != 3 || gotD.SequenceNo != 99 {
		t.Errorf("datagram %+v", gotD)
	}
	if got.SequenceNo != 7 || got.SourceIDIndex != 0x123456 || got.SamplingRate != 2000 || got.Drops != 4 ||
		got.InputPort != 0x3ffffffe || got.OutputFormat != 2 || got.OutputPort != 3 || got.InVLAN != 7 ||
		got.SrcIP != netip.MustParseAddr("2001:db8::1") || got.IPProtocol != 17 || got.SrcPort != 1000 ||
		got.DstPort != 2000 || got.IPTTL != 9 || got.PacketSize != uint32(n) || got.HeaderLen != 96 {
		t.Errorf("sample %+v", got)
	}
	if want := uint32(14 + 4 + 40 + 8 + 3000 + 4); got.PacketSize != want {
		t.Errorf("frame length %d, want %d", got.PacketSize, want)
	}
}

type handlerFuncs struct {
	flow func(*Datagram, *FlowSample)
	cntr func(*Datagram, *CounterSample)
}

func (h handlerFuncs) Flow(d *Datagram, f *FlowSample) {
	if h.flow != nil {
		h.flow(d, f)
	}
}
func (h handlerFuncs) Counters(d *Datagram, c *CounterSample) {
	if h.cntr != nil {
		h.cntr(d, c)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.hex")
	for _, p := range files {
		f.Add(readHex(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var dec Decoder
		h := &countingHandler{}
		d, err := dec.Decode(data, h)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(data) {
				t.Fatalf("error %v: not a DecodeError with an offset inside the datagram", err)
			}
		}
		if d.FlowSamples != h.flows || d.CounterSamples != h.counters {
			t.Fatalf("counts %d/%d vs handler %d/%d", d.FlowSamples, d.CounterSamples, h.flows, h.counters)
		}
	})
}

// benchDatagram is a typical switch datagram: 7 flow samples (expanded,
// extended_switch + 128-byte header) and one counter sample, ~1400 bytes.
func benchDatagram() ([]byte, int) {
	var b Builder
	b.Begin(netip.MustParseAddr("10.1.0.1"), 0, 1, 1)
	p := &Packet{SrcMAC: mac("0c42a1b2c3d4"), DstMAC: mac("f8bc12000001"), VLANs: []uint16{100},
		SrcIP: netip.MustParseAddr("198.51.100.7"), DstIP: netip.MustParseAddr("203.0.113.10"),
		Protocol: 6, TTL: 57, SrcPort: 51514, DstPort: 443, TCPFlags: 0x10, Payload: 1400}
	var frame []byte
	for i := 0; i < 7; i++ {
		var n int
		frame, n = AppendFrame(frame[:0], p, 128)
		b.BeginFlowSample(FlowSampleHeader{Expanded: true, SequenceNo: uint32(i), SourceIDIndex: 17, SamplingRate: 4096, InputPort: 17, OutputPort: 23})
		b.ExtendedSwitch(100, 0, 100, 0)
		b.RawHeader(HeaderProtoEthernet, uint32(n), 4, frame)
		b.EndSample()
	}
	b.BeginCounterSample(CounterSampleHeader{SequenceNo: 1, SourceIDIndex: 17})
	b.GenericInterface(&IfCounters{IfIndex: 17})
	b.EndSample()
	return b.Bytes(), 8
}

func BenchmarkDecode(b *testing.B) {
	data, samples := benchDatagram()
	var dec Decoder
	h := &countingHandler{buf: make([]byte, 0, 512)}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := dec.Decode(data, h); err != nil {
			b.Fatal(err)
		}
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/sec, "datagrams/s")
	b.ReportMetric(float64(b.N*samples)/sec, "samples/s")
}

func BenchmarkEncode(b *testing.B) {
	var w Builder
	p := &Packet{SrcMAC: mac("0c42a1b2c3d4"), DstMAC: mac("f8bc12000001"),
		SrcIP: netip.MustParseAddr("198.51.100.7"), DstIP: netip.MustParseAddr("203.0.113.10"),
		Protocol: 6, TTL: 57, SrcPort: 51514, DstPort: 443, TCPFlags: 0x10, Payload: 1400}
	frame := make([]byte, 0, 256)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		w.Begin(netip.MustParseAddr("10.1.0.1"), 0, 1, 1)
		for i := 0; i < 8; i++ {
			var n int
			frame, n = AppendFrame(frame[:0], p, 128)
			w.BeginFlowSample(FlowSampleHeader{SequenceNo: uint32(i), SamplingRate: 4096})
			w.RawHeader(HeaderProtoEthernet, uint32(n), 4, frame)
			w.EndSample()
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "datagrams/s")
}
