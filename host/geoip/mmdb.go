package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"
)

// openMMDB opens a MaxMind DB file. A database type geoip2-golang knows
// (GeoIP2-*, GeoLite2-*, DBIP-*) is read through it; any other type (the
// ip-location-db files say "city ipv4", "country ipvAll", ...) is probed:
// the keys of its first records tell the flat ip-location-db layout from a
// MaxMind-style nested one.
func openMMDB(path string) (source, error) {
	g, err := geoip2.Open(path)
	var unknown geoip2.UnknownDatabaseTypeError
	switch {
	case err == nil:
		return newMaxMindSource(g), nil
	case errors.As(err, &unknown):
		g.Close()
	default:
		return nil, fmt.Errorf("not an mmdb file (%w)", err)
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("not an mmdb file (%w)", err)
	}
	s := &mmdbSource{r: r, v4only: r.Metadata.IPVersion == 4}
	if err := s.probe(); err != nil {
		r.Close()
		return nil, fmt.Errorf("database type %q: %w", r.Metadata.DatabaseType, err)
	}
	return s, nil
}

// maxMindSource reads GeoIP2/GeoLite2 files through geoip2-golang.
type maxMindSource struct {
	g      *geoip2.Reader
	caps   fn
	city   bool // City() has the data (City and Enterprise types)
	v4only bool
}

func newMaxMindSource(g *geoip2.Reader) *maxMindSource {
	s := &maxMindSource{g: g, v4only: g.Metadata().IPVersion == 4}
	probe := netip.IPv4Unspecified()
	var invalid geoip2.InvalidMethodError
	// geoip2 allows City() on Country files for compatibility, but those
	// have no city names.
	dbType := g.Metadata().DatabaseType
	if _, err := g.City(probe); !errors.As(err, &invalid) && !strings.Contains(dbType, "Country") {
		s.caps |= fnCity | fnCountry
		s.city = true
	}
	if _, err := g.Country(probe); !errors.As(err, &invalid) {
		s.caps |= fnCountry
	}
	if _, err := g.ASN(probe); !errors.As(err, &invalid) {
		s.caps |= fnASN | fnOrg
	}
	return s
}

func (s *maxMindSource) answers() fn { return s.caps }
func (s *maxMindSource) kind() string {
	return fmt.Sprintf("maxmind %q", s.g.Metadata().DatabaseType)
}
func (s *maxMindSource) Close() error { return s.g.Close() }

func (s *maxMindSource) lookup(ip netip.Addr, want fn, out *result) error {
	if s.v4only && ip.Is6() {
		return nil
	}
	switch {
	case want&(fnCountry|fnCity) != 0 && s.city:
		c, err := s.g.City(ip)
		if err != nil {
			return err
		}
		out.setCountry(c.Country.ISOCode)
		out.setCity(c.City.Names.English)
	case want&fnCountry != 0 && s.caps&fnCountry != 0:
		c, err := s.g.Country(ip)
		if err != nil {
			return err
		}
		out.setCountry(c.Country.ISOCode)
	case want&(fnASN|fnOrg) != 0 && s.caps&fnASN != 0:
		a, err := s.g.ASN(ip)
		if err != nil {
			return err
		}
		out.setASN(a.AutonomousSystemNumber, a.AutonomousSystemOrganization)
	}
	return nil
}

// mmdbSource reads other layouts through maxminddb-golang.
type mmdbSource struct {
	r      *maxminddb.Reader
	caps   fn
	nested bool // MaxMind-style records under an unknown database type
	v4only bool
}

// flatRecord is the ip-location-db layout, plus the IPinfo spellings
// (IPinfo Lite: country_code, asn "AS15169", as_name; IPinfo country_asn:
// country holds the code).
type flatRecord struct {
	CountryCode string `maxminddb:"country_code"`
	Country     string `maxminddb:"country"`
	City        string `maxminddb:"city"`
	ASN         uint64 `maxminddb:"autonomous_system_number"`
	Org         string `maxminddb:"autonomous_system_organization"`
	ASNText     any    `maxminddb:"asn"` // "AS15169" in IPinfo files
	ASName      string `maxminddb:"as_name"`
}

func (rec *flatRecord) fill(out *result) {
	cc := rec.CountryCode
	if cc == "" && isCountryCode(rec.Country) {
		cc = rec.Country
	}
	out.setCountry(cc)
	out.setCity(rec.City)
	asn, org := uint(rec.ASN), rec.Org
	if asn == 0 {
		asn = parseASN(rec.ASNText)
	}
	if org == "" {
		org = rec.ASName
	}
	out.setASN(asn, org)
}

// isCountryCode is true for an ISO 3166-1 alpha-2 code ("US"), as opposed
// to the country name IPinfo Lite puts under "country".
func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// parseASN reads "AS15169", "15169" or a number.
func parseASN(v any) uint {
	switch v := v.(type) {
	case string:
		v = strings.TrimPrefix(strings.TrimPrefix(v, "AS"), "as")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return 0
		}
		return uint(n)
	case uint64:
		return uint(v)
	case uint32:
		return uint(v)
	case uint16:
		return uint(v)
	case int:
		if v > 0 {
			return uint(v)
		}
	}
	return 0
}

// nestedRecord is the part of the MaxMind layout used here.
type nestedRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names struct {
			English string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	ASN uint64 `maxminddb:"autonomous_system_number"`
	Org string `maxminddb:"autonomous_system_organization"`
}

// probeRecords is how many records probe reads to learn the layout.
const probeRecords = 64

func (s *mmdbSource) probe() error {
	n := 0
	for res := range s.r.Networks() {
		if err := res.Err(); err != nil {
			return fmt.Errorf("reading records: %w", err)
		}
		var m map[string]any
		if err := res.Decode(&m); err != nil {
			return fmt.Errorf("reading records: %w", err)
		}
		for k, v := range m {
			_, isMap := v.(map[string]any)
			switch k {
			case "country_code":
				s.caps |= fnCountry
			case "country", "registered_country":
				if isMap {
					s.caps |= fnCountry
					s.nested = true
				} else if str, _ := v.(string); isCountryCode(str) {
					s.caps |= fnCountry
				}
			case "city":
				s.caps |= fnCity
				s.nested = s.nested || isMap
			case "autonomous_system_number", "asn":
				s.caps |= fnASN
			case "autonomous_system_organization", "as_name":
				s.caps |= fnOrg
			}
		}
		if n++; n == probeRecords {
			break
		}
	}
	if n == 0 {
		return errors.New("no records")
	}
	return nil
}

func (s *mmdbSource) answers() fn { return s.caps }
func (s *mmdbSource) kind() string {
	layout := "flat"
	if s.nested {
		layout = "nested"
	}
	return fmt.Sprintf("%s %q", layout, s.r.Metadata.DatabaseType)
}
func (s *mmdbSource) Close() error { return s.r.Close() }

func (s *mmdbSource) lookup(ip netip.Addr, want fn, out *result) error {
	if s.v4only && ip.Is6() {
		return nil
	}
	res := s.r.Lookup(ip)
	if err := res.Err(); err != nil {
		return err
	}
	if !res.Found() {
		return nil
	}
	if s.nested {
		var rec nestedRecord
		if err := res.Decode(&rec); err != nil {
			return err
		}
		out.setCountry(rec.Country.ISOCode)
		out.setCity(rec.City.Names.English)
		out.setASN(uint(rec.ASN), rec.Org)
		return nil
	}
	var rec flatRecord
	if err := res.Decode(&rec); err != nil {
		return err
	}
	rec.fill(out)
	return nil
}

func (r *result) setCountry(c string) {
	if c != "" {
		r.country = c
		r.found |= fnCountry
	}
}

func (r *result) setCity(c string) {
	if c != "" {
		r.city = c
		r.found |= fnCity
	}
}

func (r *result) setASN(asn uint, org string) {
	if asn != 0 && asn <= 1<<32-1 {
		r.asn = uint32(asn)
		r.found |= fnASN
	}
	if org != "" {
		r.org = org
		r.found |= fnOrg
	}
}
