package service

import (
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
