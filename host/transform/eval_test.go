package transform

import (
	"testing"

	"github.com/tidemark/tidemark/host/record"
)

func TestEvalNumbers(t *testing.T) {
	tests := []struct {
		expr string
		want float64
	}{
		{"1 + 2 * 3", 7},
		{"(1 + 2) * 3", 9},
		{"2 - 3 - 4", -5},
		{"8 / 4 / 2", 1},
		{"7 % 3", 1},
		{"1e3 + .5", 1000.5},
		{"bytes", 1500},
		{"bytes + 1", 1501},
		{"1 + bytes", 1501},
		{"bytes - 1", 1499},
		{"10 - bytes", -1490},
		{"bytes * 8", 12000},
		{"8 * bytes", 12000},
		{"bytes / 10", 150},
		{"bytes % 7", 2},
		{"neg % 2", -0.5},
		{"bytes + packets", 1503},
		{"bytes - packets", 1497},
		{"packets * rate", 1536},
		{"bytes / packets", 500},
		{"bytes % packets", 0},
		{"(bytes + 1) + 1", 1502},
		{"(bytes + 1) - 1", 1500},
		{"(bytes + 1) * 2", 3002},
		{"(bytes + 2) / 2", 751},
		{"(bytes + 1) + (packets + 1)", 1505},
		{"(bytes + 1) - (packets + 1)", 1497},
		{"(bytes + 1) * (packets + 1)", 6004},
		{"(bytes + 1) / (packets - 2)", 1501},
		{"(bytes + 1) % (packets + 1)", 1},
		{"-bytes", -1500},
		{"- -2", 2},
		{"-(bytes + 1)", -1501},
		{"(bytes + 1) * 8 / 8", 1501},
		{"dev.temp * 2", 43},
		{"sum(1, 2, 3)", 6},
		{"sum(bytes, packets, rate)", 2015},
		{"minus(bytes, 500)", 1000},
		{"mult(packets, rate)", 1536},
		{"mult(2, 3, 4)", 24},
		{"div(bytes, packets)", 500},
		{"min(3, bytes, 2)", 2},
		{"max(3, bytes, 2)", 1500},
		{"min(neg, zero)", -2.5},
		{"max(neg, zero)", 0},
		{"round(2.5)", 3},
		{"round(neg)", -3},
		{"round(dev.temp)", 22},
		{"floor(neg)", -3},
		{"ceil(dev.temp)", 22},
		{"abs(neg)", 2.5},
		{"if(bytes > 1000, 1, 2)", 1},
		{"if(bytes < 1000, 1, 2)", 2},
		{"if(true, bytes, 0)", 1500},
		{"num(numtext)", 42.5},
		{"num('7') + 1", 8},
		{"num(bytes)", 1500},
		{"num(bytes > 1)", 1},
		{"asn(geo_ip)", 15169},
		{"asn(src_ip)", 0},
		{"bytes > 1", 1}, // bools become 1/0 in a row
		{"bytes < 1", 0},
		{"true", 1},
	}
	for _, tt := range tests {
		kind, n, _, err := evalField(t, fullGeo, tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if kind != record.Number || n != tt.want {
			t.Errorf("%s = %v (%s), want %v", tt.expr, n, kind, tt.want)
		}
	}
}

func TestEvalStrings(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"proto", "TCP"},
		{"'lit'", "lit"},
		{"lower(proto)", "tcp"},
		{"lower('abc')", "abc"},
		{"upper(lower(proto))", "TCP"},
		{"lower(name)", "ünïcode"},
		{"upper(name)", "ÜNÏCODE"},
		{"upper('a\xffb')", "A\xffB"},
		{"concat(proto)", "TCP"},
		{"concat(proto, '/')", "TCP/"},
		{"concat(lower(proto), '/', str(port), '/', upper('x'))", "tcp/443/X"},
		{"concat(lower(proto), lower(proto))", "tcptcp"},
		{"str(1.5)", "1.5"},
		{"str(bytes)", "1500"},
		{"str(neg)", "-2.5"},
		{"str(1e20)", "1e+20"},
		{"str(bytes > 1)", "true"},
		{"str(zero > 1)", "false"},
		{"str(proto)", "TCP"},
		{"subnet(src_ip, 24)", "10.1.2.0/24"},
		{"subnet(src_ip, 8)", "10.0.0.0/8"},
		{"subnet(src_ip, 32)", "10.1.2.3/32"},
		{"subnet(dst_ip, 48)", "2001:db8:abcd::/48"},
		{"subnet(src_ip, 16, 64)", "10.1.0.0/16"},
		{"subnet(dst_ip, 16, 64)", "2001:db8:abcd:12::/64"},
		{"subnet('::ffff:10.9.8.7', 24)", "10.9.8.0/24"},
		{"subnet('fe80::1%eth0', 64)", "fe80::/64"},
		{"port_name(port)", "https"},
		{"port_name(22)", "ssh"},
		{"port_name(53)", "dns"},
		{"port_name(80)", "http"},
		{"port_name(12345)", "12345"},
		{"port_name(-1)", "-1"},
		{"port_name(80.5)", "80.5"},
		{"country(geo_ip)", "US"},
		{"country('2620:fe::fe')", "CH"},
		{"country(src_ip)", ""},
		{"country(bad)", ""},
		{"city(geo_ip)", "Mountain View"},
		{"as_org(geo_ip)", "GOOGLE"},
		{"if(proto == 'TCP', 'tcp', 'other')", "tcp"},
		{"if(proto != 'TCP', 'tcp', lower(name))", "ünïcode"},
	}
	for _, tt := range tests {
		kind, _, s, err := evalField(t, fullGeo, tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if kind != record.String || s != tt.want {
			t.Errorf("%s = %q (%s), want %q", tt.expr, s, kind, tt.want)
		}
	}
}

// TestEvalWhere evaluates every comparison and boolean operator as a where
// clause, in both the specialised and the generic shapes.
func TestEvalWhere(t *testing.T) {
	tests := []struct {
		where string
		want  bool
	}{
		{"bytes == 1500", true},
		{"bytes != 1500", false},
		{"bytes < 1500", false},
		{"bytes <= 1500", true},
		{"bytes > 1499", true},
		{"bytes >= 1501", false},
		{"1500 == bytes", true},
		{"1000 < bytes", true},
		{"1000 > bytes", false},
		{"1500 <= bytes", true},
		{"1501 >= bytes", true},
		{"bytes + 0 == 1500", true},
		{"bytes + 0 != 1500", false},
		{"bytes + 0 < packets", false},
		{"bytes + 0 <= packets", false},
		{"bytes + 0 > packets", true},
		{"bytes + 0 >= packets", true},
		{"packets == 3 and rate == 512", true},
		{"proto == 'TCP'", true},
		{"'TCP' == proto", true},
		{"proto != 'TCP'", false},
		{"lower(proto) == 'tcp'", true},
		{"lower(proto) != 'tcp'", false},
		{"proto < 'UDP'", true},
		{"proto <= 'TCP'", true},
		{"proto > 'TCP'", false},
		{"proto >= 'TCO'", true},
		{"proto == name", false},
		{"empty == ''", true},
		{"(bytes > 1) == true", true},
		{"(bytes > 1) != (packets > 1)", false},
		{"true and false", false},
		{"true or false", true},
		{"bytes > 1 and packets > 1", true},
		{"bytes > 1 && packets > 5", false},
		{"bytes > 5000 or packets > 1", true},
		{"bytes > 5000 || packets > 5", false},
		{"not bytes > 1", false},
		{"!(bytes > 1)", false},
		{"not bytes > 1 or true", true},
		{"bytes > 1 and true", true},
		{"bytes > 1 or false", true},
		{"false and bytes / zero > 1", false}, // short-circuit: no div_zero
		{"zero != 0 and bytes / zero > 1", false},
		{"zero == 0 or bytes / zero > 1", true},
		{"port in [80, 443]", true},
		{"port not in [80, 443]", false},
		{"port in [1, 2, 3, 4, 5, 6, 7, 8, 9, 443]", true},
		{"port not in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", true},
		{"proto in ['tcp', 'TCP']", true},
		{"lower(proto) in ['udp', 'icmp']", false},
		{"proto in ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'TCP']", true},
		{"proto not in ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']", true},
		{"port in [400 + 43]", true},
		{"if(bytes > 1, packets == 3, false)", true},
		{"country(geo_ip) == 'US'", true},
		{"dev.temp > 20", true},
	}
	for _, tt := range tests {
		for _, spec := range []bool{true, false} {
			specialize = spec
			s, row := testSchema()
			p, err := Compile(s, tt.where, []string{"tagged = 1"}, fullGeo)
			if err != nil {
				t.Errorf("%s: %v", tt.where, err)
				continue
			}
			row.Grow(s.Len())
			keep, rerr := p.Run(row)
			if rerr != nil {
				t.Errorf("%s: %v", tt.where, rerr)
				continue
			}
			if keep != tt.want {
				t.Errorf("%s (specialize=%v): keep = %v, want %v", tt.where, spec, keep, tt.want)
			}
			slot, _, _ := s.Lookup("tagged")
			if ran := row.Num[slot] == 1; ran != keep {
				t.Errorf("%s: fields ran = %v, keep = %v", tt.where, ran, keep)
			}
		}
	}
	specialize = true
}

func TestEvalGenericShapesMatch(t *testing.T) {
	exprs := []string{"bytes + 1", "1 + bytes", "bytes * packets", "bytes - packets", "bytes / packets", "(bytes + 1) * 2", "bytes / 10"}
	for _, e := range exprs {
		specialize = true
		_, a, _, _ := evalField(t, Env{}, e)
		specialize = false
		_, b, _, _ := evalField(t, Env{}, e)
		if a != b {
			t.Errorf("%s: specialised %v, generic %v", e, a, b)
		}
	}
	specialize = true
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		expr, reason, msg string
	}{
		{"bytes / zero", "div_zero", "fields[0] (out): division by zero at offset 12"},
		{"div(bytes, zero)", "div_zero", "fields[0] (out): division by zero at offset 6"},
		{"bytes % zero", "div_zero", "fields[0] (out): division by zero at offset 12"},
		{"(bytes + 1) / (zero * 2)", "div_zero", "fields[0] (out): division by zero at offset 18"},
		{"lower(str(bytes / zero))", "div_zero", "fields[0] (out): division by zero at offset 22"},
		{"num(bad)", "type", `fields[0] (out): num() at offset 6: "abc" is not a finite number`},
		{"num(empty)", "type", `fields[0] (out): num() at offset 6: "" is not a finite number`},
		{"subnet(bad, 24)", "ip", `fields[0] (out): subnet() at offset 6: "abc" is not an IP address`},
		{"subnet(src_ip, 40)", "ip", "fields[0] (out): subnet() at offset 6: prefix length 40 too large for IPv4"},
	}
	for _, tt := range tests {
		s, row := testSchema()
		p, err := Compile(s, "", []string{"out = " + tt.expr}, Env{})
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		row.Grow(s.Len())
		keep, rerr := p.Run(row)
		if keep || rerr == nil {
			t.Errorf("%s: keep=%v err=%v, want a %s error", tt.expr, keep, rerr, tt.reason)
			continue
		}
		if rerr.Reason != tt.reason || rerr.Msg != tt.msg {
			t.Errorf("%s: got %s %q, want %s %q", tt.expr, rerr.Reason, rerr.Msg, tt.reason, tt.msg)
		}
	}
}

func TestWhereErrorStopsRecord(t *testing.T) {
	s, row := testSchema()
	p, err := Compile(s, "bytes / zero > 1", []string{"x = 1"}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	row.Grow(s.Len())
	keep, rerr := p.Run(row)
	if keep || rerr == nil || rerr.Reason != "div_zero" || rerr.Msg != "where: division by zero at offset 6" {
		t.Fatalf("keep=%v err=%v", keep, rerr)
	}
}

func TestGeoMisses(t *testing.T) {
	s, row := testSchema()
	p, err := Compile(s, "", []string{"a = country(src_ip)", "b = country(geo_ip)", "c = asn(bad)", "d = city(dst_ip)", "e = as_org(empty)"}, fullGeo)
	if err != nil {
		t.Fatal(err)
	}
	row.Grow(s.Len())
	for range 3 {
		if keep, rerr := p.Run(row); !keep || rerr != nil {
			t.Fatal(keep, rerr)
		}
	}
	if got := p.GeoMisses(); got != 12 {
		t.Fatalf("GeoMisses = %d, want 12", got)
	}
}

func TestFieldsSeeEarlierFields(t *testing.T) {
	s, row := testSchema()
	p, err := Compile(s, "", []string{
		"bits = bytes * 8",
		"kbits = bits / 1000",
		"bytes = bytes * 2", // overwrite an input slot of the same kind
		"src = src_ip",      // rename
		"label = concat(lower(proto), ':', str(kbits))",
	}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	row.Grow(s.Len())
	if keep, rerr := p.Run(row); !keep || rerr != nil {
		t.Fatal(keep, rerr)
	}
	get := func(name string) (float64, string) {
		i, _, ok := s.Lookup(name)
		if !ok {
			t.Fatalf("no field %s", name)
		}
		return row.Num[i], string(row.Str[i])
	}
	if n, _ := get("kbits"); n != 12 {
		t.Errorf("kbits = %v", n)
	}
	if n, _ := get("bytes"); n != 3000 {
		t.Errorf("bytes = %v", n)
	}
	if _, s := get("src"); s != "10.1.2.3" {
		t.Errorf("src = %q", s)
	}
	if _, s := get("label"); s != "tcp:12" {
		t.Errorf("label = %q", s)
	}
	if want := 15 + 4; s.Len() != want {
		t.Errorf("schema has %d fields, want %d", s.Len(), want)
	}
}

func TestFunctions(t *testing.T) {
	s, _ := testSchema()
	p, err := Compile(s, "lower(proto) == 'tcp'", []string{"a = subnet(src_ip, 24)", "b = country(geo_ip)", "c = lower(proto)", "d = bytes * 8"}, fullGeo)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Functions()
	want := []string{"country", "lower", "subnet"}
	if len(got) != len(want) {
		t.Fatalf("Functions() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Functions() = %v, want %v", got, want)
		}
	}
}

func TestScratchResultsAreCapped(t *testing.T) {
	s, row := testSchema()
	p, err := Compile(s, "", []string{"a = lower(proto)", "b = upper(name)"}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	row.Grow(s.Len())
	if _, rerr := p.Run(row); rerr != nil {
		t.Fatal(rerr)
	}
	ai, _, _ := s.Lookup("a")
	bi, _, _ := s.Lookup("b")
	a := row.Str[ai]
	_ = append(a, "XXXX"...) // must not overwrite b, which follows a in Scratch
	if string(row.Str[bi]) != "ÜNÏCODE" || cap(a) != len(a) {
		t.Fatalf("b = %q after appending to a (cap %d)", row.Str[bi], cap(a))
	}
}

func TestPortNameTable(t *testing.T) {
	for p := 0; p <= 65535; p++ {
		want, wok := portNames[uint16(p)]
		got, ok := portName(uint16(p))
		if ok != wok || string(got) != string(want) {
			t.Fatalf("port %d: got %q %v, want %q %v", p, got, ok, want, wok)
		}
	}
	if len(portNames) < 40 {
		t.Fatalf("only %d port names", len(portNames))
	}
}
