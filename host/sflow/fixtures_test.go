package sflow

import (
	"bytes"
	"encoding/hex"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the constructed testdata/*.hex fixtures from their builders")

func mac(s string) [6]byte {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 6 {
		panic("bad mac " + s)
	}
	return [6]byte(b)
}

// constructed are the fixtures built with the encoder from the sFlow v5
// layouts of typical agents (see testdata/README.md). Their expected lines in
// testdata/NAME.lines were written by hand from the values below, not by
// running the decoder.
var constructed = map[string]func() []byte{
	"switch-expanded": func() []byte {
		var b Builder
		b.Begin(netip.MustParseAddr("10.1.0.1"), 1, 4711, 864000123)
		b.BeginFlowSample(FlowSampleHeader{Expanded: true, SequenceNo: 901, SourceIDIndex: 17, SamplingRate: 4096,
			SamplePool: 3690496, InputPort: 17, OutputPort: 23})
		frame, n := AppendFrame(nil, &Packet{SrcMAC: mac("0c42a1b2c3d4"), DstMAC: mac("f8bc12000001"), VLANs: []uint16{100},
			SrcIP: netip.MustParseAddr("198.51.100.7"), DstIP: netip.MustParseAddr("203.0.113.10"),
			Protocol: 6, TOS: 0x28, TTL: 57, SrcPort: 51514, DstPort: 443, TCPFlags: 0x18, Payload: 1200}, 128)
		b.RawHeader(HeaderProtoEthernet, uint32(n), 4, frame)
		b.ExtendedSwitch(100, 0, 200, 5)
		b.EndSample()
		b.BeginCounterSample(CounterSampleHeader{Expanded: true, SequenceNo: 77, SourceIDIndex: 17})
		b.GenericInterface(&IfCounters{IfIndex: 17, IfType: 6, IfSpeed: 10000000000, IfDirection: 1, IfStatus: 3,
			IfInOctets: 918273645546, IfInUcastPkts: 123456789, IfInMulticastPkts: 1001, IfInBroadcastPkts: 12,
			IfInDiscards: 3, IfInErrors: 1, IfOutOctets: 5000000000, IfOutUcastPkts: 4000000, IfOutMulticastPkts: 7,
			IfOutBroadcastPkts: 2, IfOutDiscards: 9, IfOutErrors: 0, IfPromiscuousMode: 2})
		b.Ethernet(&EthernetCounters{FCSErrors: 4, LateCollisions: 1})
		b.EndSample()
		return b.Bytes()
	},
	"hsflowd-counters": func() []byte {
		var b Builder
		b.Begin(netip.MustParseAddr("192.0.2.50"), 100000, 12, 3600500)
		// host-sflow: a counter sample for the host (class 2) with only
		// host_descr / host_cpu style records, which the line format has no
		// columns for, then one for its interface with generic counters.
		b.BeginCounterSample(CounterSampleHeader{SequenceNo: 5, SourceIDClass: 2, SourceIDIndex: 1})
		b.Record(2000, append([]byte{0, 0, 0, 4}, []byte("web1\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")...))
		b.Record(2003, make([]byte, 68))
		b.EndSample()
		b.BeginCounterSample(CounterSampleHeader{SequenceNo: 5, SourceIDIndex: 2})
		b.GenericInterface(&IfCounters{IfIndex: 2, IfType: 6, IfSpeed: 1000000000, IfDirection: 1, IfStatus: 3,
			IfInOctets: 2198347, IfInUcastPkts: 18233, IfInMulticastPkts: 4, IfOutOctets: 9238472, IfOutUcastPkts: 20111})
		b.EndSample()
		return b.Bytes()
	},
	"ipv6-agent": func() []byte {
		var b Builder
		b.Begin(netip.MustParseAddr("2001:db8:0:1::a"), 0, 1, 1000)
		frame, n := AppendFrame(nil, &Packet{SrcMAC: mac("525400aabbcc"), DstMAC: mac("525400ddeeff"),
			SrcIP: netip.MustParseAddr("192.0.2.53"), DstIP: netip.MustParseAddr("100.64.7.9"),
			Protocol: 17, TTL: 64, SrcPort: 53, DstPort: 40123, Payload: 140}, 128)
		b.BeginFlowSample(FlowSampleHeader{SequenceNo: 1, SourceIDIndex: 3, SamplingRate: 1000, SamplePool: 1000,
			InputPort: 3, OutputPort: 0x3fffffff})
		b.RawHeader(HeaderProtoEthernet, uint32(n), 4, frame)
		b.EndSample()
		return b.Bytes()
	},
	"ipv6-traffic": func() []byte {
		var b Builder
		b.Begin(netip.MustParseAddr("10.9.8.7"), 0, 33, 5000)
		frame, n := AppendFrame(nil, &Packet{SrcMAC: mac("001b21000001"), DstMAC: mac("001b21000002"),
			SrcIP: netip.MustParseAddr("2001:db8:10::5"), DstIP: netip.MustParseAddr("2a00:1450:4001:82a::200e"),
			Protocol: 6, TOS: 0xb8, TTL: 61, SrcPort: 34567, DstPort: 443, TCPFlags: 0x02, Payload: 0}, 128)
		b.BeginFlowSample(FlowSampleHeader{SequenceNo: 2, SourceIDIndex: 8, SamplingRate: 512, SamplePool: 1024,
			InputPort: 8, OutputPort: 9})
		b.RawHeader(HeaderProtoEthernet, uint32(n), 4, frame)
		b.EndSample()
		b.BeginFlowSample(FlowSampleHeader{SequenceNo: 3, SourceIDIndex: 8, SamplingRate: 512, SamplePool: 1536,
			InputPort: 8, OutputPort: 9})
		b.SampledIP(1280, 17, netip.MustParseAddr("2001:db8:10::5"), netip.MustParseAddr("2001:db8:20::1"), 5353, 5353, 0, 0)
		b.EndSample()
		return b.Bytes()
	},
	"vlan-icmp": func() []byte {
		var b Builder
		b.Begin(netip.MustParseAddr("172.31.0.2"), 0, 900, 77000)
		frame, n := AppendFrame(nil, &Packet{SrcMAC: mac("aabbcc000001"), DstMAC: mac("aabbcc000002"), VLANs: []uint16{300, 42},
			SrcIP: netip.MustParseAddr("203.0.113.99"), DstIP: netip.MustParseAddr("198.51.100.1"),
			Protocol: 1, TTL: 250, SrcPort: 8, DstPort: 0, Payload: 56}, 128)
		b.BeginFlowSample(FlowSampleHeader{SequenceNo: 10, SourceIDIndex: 5, SamplingRate: 256, SamplePool: 2560,
			InputPort: 5, OutputPort: 6})
		b.RawHeader(HeaderProtoEthernet, uint32(n), 4, frame)
		b.EndSample()
		// A non-first fragment: IP fields but no ports.
		frag, fn := AppendFrame(nil, &Packet{SrcMAC: mac("aabbcc000001"), DstMAC: mac("aabbcc000002"),
			SrcIP: netip.MustParseAddr("203.0.113.99"), DstIP: netip.MustParseAddr("198.51.100.1"),
			Protocol: 17, TTL: 250, FragmentOffset: 185, Payload: 400}, 128)
		b.BeginFlowSample(FlowSampleHeader{SequenceNo: 11, SourceIDIndex: 5, SamplingRate: 256, SamplePool: 2816,
			InputPort: 5, OutputPort: 6})
		b.RawHeader(HeaderProtoEthernet, uint32(fn), 4, frag)
		b.EndSample()
		// A sampled IPv4 record (no raw header): no MACs, no TTL.
		b.BeginFlowSample(FlowSampleHeader{SequenceNo: 12, SourceIDIndex: 5, SamplingRate: 256, SamplePool: 3072,
			InputPort: 5, OutputPort: 6})
		b.SampledIP(84, 1, netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("203.0.113.99"), 0, 0, 0, 0)
		b.EndSample()
		return b.Bytes()
	},
	"unknown-records": func() []byte {
		var b Builder
		b.Begin(netip.MustParseAddr("10.0.0.1"), 0, 1, 1)
		b.RawSample(5, []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 1, 0x0f, 0, 0, 0, 0})
		b.BeginFlowSample(FlowSampleHeader{SequenceNo: 1, SourceIDIndex: 1, SamplingRate: 100, SamplePool: 100, InputPort: 1, OutputPort: 2})
		b.Record(1002, []byte{0, 0, 0, 1, 10, 0, 0, 254, 0, 0, 0, 24, 0, 0, 0, 16}) // extended router: skipped
		b.SampledEthernet(1518, mac("020000000001"), mac("020000000002"), 0x0806)
		b.EndSample()
		return b.Bytes()
	},
}

func init() {
	sw := constructed["switch-expanded"]
	// Cut inside the counter sample: the flow sample still decodes.
	constructed["truncated-in-counters"] = func() []byte { b := sw(); return b[:len(b)-40] }
	// Cut inside the first sample's packet header.
	constructed["truncated-in-header"] = func() []byte { return sw()[:100] }
	constructed["bad-version"] = func() []byte { b := bytes.Clone(sw()); b[3] = 4; return b }
	constructed["bad-address-type"] = func() []byte { b := bytes.Clone(sw()); b[7] = 3; return b }
	// The extended switch record announces 20 bytes but holds 16.
	constructed["bad-record-length"] = func() []byte {
		b := bytes.Clone(sw())
		i := bytes.Index(b, []byte{0, 0, 0x03, 0xe9, 0, 0, 0, 16})
		b[i+7] = 20
		return b
	}
	constructed["bad-header-protocol"] = func() []byte {
		b := bytes.Clone(constructed["ipv6-agent"]())
		b[len(b)-128-16+3] = 99 // header protocol of the only raw header record
		return b
	}
}

func readHex(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var clean strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func writeHex(path, comment string, b []byte) error {
	var s strings.Builder
	s.WriteString("# " + comment + "\n")
	for i := 0; i < len(b); i += 16 {
		end := min(i+16, len(b))
		for j := i; j < end; j += 4 {
			if j > i {
				s.WriteByte(' ')
			}
			s.WriteString(hex.EncodeToString(b[j:min(j+4, end)]))
		}
		s.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(s.String()), 0o644)
}

// TestConstructedFixturesMatchBuilder keeps the committed hex files and the
// encoder in step: a change to either shows up here.
func TestConstructedFixturesMatchBuilder(t *testing.T) {
	for name, build := range constructed {
		path := filepath.Join("testdata", name+".hex")
		got := build()
		if *update {
			if err := writeHex(path, "constructed by host/sflow/fixtures_test.go ("+name+"); see README.md", got); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want := readHex(t, path)
		if hex.EncodeToString(got) != hex.EncodeToString(want) {
			t.Errorf("%s: builder output differs from %s (run go test -run Fixtures -update after checking why)", name, path)
		}
	}
}

// TestFixtures decodes every testdata/*.hex and compares with NAME.lines
// (the sflowtool -l output) and, for broken datagrams, NAME.err (the error).
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.hex")
	if err != nil || len(files) < 10 {
		t.Fatalf("fixtures: %v (found %d)", err, len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(path, ".hex")
		t.Run(filepath.Base(name), func(t *testing.T) {
			data := readHex(t, path)
			lines, err := Lines(data)
			wantLines := ""
			if b, rerr := os.ReadFile(name + ".lines"); rerr == nil {
				wantLines = string(b)
			} else if !os.IsNotExist(rerr) {
				t.Fatal(rerr)
			}
			got := strings.Join(lines, "\n")
			if len(lines) > 0 {
				got += "\n"
			}
			if got != wantLines {
				t.Errorf("lines:\n%s\nwant:\n%s", got, wantLines)
			}
			wantErr, rerr := os.ReadFile(name + ".err")
			switch {
			case rerr == nil && err == nil:
				t.Errorf("want error %q, got none", strings.TrimSpace(string(wantErr)))
			case rerr == nil && err.Error() != strings.TrimSpace(string(wantErr)):
				t.Errorf("error %q, want %q", err, strings.TrimSpace(string(wantErr)))
			case rerr != nil && err != nil:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
}
