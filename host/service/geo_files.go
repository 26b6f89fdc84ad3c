package service

import (
	"fmt"

	"github.com/tidemark/tidemark/host/config"
)

// openGeoIPFiles is replaced once host/geoip lands.
func openGeoIPFiles(cfg *config.Config) (geoDB, error) {
	return nil, fmt.Errorf("geoip: not available in this build")
}
