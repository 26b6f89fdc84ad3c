package transform

import (
	"net/netip"
	"testing"

	"github.com/tidemark/tidemark/host/record"
)

// stubGeo stands in for host/geoip inside unit tests of the language only;
// the pipeline tests use real .mmdb files.
type stubGeo struct {
	has map[string]bool
}

var (
	google = netip.MustParseAddr("8.8.8.8")
	quad9  = netip.MustParseAddr("2620:fe::fe")
)

func (g stubGeo) Country(ip netip.Addr) (string, bool) {
	switch ip {
	case google:
		return "US", true
	case quad9:
		return "CH", true
	}
	return "", false
}

func (g stubGeo) City(ip netip.Addr) (string, bool) {
	if ip == google {
		return "Mountain View", true
	}
	return "", false
}

func (g stubGeo) ASN(ip netip.Addr) (uint32, bool) {
	if ip == google {
		return 15169, true
	}
	return 0, false
}

func (g stubGeo) ASOrg(ip netip.Addr) (string, bool) {
	if ip == google {
		return "GOOGLE", true
	}
	return "", false
}

func (g stubGeo) Has(function string) bool { return g.has == nil || g.has[function] }

var fullGeo = Env{GeoIP: stubGeo{}}

// testSchema returns a fresh schema and a row filled with known values.
func testSchema() (*record.Schema, *record.Row) {
	s := record.MustSchema(
		record.Field{Name: "bytes", Kind: record.Number},
		record.Field{Name: "packets", Kind: record.Number},
		record.Field{Name: "rate", Kind: record.Number},
		record.Field{Name: "zero", Kind: record.Number},
		record.Field{Name: "neg", Kind: record.Number},
		record.Field{Name: "port", Kind: record.Number},
		record.Field{Name: "dev.temp", Kind: record.Number},
		record.Field{Name: "proto", Kind: record.String},
		record.Field{Name: "src_ip", Kind: record.String},
		record.Field{Name: "dst_ip", Kind: record.String},
		record.Field{Name: "geo_ip", Kind: record.String},
		record.Field{Name: "name", Kind: record.String},
		record.Field{Name: "numtext", Kind: record.String},
		record.Field{Name: "bad", Kind: record.String},
		record.Field{Name: "empty", Kind: record.String},
	)
	return s, fillRow(s, record.NewRow(s))
}

func fillRow(s *record.Schema, r *record.Row) *record.Row {
	r.Reset()
	r.Grow(s.Len())
	nums := map[string]float64{"bytes": 1500, "packets": 3, "rate": 512, "zero": 0, "neg": -2.5, "port": 443, "dev.temp": 21.5}
	strs := map[string]string{"proto": "TCP", "src_ip": "10.1.2.3", "dst_ip": "2001:db8:abcd:12::1",
		"geo_ip": "8.8.8.8", "name": "Ünïcode", "numtext": " 42.5 ", "bad": "abc", "empty": ""}
	for name, v := range nums {
		i, _, _ := s.Lookup(name)
		r.Num[i] = v
	}
	for name, v := range strs {
		i, _, _ := s.Lookup(name)
		r.Str[i] = []byte(v)
	}
	return r
}

// evalField compiles `out = expr` and runs it on the test row.
func evalField(t *testing.T, env Env, expr string) (record.Kind, float64, string, *record.Error) {
	t.Helper()
	s, _ := testSchema()
	p, err := Compile(s, "", []string{"out = " + expr}, env)
	if err != nil {
		t.Fatalf("%s: compile: %v", expr, err)
	}
	row := fillRow(s, record.NewRow(s))
	keep, rerr := p.Run(row)
	if rerr != nil {
		return 0, 0, "", rerr
	}
	if !keep {
		t.Fatalf("%s: record dropped without a where clause", expr)
	}
	slot, kind, _ := s.Lookup("out")
	return kind, row.Num[slot], string(row.Str[slot]), nil
}
