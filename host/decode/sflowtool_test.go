package decode

import (
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"testing"
)

const (
	flowLine  = "FLOW,10.0.0.1,3,5,00163e1a2b3c,0050569a0b0c,0x0800,100,200,192.0.2.10,198.51.100.20,6,0x00,64,44321,443,0x18,1514,1500,1024"
	flowLine6 = "FLOW,10.0.0.1,3,5,00163e1a2b3c,0050569a0b0c,0x86dd,0,0,2001:0db8:0000:0000:0000:0000:0000:0001,2001:db8::2,17,0xb8,63,53,5353,0x00,200,180,512"
	cntrLine  = "CNTR,10.0.0.2,7,6,10000000000,1,3,123456789012,1000,20,5,0,1,0,987654321,900,10,2,0,0,2"
)

func TestSflowtoolSchema(t *testing.T) {
	d := mustNew(t, Config{Format: "sflowtool"})
	s := d.Schema()
	if d.HasTime() {
		t.Error("HasTime() = true, sflowtool lines carry no time")
	}
	// type + 19 FLOW fields + 19 CNTR fields (agent_ip is shared)
	if s.Len() != 39 {
		t.Errorf("schema has %d fields, want 39: %v", s.Len(), s.Names())
	}
	if f := s.Field(0); f.Name != "type" {
		t.Errorf("field 0 = %q, want type", f.Name)
	}
	for name, kind := range map[string]string{"src_ip": "string", "agent_ip": "string", "src_mac": "number", "tcp_flags": "number", "if_in_octets": "number"} {
		_, k, ok := s.Lookup(name)
		if !ok || k.String() != kind {
			t.Errorf("%s: kind %v ok %v, want %s", name, k, ok, kind)
		}
	}
	if got := SflowtoolSchema().Len(); got != s.Len() {
		t.Errorf("SflowtoolSchema().Len() = %d, want %d", got, s.Len())
	}
}

func TestSflowtoolValid(t *testing.T) {
	d := mustNew(t, Config{Format: "sflowtool"})
	cases := []struct {
		name string
		line string
		want want
	}{
		{"flow", flowLine, want{
			"type": "FLOW", "agent_ip": "10.0.0.1", "input_port": 3.0, "output_port": 5.0,
			"src_mac": float64(0x00163e1a2b3c), "dst_mac": float64(0x0050569a0b0c), "eth_type": float64(0x0800),
			"in_vlan": 100.0, "out_vlan": 200.0, "src_ip": "192.0.2.10", "dst_ip": "198.51.100.20",
			"ip_protocol": 6.0, "ip_tos": 0.0, "ip_ttl": 64.0, "src_port": 44321.0, "dst_port": 443.0,
			"tcp_flags": float64(0x18), "packet_size": 1514.0, "ip_size": 1500.0, "sampling_rate": 1024.0,
			"if_index": 0.0, "if_in_octets": 0.0,
		}},
		{"flow ipv6 full form", flowLine6, want{
			"src_ip": "2001:0db8:0000:0000:0000:0000:0000:0001", "dst_ip": "2001:db8::2",
			"eth_type": float64(0x86dd), "ip_tos": float64(0xb8),
		}},
		{"old IP: prefix", "FLOW,10.0.0.1,3,5,00163e1a2b3c,0050569a0b0c,0x0800,0,0,IP: 192.0.2.10,198.51.100.20,6,0x00,64,1,2,0x02,60,46,1", want{
			"src_ip": "192.0.2.10", "tcp_flags": 2.0,
		}},
		{"non-IP frame", "FLOW,10.0.0.1,3,5,00163e1a2b3c,ffffffffffff,0x0806,0,0,-,-,0,0x00,0,0,0,0x00,64,50,1", want{
			"src_ip": "", "dst_mac": float64(0xffffffffffff), "eth_type": float64(0x0806),
		}},
		{"negative port, CRLF", "FLOW,10.0.0.1,-2147483648,1073741823,00163e1a2b3c,0050569a0b0c,0x0800,0,0,1.2.3.4,5.6.7.8,6,0x00,64,1,2,0x02,60,46,1\r\n", want{
			"input_port": -2147483648.0, "output_port": 1073741823.0, "sampling_rate": 1.0,
		}},
		{"counters", cntrLine, want{
			"type": "CNTR", "agent_ip": "10.0.0.2", "if_index": 7.0, "if_type": 6.0, "if_speed": 1e10,
			"if_direction": 1.0, "if_status": 3.0, "if_in_octets": 123456789012.0, "if_in_ucast_pkts": 1000.0,
			"if_in_multicast_pkts": 20.0, "if_in_broadcast_pkts": 5.0, "if_in_discards": 0.0, "if_in_errors": 1.0,
			"if_in_unknown_protos": 0.0, "if_out_octets": 987654321.0, "if_out_ucast_pkts": 900.0,
			"if_out_multicast_pkts": 10.0, "if_out_broadcast_pkts": 2.0, "if_out_discards": 0.0,
			"if_out_errors": 0.0, "if_promiscuous_mode": 2.0, "src_ip": "", "packet_size": 0.0,
		}},
		{"real capture (host/sflow fixture)", "CNTR,10.1.248.22,522,6,10000000000,1,3,327115139476491,3406683542,436422,123,0,0,0,57184089570462,1449403761,7363268,592113,0,0,0", want{
			"agent_ip": "10.1.248.22", "if_index": 522.0, "if_in_octets": 327115139476491.0, "if_out_octets": 57184089570462.0, "if_promiscuous_mode": 0.0,
		}},
		{"counter past 2^63", "CNTR,10.0.0.2,7,6,10000000000,1,3,18446744073709551615,1000,20,5,0,1,0,987654321,900,10,2,0,0,2", want{
			"if_in_octets": 18446744073709551615.0,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row, err := decodeLine(d, c.line)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			checkRow(t, d, row, c.want)
			if row.Time != 0 {
				t.Errorf("Time = %d, want 0", row.Time)
			}
		})
	}
}

func TestSflowtoolMalformed(t *testing.T) {
	d := mustNew(t, Config{Format: "sflowtool"})
	cases := []struct {
		name, line, reason, inMsg string
	}{
		{"empty", "", ReasonEmpty, "empty"},
		{"blank", "  \r\n", ReasonEmpty, "empty"},
		{"no comma", "hello", ReasonColumns, "hello"},
		{"unknown tag", "FLOX,1,2", ReasonColumns, `"FLOX"`},
		{"short flow", "FLOW,10.0.0.1,3,5", ReasonColumns, "4 columns, want 20"},
		{"long flow", flowLine + ",7", ReasonColumns, "more than 20"},
		{"short cntr", "CNTR,10.0.0.2,7,6", ReasonColumns, "want 21"},
		{"bad int", "FLOW,10.0.0.1,3x,5,00163e1a2b3c,0050569a0b0c,0x0800,100,200,192.0.2.10,198.51.100.20,6,0x00,64,44321,443,0x18,1514,1500,1024", ReasonNumber, `column 2 (input_port): not an integer "3x"`},
		{"empty int", "FLOW,10.0.0.1,,5,00163e1a2b3c,0050569a0b0c,0x0800,100,200,192.0.2.10,198.51.100.20,6,0x00,64,44321,443,0x18,1514,1500,1024", ReasonNumber, "input_port"},
		{"bad hex", "FLOW,10.0.0.1,3,5,00163e1a2b3c,0050569a0b0c,0x08g0,100,200,192.0.2.10,198.51.100.20,6,0x00,64,44321,443,0x18,1514,1500,1024", ReasonNumber, `column 6 (eth_type): not a hex number "0x08g0"`},
		{"bad mac", "FLOW,10.0.0.1,3,5,00163e1a2b3,0050569a0b0c,0x0800,100,200,192.0.2.10,198.51.100.20,6,0x00,64,44321,443,0x18,1514,1500,1024", ReasonMAC, "column 4 (src_mac)"},
		{"bad ip", "FLOW,10.0.0.1,3,5,00163e1a2b3c,0050569a0b0c,0x0800,100,200,192.0.2.300,198.51.100.20,6,0x00,64,44321,443,0x18,1514,1500,1024", ReasonIP, `column 9 (src_ip): not an IP address "192.0.2.300"`},
		{"ip zone", "FLOW,fe80::1%eth0,3,5,00163e1a2b3c,0050569a0b0c,0x0800,100,200,192.0.2.1,198.51.100.20,6,0x00,64,44321,443,0x18,1514,1500,1024", ReasonIP, "agent_ip"},
		{"bad cntr", "CNTR,10.0.0.2,7,6,fast,1,3,123456789012,1000,20,5,0,1,0,987654321,900,10,2,0,0,2", ReasonNumber, "if_speed"},
		{"fraction", "CNTR,10.0.0.2,7,6,10000000000,1,3,1.5,1000,20,5,0,1,0,987654321,900,10,2,0,0,2", ReasonNumber, `column 7 (if_in_octets): not an integer "1.5"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeLine(d, c.line)
			if err == nil {
				t.Fatalf("decode %q: no error, want reason %q", c.line, c.reason)
			}
			if err.Reason != c.reason {
				t.Errorf("reason = %q (%v), want %q", err.Reason, err, c.reason)
			}
			if !contains(err.Msg, c.inMsg) {
				t.Errorf("msg %q does not mention %q", err.Msg, c.inMsg)
			}
		})
	}
}

func TestSflowtoolZeroAllocs(t *testing.T) {
	d := mustNew(t, Config{Format: "sflowtool"})
	for _, line := range []string{flowLine, flowLine6, cntrLine} {
		assertZeroAllocs(t, d, line)
	}
}

func TestSflowtoolConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Format: "sflowtool", Columns: []Column{{Name: "a"}}}, "columns: the sflowtool format"},
		{Config{Format: "sflowtool", TimeField: "t"}, "time_field"},
		{Config{Format: "xml"}, `format: unknown format "xml"`},
		{Config{}, "format: missing"},
	} {
		_, err := New(c.cfg)
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", c.cfg, err, c.want)
		}
	}
}

func TestIsIPv4MatchesNetip(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
		"1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4a", "1000.1.1.1", "10.0.0.10", "", "a.b.c.d", "1.2.3.04", "100.200.250.199"} {
		_, err := netip.ParseAddr(s)
		want := err == nil
		if got := isIPv4([]byte(s)); got != want {
			t.Errorf("isIPv4(%q) = %v, netip says %v", s, got, want)
		}
	}
}

// The README's field table is what users read; keep it in step with the
// schema.
func TestSflowtoolREADMETable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (\\d+) \\| `([a-z_]+)` \\| (number|string) \\|")
	s := SflowtoolSchema()
	matches := row.FindAllStringSubmatch(string(readme), -1)
	if len(matches) != s.Len() {
		t.Fatalf("README lists %d sflowtool fields, schema has %d", len(matches), s.Len())
	}
	for _, m := range matches {
		slot, _ := strconv.Atoi(m[1])
		f := s.Field(slot)
		if f.Name != m[2] || f.Kind.String() != m[3] {
			t.Errorf("README slot %s: %s %s; schema: %s %s", m[1], m[2], m[3], f.Name, f.Kind)
		}
	}
}
