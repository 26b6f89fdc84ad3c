package service

import (
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/geoip"
)

func openGeoIPFiles(cfg *config.Config) (geoDB, error) {
	return geoip.Open(geoip.Config{Country: cfg.GeoIP.Country, City: cfg.GeoIP.City, ASN: cfg.GeoIP.ASN, CacheSize: cfg.GeoIP.CacheSize})
}
