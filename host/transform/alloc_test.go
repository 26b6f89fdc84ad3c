package transform

import (
	"testing"

	"github.com/tidemark/tidemark/host/record"
)

// sflowSchema is the shape of a decoded sflowtool record (a subset).
func sflowSchema() *record.Schema {
	return record.MustSchema(
		record.Field{Name: "src_ip", Kind: record.String},
		record.Field{Name: "dst_ip", Kind: record.String},
		record.Field{Name: "ip_protocol", Kind: record.Number},
		record.Field{Name: "src_port", Kind: record.Number},
		record.Field{Name: "dst_port", Kind: record.Number},
		record.Field{Name: "packet_size", Kind: record.Number},
		record.Field{Name: "sampling_rate", Kind: record.Number},
		record.Field{Name: "in_if", Kind: record.String},
	)
}

func sflowRow(s *record.Schema, i int) *record.Row {
	row := record.NewRow(s)
	ips := []string{"8.8.8.8", "10.1.2.3", "2620:fe::fe", "192.168.77.1"}
	set := func(name string, v any) {
		slot, _, _ := s.Lookup(name)
		switch v := v.(type) {
		case float64:
			row.Num[slot] = v
		case string:
			row.Str[slot] = []byte(v)
		}
	}
	set("src_ip", ips[i%len(ips)])
	set("dst_ip", ips[(i+1)%len(ips)])
	set("ip_protocol", 6.0)
	set("src_port", 51000.0)
	set("dst_port", 443.0)
	set("packet_size", 1500.0)
	set("sampling_rate", 512.0)
	set("in_if", "Eth0/1")
	return row
}

// realisticWhere and realisticFields are the program the allocation test
// and the benchmarks run.
const realisticWhere = `ip_protocol in [6, 17] and packet_size > 0`

var realisticFields = []string{
	"src_net = subnet(src_ip, 24, 64)",
	"iface = lower(in_if)",
	"src_country = country(src_ip)",
	"bytes = packet_size * sampling_rate",
	"service = port_name(dst_port)",
}

func TestRunAllocatesNothing(t *testing.T) {
	s := sflowSchema()
	p, err := Compile(s, realisticWhere, realisticFields, fullGeo)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]*record.Row, 4)
	for i := range rows {
		rows[i] = sflowRow(s, i)
		rows[i].Grow(s.Len())
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		row := rows[i%len(rows)]
		i++
		row.Scratch = row.Scratch[:0]
		if keep, rerr := p.Run(row); !keep || rerr != nil {
			t.Fatalf("keep=%v err=%v", keep, rerr)
		}
	})
	if allocs != 0 {
		t.Fatalf("Run allocates %v times per record, want 0", allocs)
	}
	// The values are right, not just cheap.
	row := rows[0]
	row.Scratch = row.Scratch[:0]
	p.Run(row)
	for name, want := range map[string]string{"src_net": "8.8.8.0/24", "iface": "eth0/1", "src_country": "US", "service": "https"} {
		slot, _, _ := s.Lookup(name)
		if got := string(row.Str[slot]); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if slot, _, _ := s.Lookup("bytes"); row.Num[slot] != 768000 {
		t.Errorf("bytes = %v", row.Num[slot])
	}
	if p.GeoMisses() == 0 {
		t.Error("10.1.2.3 and 192.168.77.1 are unknown, yet no geo miss was counted")
	}
}

// TestRunAllocatesNothingEveryFunction covers the remaining functions and
// operators on the success path.
func TestRunAllocatesNothingEveryFunction(t *testing.T) {
	s, row := testSchema()
	p, err := Compile(s, "proto in ['a','b','c','d','e','f','g','h','TCP'] and not bytes < 1 or port == 1", []string{
		"a = concat(lower(proto), '/', str(port), upper(name), str(neg))",
		"b = if(bytes % 7 > 1, round(dev.temp), floor(neg)) + ceil(neg) + abs(neg) + min(bytes, packets) + max(1, 2, rate)",
		"c = sum(bytes, packets) - minus(rate, 1) * mult(2, bytes) / div(bytes, packets)",
		"d = num(numtext) + asn(geo_ip)",
		"e = concat(city(geo_ip), as_org(geo_ip), subnet(dst_ip, 48), port_name(port), port_name(9999))",
		"f = -bytes / (packets - 1) + (bytes + packets) * (rate - packets)",
	}, fullGeo)
	if err != nil {
		t.Fatal(err)
	}
	row.Grow(s.Len())
	allocs := testing.AllocsPerRun(1000, func() {
		row.Scratch = row.Scratch[:0]
		if keep, rerr := p.Run(row); !keep || rerr != nil {
			t.Fatalf("keep=%v err=%v", keep, rerr)
		}
	})
	if allocs != 0 {
		t.Fatalf("Run allocates %v times per record, want 0", allocs)
	}
}

// TestRunConcurrent runs one program from several goroutines on their own
// rows; `go test -race` checks that Run shares no mutable state.
func TestRunConcurrent(t *testing.T) {
	s := sflowSchema()
	p, err := Compile(s, realisticWhere, realisticFields, fullGeo)
	if err != nil {
		t.Fatal(err)
	}
	const workers, records = 4, 200
	errs := make(chan string, workers)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			row := sflowRow(s, w)
			row.Grow(s.Len())
			slot, _, _ := s.Lookup("src_net")
			want := []string{"8.8.8.0/24", "10.1.2.0/24", "2620:fe::/64", "192.168.77.0/24"}[w%4]
			for range records {
				row.Scratch = row.Scratch[:0]
				if keep, rerr := p.Run(row); !keep || rerr != nil || string(row.Str[slot]) != want {
					errs <- string(row.Str[slot])
					return
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Errorf("wrong src_net %q", e)
	}
	// Two of the four addresses are unknown to the stub: misses are counted
	// atomically, none lost.
	if got := p.GeoMisses(); got != 2*records {
		t.Errorf("GeoMisses = %d, want %d", got, 2*records)
	}
}
