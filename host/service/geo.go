package service

import (
	"net/netip"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/transform"
)

// geoDB is what the service needs of a GeoIP handle.
type geoDB interface {
	transform.GeoIP
	Close() error
}

// openGeoIP opens the configured databases (nil when none is configured).
func openGeoIP(cfg *config.Config) (geoDB, error) {
	if cfg.GeoIP.Country == "" && cfg.GeoIP.City == "" && cfg.GeoIP.ASN == "" {
		return nil, nil
	}
	return openGeoIPFiles(cfg)
}

func geoEnv(g geoDB) transform.GeoIP {
	if g == nil {
		return nil
	}
	return g
}

// declared answers Has from the config alone; lookups find nothing. It
// lets `check` type-check enrichment before the data files exist.
type declared struct{ country, city, asn bool }

func declaredGeoIP(cfg *config.Config) geoDB {
	return declared{country: cfg.GeoIP.Country != "" || cfg.GeoIP.City != "", city: cfg.GeoIP.City != "", asn: cfg.GeoIP.ASN != ""}
}

func (d declared) Country(netip.Addr) (string, bool) { return "", false }
func (d declared) City(netip.Addr) (string, bool)    { return "", false }
func (d declared) ASN(netip.Addr) (uint32, bool)     { return 0, false }
func (d declared) ASOrg(netip.Addr) (string, bool)   { return "", false }
func (d declared) Close() error                      { return nil }
func (d declared) Has(fn string) bool {
	switch fn {
	case "country":
		return d.country
	case "city":
		return d.city
	case "asn", "as_org":
		return d.asn
	}
	return false
}
